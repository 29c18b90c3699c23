#!/usr/bin/python3
"""aliased-dir.py - one file by two spellings, through a symlinked directory
made before the trace began (as /lib -> usr/lib on a merged-/usr system).

USAGE  aliased-dir.py DIR

DIR/link is a symlink to DIR/real, made by the caller, and DIR/real/sub/y.dat
and DIR/real/sub2/y.dat exist. A child process maps DIR/link/sub/lib.so
(written by the parent), DIR/link/sub/x.dat and DIR/link/sub/y.dat, as ld.so
maps a library by the path it was given. Then the parent replaces
DIR/real/sub/lib.so by a rename over it (as dpkg installs a library),
unlinks DIR/real/sub/x.dat and DIR/real/sub2/y.dat (another file: its
directory differs). The child reads its own /proc/self/maps and writes
DIR/truth.json:

  {"pid": CHILD, "parent": PARENT,
   "deleted": [{"address": "0x7f...", "bytes": 8192, "path": "DIR/real/sub/lib.so"}, ...]}

`deleted` lists the child's mappings the kernel printed "(deleted)", by the
path it printed (the real one) without " (deleted)".
"""
import json
import mmap
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deleted_maps import deleted_mappings  # noqa: E402

PAGE = mmap.PAGESIZE
D = sys.argv[1]


def write(path, pages):
    with open(path, 'wb') as f:
        f.write(b'x' * (pages * PAGE))


def mapped(path):
    fd = os.open(path, os.O_RDONLY)
    m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fd)
    return m


write(f'{D}/real/sub/lib.so', 2)
write(f'{D}/real/sub/x.dat', 1)
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
child = os.fork()
if child == 0:
    kept = [mapped(f'{D}/link/sub/{name}') for name in ('lib.so', 'x.dat', 'y.dat')]
    os.write(ready_w, b'r')
    os.read(go_r, 1)
    found = [m for m in deleted_mappings() if m['path'].startswith(D + '/')]
    with open(f'{D}/truth.json', 'w') as out:
        json.dump({'pid': os.getpid(), 'parent': os.getppid(), 'deleted': found}, out)
    os._exit(0)
os.read(ready_r, 1)
write(f'{D}/real/sub/lib.so.new', 3)
os.rename(f'{D}/real/sub/lib.so.new', f'{D}/real/sub/lib.so')
os.unlink(f'{D}/real/sub/x.dat')
os.unlink(f'{D}/real/sub2/y.dat')
os.write(go_w, b'g')
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))

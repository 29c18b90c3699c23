#!/usr/bin/python3
"""symlink-cases.py - files opened through symlinks, each case writing its own truth.

USAGE  symlink-cases.py DIR MODE

Runs MODE in DIR. After each call that removes or replaces a name (unlink,
rename) it reads its own /proc/self/maps, and at the end writes
DIR/truth.json:

  {"pid": 1234,
   "steps": [{"call": "unlink", "paths": ["DIR/link.index"],
              "deleted": [{"address": "0x7f...", "bytes": 8192, "path": "DIR/real/f.index"}]}]}

`deleted` lists the mappings under DIR the kernel printed "(deleted)" right
after that call, by the path it printed (without " (deleted)"). A mapping's
file lost its last name at the first step that lists it. Every mapping stays
live until the program exits.

link-only: DIR/real/f.index, a symlink DIR/link.index -> real/f.index; opens
  the symlink, maps it, closes it, unlinks the symlink only: the file keeps
  its name.
link-and-file: the same, then unlinks DIR/real/f.index: the file is gone at
  that second unlink.
rename-over: the same open and map; renames the symlink to DIR/link2.index
  (the file keeps its name), renames a new file over DIR/real/f.index (the
  mapped file loses its last name there), then unlinks DIR/link2.index.
dir: DIR/link -> real, a symlinked directory: opens DIR/link itself, opens
  a.map relative to that fd, maps it and unlinks DIR/link/a.map; opens
  DIR/link/b.map, maps it and unlinks DIR/real/b.map. Both go (another
  spelling of the same name).
dir-chdir: (second review) DIR/link -> real, a symlinked directory; changes
  into DIR/link, makes the symlink lnk -> f.index there, opens lnk, maps it,
  unlinks lnk (the file keeps its name), then f.index (it is gone).
proc-fd: (second review) opens DIR/real/f.index, opens /proc/self/fd/N of
  that fd, maps the second, closes both and unlinks DIR/real/f.index.
dir-rename: (final review) DIR/link -> real; maps DIR/real/x.bin, renames
  it as DIR/link/x.bin to DIR/link/y.bin (it keeps a name), then unlinks
  DIR/real/y.bin (it is gone).
samebase: DIR/a/f.index -> ../real/f.index (a symlink to a file of the same
  base name in another directory); opens the symlink, maps it, unlinks the
  symlink only: the file keeps its name.
"""
import json
import mmap
import os
import sys

PAGE = mmap.PAGESIZE
D = sys.argv[1]
MODE = sys.argv[2]
steps = []
kept = []


def deleted():
    found = []
    with open('/proc/self/maps') as maps:
        for line in maps:
            fields = line.rstrip('\n').split(None, 5)
            if len(fields) < 6 or not fields[5].endswith(' (deleted)'):
                continue
            path = fields[5][: -len(' (deleted)')]
            if not path.startswith(D + '/'):
                continue
            start, end = (int(x, 16) for x in fields[0].split('-'))
            found.append({'address': hex(start), 'bytes': end - start, 'path': path})
    return found


def step(call, *paths):
    if call == 'unlink':
        os.unlink(paths[0])
    else:
        os.rename(paths[0], paths[1])
    steps.append({'call': call, 'paths': list(paths), 'deleted': deleted()})


def create(path, pages):
    with open(path, 'wb') as f:
        f.write(b'x' * (pages * PAGE))


def mapped(path, pages, dir_fd=None):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644, dir_fd=dir_fd)
    os.ftruncate(fd, pages * PAGE)
    m = mmap.mmap(fd, pages * PAGE)
    os.close(fd)
    kept.append(m)


os.makedirs(f'{D}/real')
if MODE in ('link-only', 'link-and-file', 'rename-over'):
    create(f'{D}/real/f.index', 2)
    os.symlink('real/f.index', f'{D}/link.index')
    mapped(f'{D}/link.index', 2)
    if MODE == 'rename-over':
        step('rename', f'{D}/link.index', f'{D}/link2.index')
        create(f'{D}/real/f.index.new', 1)
        step('rename', f'{D}/real/f.index.new', f'{D}/real/f.index')
        step('unlink', f'{D}/link2.index')
    else:
        step('unlink', f'{D}/link.index')
        if MODE == 'link-and-file':
            step('unlink', f'{D}/real/f.index')
elif MODE == 'dir':
    os.symlink('real', f'{D}/link')
    dfd = os.open(f'{D}/link', os.O_RDONLY)
    mapped('a.map', 1, dir_fd=dfd)
    os.close(dfd)
    step('unlink', f'{D}/link/a.map')
    mapped(f'{D}/link/b.map', 2)
    step('unlink', f'{D}/real/b.map')
elif MODE == 'dir-chdir':
    create(f'{D}/real/f.index', 1)
    os.symlink('real', f'{D}/link')
    os.chdir(f'{D}/link')
    os.symlink('f.index', 'lnk')
    mapped('lnk', 1)
    step('unlink', 'lnk')
    step('unlink', 'f.index')
elif MODE == 'proc-fd':
    create(f'{D}/real/f.index', 2)
    first = os.open(f'{D}/real/f.index', os.O_RDWR)
    mapped(f'/proc/self/fd/{first}', 2)
    os.close(first)
    step('unlink', f'{D}/real/f.index')
elif MODE == 'dir-rename':
    os.symlink('real', f'{D}/link')
    mapped(f'{D}/real/x.bin', 1)
    step('rename', f'{D}/link/x.bin', f'{D}/link/y.bin')
    step('unlink', f'{D}/real/y.bin')
elif MODE == 'samebase':
    create(f'{D}/real/f.index', 3)
    os.makedirs(f'{D}/a')
    os.symlink('../real/f.index', f'{D}/a/f.index')
    mapped(f'{D}/a/f.index', 3)
    step('unlink', f'{D}/a/f.index')
else:
    sys.exit(f'unknown mode {MODE}')

with open(os.path.join(D, 'truth.json'), 'w') as out:
    json.dump({'pid': os.getpid(), 'steps': steps}, out)

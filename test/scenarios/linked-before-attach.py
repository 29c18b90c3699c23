"""Mapped files with hard links made before `capture --pid` attached
(review 32, exactness 1 and 6). For
test/capture-review32-linked-before-attach.test.ts.

USAGE: python3 linked-before-attach.py DIR TRUTH
  DIR/f.dat, DIR/e.dat and DIR/g.dat (8 KiB each) have second names
  f.keep, e.keep and g.keep in another directory, made before the trace (the
  capture's lookup at the exit finds a name left in the same one: review
  82, E1). Maps f.dat
  and e.dat; maps g.dat at 0x0a000000 (below 0x10000000, where maps pads
  its addresses to 8 digits and /proc/PID/map_files does not) and unlinks
  it; prints its pid. At a
  line on stdin: unlinks f.dat itself and prints "unlinked"; at the next
  (a while after the test removed e.dat, out of the trace), writes TRUTH
  {"pid", "mapped": {name: inode} from its own /proc/self/maps}, outside
  DIR (a change to DIR about the exit would leave e.dat's removal undated),
  and exits, its mappings live.
"""
import ctypes
import json
import os
import sys

from deleted_maps import map_and_close, mapped_inodes

directory = os.path.abspath(sys.argv[1])
# By libc's mmap, the fd closed: no fd of theirs is left for strace -y to show "(deleted)" at the exit.
for name in ("f.dat", "e.dat"):
    map_and_close(os.path.join(directory, name), 8192)
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(os.path.join(directory, "g.dat"), os.O_RDWR)
# PROT_READ|PROT_WRITE; MAP_SHARED|MAP_FIXED_NOREPLACE.
if libc.mmap(0x0A000000, 8192, 3, 0x01 | 0x100000, fd, 0) != 0x0A000000:
    sys.exit("could not map g.dat at 0x0a000000")
os.close(fd)
os.unlink(os.path.join(directory, "g.dat"))
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(os.path.join(directory, "f.dat"))
print("unlinked", flush=True)
sys.stdin.readline()
mapped = mapped_inodes(directory)
with open(sys.argv[2], "w") as out:
    json.dump({"pid": os.getpid(), "mapped": mapped}, out)

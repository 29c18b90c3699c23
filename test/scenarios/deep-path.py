"""A mapping of a deleted file whose path the kernel prints whole in
/proc/PID/maps however long it is (review 21's safety review, F4 and F5).

Usage: deep-path.py DIR DEPTH
Makes DEPTH nested directories of 250 characters under DIR/deep (each by a
path relative to the last: no call sees a path past PATH_MAX), maps a 1 MiB
file at the bottom (MAP_SHARED), unlinks it, writes the mapping's address (hex)
to DIR/ready, and sleeps until killed.
"""
import ctypes
import mmap
import os
import sys
import time

d, depth = os.path.abspath(sys.argv[1]), int(sys.argv[2])
os.makedirs(os.path.join(d, 'deep'), exist_ok=True)
os.chdir(os.path.join(d, 'deep'))
name = 'd' * 250
for _ in range(depth):
    os.mkdir(name)
    os.chdir(name)
with open('seg.index', 'wb') as f:
    f.write(b'\0' * (1 << 20))
f = open('seg.index', 'r+b')
m = mmap.mmap(f.fileno(), 1 << 20)
f.close()
os.unlink('seg.index')
address = ctypes.addressof(ctypes.c_char.from_buffer(m))
with open(os.path.join(d, 'ready.tmp'), 'w') as out:
    out.write('%x' % address)
os.rename(os.path.join(d, 'ready.tmp'), os.path.join(d, 'ready'))
time.sleep(600)

"""A process whose /proc/PID/maps takes a while to read: many one-page
mappings of a file under a path some 3.6 KB long, as any user can make them
(review 33 attack, F5). For test/capture-review33-killed-before-tracer.test.ts.

USAGE: python3 slow-maps.py DIR MAPPINGS
  Maps DIR/d…/…/bulk (18 directories of 200 characters) MAPPINGS times, one
  page each, prints its pid, and sleeps until it is killed.
"""
import ctypes
import os
import sys
import time

path = os.path.abspath(sys.argv[1])
for _ in range(18):
    path = os.path.join(path, "d" * 200)
    os.mkdir(path)
path = os.path.join(path, "bulk")
with open(path, "wb") as out:
    out.write(b"x" * 4096)
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(path, os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    # PROT_READ, MAP_PRIVATE: each a mapping of its own (the kernel merges no two mappings of one page at offset 0).
    if libc.mmap(None, 4096, 1, 2, fd, 0) in (None, ctypes.c_void_p(-1).value):
        sys.exit(f"mmap: {os.strerror(ctypes.get_errno())}")
os.close(fd)
print(os.getpid(), flush=True)
while True:
    time.sleep(60)

"""Two files mapped before a capture attaches, replaced by a rename over
each from outside the trace, then let go in the two orders programs use:
a.db unmapped first and its fd closed after (dovecot's cache at logout),
b.db's fd closed while its mapping still lives (a JVM channel closed, its
buffer left to a GC), and unmapped after. Then the program exits at once:
within the second the capture's exit look-up calls "late" (review 44, H1).

USAGE: python3 replaced-then-released.py WORKDIR
  Maps WORKDIR/a.db and WORKDIR/b.db whole (libc's mmap through ctypes,
  shared; the fd kept open: Python's mmap module closes its dup of the fd
  before it unmaps) and prints its pid.
  At a first line on stdin (the files replaced), prints its own
  /proc/self/maps line of each, then lets them go as above, printing
  "released" before it exits.
"""
import ctypes
import mmap
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def unmap(address, size):
    if libc.munmap(address, size) != 0:
        raise OSError(ctypes.get_errno(), "munmap")


work = os.path.abspath(sys.argv[1])
names = [os.path.join(work, name) for name in ("a.db", "b.db")]
fds = [os.open(name, os.O_RDWR) for name in names]
sizes = [os.fstat(fd).st_size for fd in fds]
kept = [libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0) for fd, size in zip(fds, sizes)]
if any(address in (None, ctypes.c_void_p(-1).value) for address in kept):
    raise OSError(ctypes.get_errno(), "mmap")
print(os.getpid(), flush=True)
sys.stdin.readline()
with open("/proc/self/maps") as maps:
    lines = maps.read().splitlines()
for name in names:
    print(next(line for line in lines if (" " + name + " ") in line or line.endswith(" " + name)), flush=True)
# a.db: the mapping goes first, then the fd.
unmap(kept[0], sizes[0])
os.close(fds[0])
# b.db: the fd goes while the mapping lives, then the mapping.
os.close(fds[1])
unmap(kept[1], sizes[1])
print("released", flush=True)

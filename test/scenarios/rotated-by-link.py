"""A log mapped before a capture attaches, rotated by a hard link while the
program holds it (review 44, H2: dovecot's index log: link(log, log.2), then a
new log renamed over log): /proc prints the mapping "(deleted)", yet the file
keeps a name, log.2. Then the program unmaps it, closes its fd, and exits.

USAGE: python3 rotated-by-link.py FILE
  Maps FILE whole (libc's mmap through ctypes, shared), keeping the fd, and
  prints its pid. At a line on stdin (the log rotated), prints its own
  /proc/self/maps line of the mapping, unmaps it, closes the fd and exits.
"""
import ctypes
import mmap
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

name = os.path.abspath(sys.argv[1])
fd = os.open(name, os.O_RDWR)
size = os.fstat(fd).st_size
address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
if address in (None, ctypes.c_void_p(-1).value):
    raise OSError(ctypes.get_errno(), "mmap")
print(os.getpid(), flush=True)
sys.stdin.readline()
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if (" " + name) in line).rstrip("\n"), flush=True)
if libc.munmap(address, size) != 0:
    raise OSError(ctypes.get_errno(), "munmap")
os.close(fd)

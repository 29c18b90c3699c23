"""A file mapped, grown by ftruncate and mapped again without unmapping the
first mapping (Kafka's index resize), then removed by another process while
both mappings live (review 51, A1: an operator's rm of a rolled segment).

USAGE: python3 resized-then-removed.py FILE
  Prints its pid. At the first line on stdin (the capture attached): maps
  FILE (8 KiB, made by the caller; libc's mmap through ctypes, shared, its fd
  kept), grows it to 16 KiB with ftruncate, maps it again, and writes a line.
  At the second (FILE removed): prints its own /proc/self/maps lines of
  FILE, and waits for stdin to close.
"""
import ctypes
import mmap
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]


def map_whole(fd, size):
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    return address


name = os.path.abspath(sys.argv[1])
print(os.getpid(), flush=True)
sys.stdin.readline()
fd = os.open(name, os.O_RDWR)
map_whole(fd, 8192)
os.ftruncate(fd, 16384)
map_whole(fd, 16384)
print("resized", flush=True)
sys.stdin.readline()
with open("/proc/self/maps") as maps:
    for line in maps:
        if (" " + name) in line:
            print(line.rstrip("\n"), flush=True)
print("end", flush=True)
sys.stdin.read()

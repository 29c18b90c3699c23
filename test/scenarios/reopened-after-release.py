"""A file mapped before a capture attaches, released, opened again by its name
and mapped and released once more; then another process removes the name,
and the program exits (review 47, P3: a PostgreSQL backend's dynamic shared
memory segment, removed by a parallel worker the capture does not trace after
the backend's last detach). No mapping ever outlived the file's name.

USAGE: python3 reopened-after-release.py FILE
  Maps FILE whole (libc's mmap through ctypes, shared), closes the fd, and
  prints its pid. At the first line on stdin (the capture attached): unmaps
  it, opens FILE again, maps and unmaps it, closes the fd, and prints the
  inode it mapped first and the one it reached by the name the second time.
  At the second (the name removed): prints its /proc/self/maps lines of FILE
  (none is expected) and an end mark, and exits.
"""
import ctypes
import mmap
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def map_whole(fd, size):
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    return address


def unmap(address, size):
    if libc.munmap(address, size) != 0:
        raise OSError(ctypes.get_errno(), "munmap")


name = os.path.abspath(sys.argv[1])
fd = os.open(name, os.O_RDWR)
first = os.fstat(fd)
address = map_whole(fd, first.st_size)
os.close(fd)
print(os.getpid(), flush=True)

sys.stdin.readline()
unmap(address, first.st_size)
fd = os.open(name, os.O_RDWR)
again = os.fstat(fd)
address = map_whole(fd, again.st_size)
unmap(address, again.st_size)
os.close(fd)
print(first.st_ino, again.st_ino, flush=True)

sys.stdin.readline()
with open("/proc/self/maps") as maps:
    for line in maps:
        if (" " + name) in line:
            print(line.rstrip("\n"), flush=True)
print("end", flush=True)

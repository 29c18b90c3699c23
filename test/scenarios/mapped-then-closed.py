"""A file mapped before a tracer attaches, its fd closed at once (as a JVM's
FileChannel.map, Lucene's MMapDirectory, does), then unlinked while mapped;
and two files never opened here, unlinked too (review 46, L1: `strace -p`
of a Lucene JVM).

USAGE: python3 mapped-then-closed.py DIR
  Maps DIR/seg.idx (8 KiB, made by the caller; libc's mmap through ctypes,
  shared) and closes its fd, and prints its pid. At a line on stdin, unlinks
  DIR/seg.idx, DIR/other1 and DIR/other2 (made by the caller), and prints its
  own /proc/self/maps line of the mapping. Then waits for stdin to close.
"""
import os
import sys

from deleted_maps import mmap_shared

directory = os.path.abspath(sys.argv[1])
segment = os.path.join(directory, "seg.idx")
fd = os.open(segment, os.O_RDWR)
mmap_shared(fd, 8192)
os.close(fd)
print(os.getpid(), flush=True)
sys.stdin.readline()
for name in ("seg.idx", "other1", "other2"):
    os.unlink(os.path.join(directory, name))
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(segment + " (deleted)")).rstrip("\n"), flush=True)
sys.stdin.read()

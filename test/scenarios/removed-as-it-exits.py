"""A program that removes a file it maps as it exits, the mapping live: a
JVM's hsperfdata file (review 46, L4).

USAGE: python3 removed-as-it-exits.py FILE
  Maps FILE whole (Python's mmap module, shared) and prints its pid. At a
  line on stdin, unlinks FILE, prints its own /proc/self/maps line of the
  mapping (deleted now), and exits with the mapping live.
"""
import mmap
import os
import sys

name = os.path.abspath(sys.argv[1])
fd = os.open(name, os.O_RDWR)
kept = mmap.mmap(fd, 0)
os.close(fd)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(name)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(name + " (deleted)")).rstrip("\n"), flush=True)
os._exit(0)

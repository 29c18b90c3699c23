"""A mapped file given a second name, then both names removed, the mapping
kept (review 47, P4: SQLite's database under `capture --pid`). /proc prints
the mapping by the name it was made by, not the last one removed.

USAGE: python3 linked-then-removed.py WORKDIR
  Prints its pid, waits for a line on stdin, then maps WORKDIR/db whole
  (Python's mmap module, shared), links it as WORKDIR/db.2, unlinks
  WORKDIR/db, then WORKDIR/db.2, and prints the line of its own
  /proc/self/maps for the mapping. Then waits for stdin to close.
"""
import mmap
import os
import sys

work = os.path.abspath(sys.argv[1])
first, second = os.path.join(work, "db"), os.path.join(work, "db.2")
print(os.getpid(), flush=True)
sys.stdin.readline()
fd = os.open(first, os.O_RDWR)
kept = mmap.mmap(fd, 0)
os.close(fd)
os.link(first, second)
os.unlink(first)
os.unlink(second)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(first + " (deleted)")).rstrip("\n"), flush=True)
sys.stdin.read()

"""A file mapped and held open before a tracer attaches, then unlinked while
mapped (review 47, P1: SQLite under `strace -p`), and another file, held by
nothing, unlinked too.

USAGE: python3 held-before-attach.py DIR
  Opens DIR/db.sqlite (8 KiB, made by the caller) and maps it (Python's mmap
  module, shared), keeping the fd, and prints its pid. At a line on stdin,
  unlinks DIR/db.sqlite and DIR/other (made by the caller, never opened
  here), prints its own /proc/self/maps line of the mapping, and closes the
  fd (whose -y annotation then says "(deleted)"). Then waits for stdin to close.
"""
import mmap
import os
import sys

directory = os.path.abspath(sys.argv[1])
db = os.path.join(directory, "db.sqlite")
fd = os.open(db, os.O_RDWR)
kept = mmap.mmap(fd, 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(db)
os.unlink(os.path.join(directory, "other"))
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(db + " (deleted)")).rstrip("\n"), flush=True)
os.close(fd)
sys.stdin.read()

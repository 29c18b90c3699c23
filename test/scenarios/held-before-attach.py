"""A file mapped and held open before a tracer attaches, then unlinked while
mapped (review 47, P1: SQLite under `strace -p`), and another file, held by
nothing, unlinked too.

USAGE: python3 held-before-attach.py DIR [child|elsewhere|memfd]
  Opens DIR/db.sqlite (8 KiB, made by the caller) and maps it (Python's mmap
  module, shared), keeping the fd, and prints its pid. At a line on stdin,
  unlinks DIR/db.sqlite and DIR/other (made by the caller, never opened
  here), prints its own /proc/self/maps line of the mapping, and closes the
  fd (whose -y annotation then says "(deleted)"). Then waits for stdin to
  close. With `child`, a fork child does the unlinks and closes its copy of
  the fd, and exits; the parent prints the line once it has (review 49, D1).
  With `elsewhere`, it unlinks nothing: the caller removes DIR/db.sqlite
  before the line on stdin (review 64, F-3: a file replaced by a process the
  trace does not follow).
  With `memfd`, it maps a memfd ("pulse-shm") instead, unlinks nothing,
  prints its maps line of it and closes its fd (shown "(deleted)", as every
  memfd is) at the line on stdin (code review 68, F1).
"""
import mmap
import os
import sys

directory = os.path.abspath(sys.argv[1])
memfd = sys.argv[2:] == ["memfd"]
db = "/memfd:pulse-shm" if memfd else os.path.join(directory, "db.sqlite")
if memfd:
    fd = os.memfd_create("pulse-shm")
    os.ftruncate(fd, 8192)
else:
    fd = os.open(db, os.O_RDWR)
kept = mmap.mmap(fd, 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
by_child = sys.argv[2:] == ["child"]
elsewhere = sys.argv[2:] in (["elsewhere"], ["memfd"])
child = os.fork() if by_child else 0
if elsewhere:
    pass
elif child == 0:
    os.unlink(db)
    os.unlink(os.path.join(directory, "other"))
    if by_child:
        os.close(fd)
        os._exit(0)
else:
    os.waitpid(child, 0)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(db + " (deleted)")).rstrip("\n"), flush=True)
if not by_child:
    os.close(fd)
sys.stdin.read()

"""A program that maps the file it was given on its standard input (`prog <
FILE`, opened by the shell that started it, before any trace) and removes
that file by its name, while a child it forked maps it too.

USAGE: python3 mapped-stdin.py FILE OTHER WORKDIR
  Forks a child; each maps its stdin whole (Python's mmap module, read-only,
  shared). The parent then puts OTHER on fd 0 (dup2 of a new open of it) and
  removes OTHER, which nothing maps: no leak. Then it unlinks FILE: both
  mappings of it outlive it. Each writes the "(deleted)" lines of its own
  /proc/self/maps after that: WORKDIR/truth.json as {"pid", "child",
  "parent": [...], "childDeleted": [...]}.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

path, other, work = sys.argv[1], sys.argv[2], sys.argv[3]
mapped_r, mapped_w = os.pipe()
removed_r, removed_w = os.pipe()
child = os.fork()
if child == 0:
    kept = mmap.mmap(0, 0, access=mmap.ACCESS_READ)
    os.write(mapped_w, b"m")
    os.read(removed_r, 1)
    with open(os.path.join(work, "child.json"), "w") as out:
        json.dump(deleted_mappings(), out)
    os._exit(0)
os.read(mapped_r, 1)
kept = mmap.mmap(0, 0, access=mmap.ACCESS_READ)
fd = os.open(other, os.O_RDONLY)
os.dup2(fd, 0)
os.close(fd)
os.unlink(other)
os.unlink(path)
parent = deleted_mappings()
os.write(removed_w, b"r")
os.waitpid(child, 0)
with open(os.path.join(work, "child.json")) as done:
    child_deleted = json.load(done)
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "child": child, "parent": parent, "childDeleted": child_deleted}, out)

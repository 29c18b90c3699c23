"""A program that maps the file it was given on its standard input (`prog <
FILE`, opened by the shell that started it, before any trace) and removes
that file by its name, while a child it forked maps it too.

USAGE: python3 mapped-stdin.py FILE WORKDIR [WAIT_FOR]
  Forks a child; each maps its stdin whole (Python's mmap module, read-only,
  shared). The parent then unlinks FILE: both mappings outlive it. Each
  writes the "(deleted)" lines of its own /proc/self/maps after the unlink:
  WORKDIR/truth.json as {"pid", "child", "parent": [...], "childDeleted":
  [...]}. With WAIT_FOR, the parent waits (60 s at most) for that file to
  exist before it exits: a capture's snapshot of its fds, which it reads once
  the command runs.
"""
import json
import mmap
import os
import sys
import time

from deleted_maps import deleted_mappings

path, work = sys.argv[1], sys.argv[2]
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
os.unlink(path)
parent = deleted_mappings()
os.write(removed_w, b"r")
os.waitpid(child, 0)
with open(os.path.join(work, "child.json")) as done:
    child_deleted = json.load(done)
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "child": child, "parent": parent, "childDeleted": child_deleted}, out)
if len(sys.argv) > 3:
    deadline = time.monotonic() + 60
    while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
        time.sleep(0.05)

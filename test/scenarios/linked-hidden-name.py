"""A mapped file's hard link made before the trace, linked again during it
and every name removed (review 32 attack, F1: under bpftrace the link of the
name the trace did not know made a file of its own, the removals of both its
names were tied to that one, and the mapped file's last name went unseen).
For test/capture-review26-bpftrace.test.ts.

USAGE: python3 linked-hidden-name.py DIR
  DIR/a (8 KiB) and its hard link DIR/b are made before the trace. Opens
  DIR/a, maps it, links DIR/b as DIR/c, unlinks DIR/a, DIR/b and DIR/c, and
  writes to DIR/truth.json {"pid", "nlink" (fstat's, after the unlinks),
  "deleted": [...]} from its own /proc/self/maps; it exits with the mapping
  live.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = os.path.abspath(sys.argv[1])
a, b, c = (os.path.join(directory, name) for name in "abc")
fd = os.open(a, os.O_RDWR)
kept = mmap.mmap(fd, 8192)
os.link(b, c)
for name in (a, b, c):
    os.unlink(name)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "nlink": os.fstat(fd).st_nlink, "deleted": deleted_mappings()}, out)

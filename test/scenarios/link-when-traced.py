"""A process that gives a mapped file a second name the moment a tracer
attaches, before `capture --pid` counts the links of its mapped files
(review 33 attack, F2). For test/capture-review33-link-when-traced.test.ts.

USAGE: python3 link-when-traced.py DIR
  Maps DIR/seg (8 KiB, MAP_SHARED, by libc, the fd closed) and prints its
  pid; polls its own TracerPid; once traced, links DIR/seg2 to seg and
  prints "linked". At a line on stdin: unlinks seg2, then seg, and writes
  DIR/truth.json {"pid", "deleted": [...] (its own /proc/self/maps),
  "nlink": the mapped file's links, through /proc/self/map_files}. At the
  next, unmaps seg and exits.
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close, traced, unmap

directory = os.path.abspath(sys.argv[1])
seg = os.path.join(directory, "seg")
address = map_and_close(seg, 8192)
print(os.getpid(), flush=True)


while not traced():
    pass
os.link(seg, seg + "2")
print("linked", flush=True)
sys.stdin.readline()
os.unlink(seg + "2")
os.unlink(seg)
nlink = os.stat(f"/proc/self/map_files/{address:x}-{address + 8192:x}").st_nlink
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings(), "nlink": nlink}, out)
sys.stdin.readline()
unmap(address, 8192)

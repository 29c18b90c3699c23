"""A mapped file whose printed name went before `capture --pid` attached,
kept by a hard link, in a process that then removes names the trace ties
to no mapped file (review 34, exactness F1). For
test/capture-review34-hidden-link-untied.test.ts.

USAGE: python3 hidden-link-untied.py DIR
  DIR/seg (8 KiB) has a second name, DIR/seg.keep, made before. Maps seg
  (by libc, the fd closed), unlinks seg (seg.keep keeps the file), and
  prints its pid. At a line on stdin: renames the directory DIR/other to
  DIR/other2 and unlinks DIR/junk, which it never opened, then prints its
  truth as one JSON line {"pid", "deleted": [...] (its own /proc/self/maps),
  "nlink": the mapped file's links, through /proc/self/map_files}, and lives
  on, its mapping kept, until stdin ends.
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close

directory = os.path.abspath(sys.argv[1])
seg = os.path.join(directory, "seg")
address = map_and_close(seg, 8192)
os.unlink(seg)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.rename(os.path.join(directory, "other"), os.path.join(directory, "other2"))
os.unlink(os.path.join(directory, "junk"))
nlink = os.stat(f"/proc/self/map_files/{address:x}-{address + 8192:x}").st_nlink
print(json.dumps({"pid": os.getpid(), "deleted": deleted_mappings(), "nlink": nlink}), flush=True)
sys.stdin.read()

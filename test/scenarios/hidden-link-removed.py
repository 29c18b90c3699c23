"""A mapped file kept by a hard link made before `capture --pid` attached,
whose printed name the process removes under the trace and whose other name
another process removes (review 33 attack, F9). For
test/capture-review33-hidden-link-removed.test.ts.

USAGE: python3 hidden-link-removed.py DIR
  DIR/seg (8 KiB) has a second name, DIR/seg.keep, made before. Maps seg
  (by libc, the fd closed) and prints its pid. At a line on stdin: unlinks
  seg and prints "unlinked". At the next (once seg.keep is gone too): prints
  its truth as one JSON line {"pid", "deleted": [...] (its own
  /proc/self/maps), "nlink": the mapped file's links, through
  /proc/self/map_files}, and lives on, its mapping kept, until stdin ends.
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close

directory = os.path.abspath(sys.argv[1])
seg = os.path.join(directory, "seg")
address = map_and_close(seg, 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(seg)
print("unlinked", flush=True)
sys.stdin.readline()
nlink = os.stat(f"/proc/self/map_files/{address:x}-{address + 8192:x}").st_nlink
print(json.dumps({"pid": os.getpid(), "deleted": deleted_mappings(), "nlink": nlink}), flush=True)
sys.stdin.read()

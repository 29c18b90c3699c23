"""Files a process maps, removed or replaced by OTHER processes while it
lives, for test/maps-end-removed-by-others.test.ts: run it under
`orphanmap capture --pid`, the removers outside the trace.

USAGE: python3 removed-by-others.py DIR TRUTH.json
  Maps DIR/sed.dat, DIR/replaced.dat, DIR/removed.dat and DIR/untouched.dat
  shared (8192 bytes of "a" each), says "ready"; on "go" maps DIR/new.dat
  (made then, so the trace shows it mapped) and says "mapped"; on "maps"
  writes TRUTH.json: {"deleted": its own "(deleted)" lines of
  /proc/self/maps (deleted_maps.py), read while it lives}, says "done", and
  exits at the end of stdin.
EXAMPLE TRUTH: {"deleted": [{"address": "0x7f3c5a2d1000", "bytes": 8192, "path": "/tmp/x/sed.dat"}]}
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory, truth_path = sys.argv[1], sys.argv[2]
kept = []


def map_file(name):
    fd = os.open(os.path.join(directory, name), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"a" * 8192)
    kept.append(mmap.mmap(fd, 8192))
    os.close(fd)


for name in ("sed.dat", "replaced.dat", "removed.dat", "untouched.dat"):
    map_file(name)
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "go":
        map_file("new.dat")
        print("mapped", flush=True)
    elif line.strip() == "maps":
        with open(truth_path, "w") as out:
            json.dump({"deleted": deleted_mappings()}, out)
        print("done", flush=True)

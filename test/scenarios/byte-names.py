"""Files whose names differ only in a byte that is no part of UTF-8 (an
archive made under a Latin-1 locale, a Samba share or a mail store leaves
such names), for test/capture-review27-byte-names.test.ts.

USAGE: python3 byte-names.py DIR [now|pair]
  Before: maps DIR/seeded/\\xfe.map and DIR/seeded/\\xff.map (shared, 4 KiB
  each, the fds closed), prints "ready" and waits for a line on stdin (not
  with "now" or "pair": a launched program is traced from its start). Then:
  - DIR/pair: creates \\xfe.map (closed, never mapped), maps \\xff.map and
    unlinks \\xfe.map: the mapped file keeps its name, nothing leaks;
  - unlinks DIR/seeded/\\xff.map while it is mapped: one leak, whose twin
    \\xfe.map keeps its name (not with "pair": the pair alone, the
    reviewer's program).
  Then writes DIR/truth.json: {"pid", "deleted": the "(deleted)" lines of
  its own /proc/self/maps, "kept": the names still there} and exits holding
  every mapping. Names in the JSON are as Python's surrogateescape reads
  them (the byte 0xff is "\\udcff").
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close

SIZE = 4096
directory = os.fsencode(os.path.abspath(sys.argv[1]))
seeded = directory + b"/seeded"
pair = directory + b"/pair"
os.makedirs(seeded, exist_ok=True)
os.makedirs(pair, exist_ok=True)

mode = sys.argv[2] if len(sys.argv) > 2 else "attached"
mappings = [] if mode == "pair" else [map_and_close(seeded + b"/\xfe.map", SIZE), map_and_close(seeded + b"/\xff.map", SIZE)]
if mode == "attached":
    print("ready", flush=True)
    sys.stdin.readline()

# The reviewer's program: the unlink of a file never mapped, whose name differs from a mapped one in one byte.
os.close(os.open(pair + b"/\xfe.map", os.O_RDWR | os.O_CREAT, 0o600))
mappings.append(map_and_close(pair + b"/\xff.map", SIZE))
os.unlink(pair + b"/\xfe.map")
# A leak of a mapping made before the trace began (maps-start.txt holds its name raw).
if mode != "pair":
    os.unlink(seeded + b"/\xff.map")

names = [seeded + b"/\xfe.map", seeded + b"/\xff.map", pair + b"/\xfe.map", pair + b"/\xff.map"]
with open(directory + b"/truth.json", "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings(), "kept": [os.fsdecode(name) for name in names if os.path.exists(name)]}, out)

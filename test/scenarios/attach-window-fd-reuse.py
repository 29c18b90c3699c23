"""While bpftrace attaches: a memfd made and closed on fd N (bpftrace prints
no memfd_create; its close has link count 0), then a named file opened on
the same N, mapped, the mapping kept, the fd closed. No named file is ever
removed (review 48, C3: while the close probe was not yet attached, a named
file's close was missed, and the next memfd's close, link count 0, read as
that file's: a false error).

USAGE: python3 attach-window-fd-reuse.py DIR TRACE STOP TRUTH
  Prints its pid. Goes round every 5 ms until the file TRACE has anything in
  it (bpftrace has begun), then every 0.5 ms until the file STOP is there,
  keeping the last 50 mappings. Then writes to TRUTH {"pid", "made",
  "deleted": [...]} from its own /proc/self/maps, unmaps what it kept and
  exits.
"""
import json
import os
import sys
import time

from deleted_maps import deleted_mappings, map_and_close, unmap

directory, trace, stop, truth = (os.path.abspath(arg) for arg in sys.argv[1:5])
print(os.getpid(), flush=True)
kept = []
made = 0
begun = False
while not os.path.exists(stop):
    os.close(os.memfd_create("scratch"))
    kept.append(map_and_close(os.path.join(directory, "named-%05d" % made), 4096))
    made += 1
    if len(kept) > 50:
        unmap(kept.pop(0), 4096)
    if not begun:
        begun = os.path.exists(trace) and os.path.getsize(trace) > 0
    time.sleep(0.0005 if begun else 0.005)
deleted = [mapping for mapping in deleted_mappings() if mapping["path"].startswith(directory + "/")]
with open(truth, "w") as out:
    json.dump({"pid": os.getpid(), "made": made, "deleted": deleted}, out)
for address in kept:
    unmap(address, 4096)

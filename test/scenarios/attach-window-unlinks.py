"""Files made, mapped and unlinked one after another while bpftrace attaches
its probes (review 46, L2: Lucene removed the files it had just packed into
a compound file in the moments between bpftrace's mmap probes and its unlink
probes, and the leaks read as clean).

USAGE: python3 attach-window-unlinks.py DIR TRACE STOP TRUTH
  Prints its pid. Makes DIR/seg-NNNNN (4 KiB), maps it (libc's mmap, shared,
  the fd closed), unlinks it and keeps the mapping: every 5 ms until the
  file TRACE has anything in it (bpftrace has begun: it then attaches its
  probes within a second or so), then as fast as it can until the file STOP
  is there. Then writes to TRUTH {"pid", "made",
  "deleted": [...]} from its own /proc/self/maps, unmaps every mapping and
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
begun = False
while not os.path.exists(stop):
    path = os.path.join(directory, "seg-%05d" % len(kept))
    kept.append(map_and_close(path, 4096))
    os.unlink(path)
    if not begun:
        begun = os.path.exists(trace) and os.path.getsize(trace) > 0
        time.sleep(0 if begun else 0.005)
deleted = [mapping for mapping in deleted_mappings() if mapping["path"].startswith(directory + "/")]
with open(truth, "w") as out:
    json.dump({"pid": os.getpid(), "made": len(kept), "deleted": deleted}, out)
for address in kept:
    unmap(address, 4096)

"""Files made, mapped and unlinked one after another while bpftrace attaches
its probes (review 46, L2: Lucene removed the files it had just packed into
a compound file in the moments between bpftrace's mmap probes and its unlink
probes, and the leaks read as clean), in three ways each round:

  DIR/seg-NNNNN    mapped, unlinked, the mapping kept: a leak.
  DIR/twice-NNNNN  mapped, unmapped, mapped again (the same address, most
                   often), unlinked, the second mapping kept: a leak of that
                   one, not the first (review 48, C2).
  DIR/named-NNNNN  mapped, its fd closed, never removed: no leak.

Last, once every mapping is gone, a new file is renamed over each seg
file's name and removed: another file's removal, after the mapped one lost
that name.

USAGE: python3 attach-window-unlinks.py DIR TRACE STOP TRUTH
  Prints its pid. Goes round every 5 ms until the file TRACE has anything in
  it (bpftrace has begun: it then attaches its probes within a second or
  so), then as fast as it can until the file STOP is there. Then writes to
  TRUTH {"pid", "made", "deleted": [...]} from its own /proc/self/maps,
  unmaps every mapping, replaces and removes the seg names as above, and
  exits. Files are 4 KiB; mappings are libc's mmap,
  shared, with the fd closed after.
"""
import json
import os
import sys
import time

from deleted_maps import deleted_mappings, map_and_close, unmap

directory, trace, stop, truth = (os.path.abspath(arg) for arg in sys.argv[1:5])
print(os.getpid(), flush=True)
kept = []
rounds = 0
begun = False
while not os.path.exists(stop):
    path = os.path.join(directory, "seg-%05d" % rounds)
    kept.append(map_and_close(path, 4096))
    os.unlink(path)
    path = os.path.join(directory, "twice-%05d" % rounds)
    unmap(map_and_close(path, 4096), 4096)
    kept.append(map_and_close(path, 4096))
    os.unlink(path)
    kept.append(map_and_close(os.path.join(directory, "named-%05d" % rounds), 4096))
    rounds += 1
    if not begun:
        begun = os.path.exists(trace) and os.path.getsize(trace) > 0
        time.sleep(0 if begun else 0.005)
deleted = [mapping for mapping in deleted_mappings() if mapping["path"].startswith(directory + "/")]
with open(truth, "w") as out:
    json.dump({"pid": os.getpid(), "made": rounds, "deleted": deleted}, out)
for address in kept:
    unmap(address, 4096)
# Then, the mappings gone: a new file takes each seg file's name (renamed over it, as an atomic
# replace does) and is removed in its turn: no call of the mapped file's (review 49, D5).
for number in range(rounds):
    path = os.path.join(directory, "seg-%05d" % number)
    with open(path + ".new", "wb") as new:
        new.write(b"n")
    os.rename(path + ".new", path)
    os.unlink(path)

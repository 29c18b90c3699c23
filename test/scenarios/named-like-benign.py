"""Files named as the benign rules' files are, held as leaks, for
test/benign-review22-names.test.ts (review 22: the rules trusted the name).

Usage: named-like-benign.py TRUTH_JSON WORKDIR

Each file is mapped shared and its names unlinked by this process, the
mapping kept:
  semaphore  /dev/shm/sem.om-r22-PID, 1 MiB (sem_open maps 32 bytes)
  hsperfdata WORKDIR/hsperfdata_om/4242, 64 KiB, held 1.5 s past the unlink
             before the exit (the JVM's goes at its exit, within ms)
  sqlite     WORKDIR/q.db-shm, 64 KiB, then WORKDIR/q.db-wal unlinked as
             SQLite's close does, but the -shm mapping kept
Then the program's own /proc/self/maps "(deleted)" lines are written to
TRUTH_JSON as {"pid", "deleted": [{"address", "bytes", "path"}]}, and it
sleeps 1.5 s and exits.
"""
import json
import os
import sys
import time

from deleted_maps import deleted_mappings, map_and_unlink

truth_path, work = sys.argv[1], sys.argv[2]
kept = [map_and_unlink("/dev/shm/sem.om-r22-%d" % os.getpid(), 1 << 20)]
os.makedirs(os.path.join(work, "hsperfdata_om"), exist_ok=True)
kept.append(map_and_unlink(os.path.join(work, "hsperfdata_om", "4242"), 64 << 10))
wal = os.path.join(work, "q.db-wal")
open(wal, "wb").close()
kept.append(map_and_unlink(os.path.join(work, "q.db-shm"), 64 << 10))
os.unlink(wal)
with open(truth_path, "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
time.sleep(1.5)

"""A file mapped by its real path and removed by another spelling of its
directory, a symlink made long before the trace (/var/run -> /run on Debian),
for test/capture-review26-bpftrace.test.ts.

USAGE: python3 symlinked-dir-unlink.py WORKDIR
  Maps /run/orphanmap-PID/state.shm (shared, 64 KiB, then closes it), as a
  daemon keeps its state; runs `rm -f /var/run/orphanmap-PID/state.shm`, as
  an admin script would. Maps WORKDIR/d/a/seg likewise and unlinks
  WORKDIR/d/l/../seg, where WORKDIR/d/l is a symlink to WORKDIR/d/a/b made
  before the program ran: the kernel goes up from WORKDIR/d/a/b. Writes the
  "(deleted)" lines of its own /proc/self/maps to WORKDIR/truth.json as
  {"pid", "deleted": [...]}; unmaps, removes its directory and exits.
"""
import json
import os
import subprocess
import sys

from deleted_maps import deleted_mappings, map_and_close, unmap

SIZE = 65536
work = os.path.abspath(sys.argv[1])
state = "/run/orphanmap-%d" % os.getpid()
os.makedirs(state)
kept = [map_and_close(os.path.join(state, "state.shm"), SIZE), map_and_close(os.path.join(work, "d", "a", "seg"), SIZE)]
subprocess.run(["rm", "-f", "/var/run/orphanmap-%d/state.shm" % os.getpid()], check=True)
os.unlink(os.path.join(work, "d", "l", "..", "seg"))
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
for address in kept:
    unmap(address, SIZE)
os.rmdir(state)

"""Warnings that name paths in a directory whose name holds spaces, for
test/redact-warning-paths-real.test.ts: run it under `orphanmap capture`.

USAGE: python3 secret-dir-warnings.py TRUTH.json
  In DIR/acme corp secret (DIR: TRUTH.json's directory):
  - sleeper, a copy of /bin/sh, runs in a child; once it says it runs (its
    first words come after its execve returned, so strace has printed that
    return by then), its last name is removed (a program replaced while it
    runs);
  - held.index is mapped shared and given a second name, kept.index, by
    link(); then held.index is unlinked: /proc shows the mapping "(deleted)"
    though the file keeps a name, and no finding can explain it;
  - orders-3/00000000000000001000.index is mapped shared and unlinked: a
    finding.
  TRUTH.json: {"secret": the directory, "deleted": this process's own
  "(deleted)" lines (deleted_maps.py), "sleeper": the child's, read while
  it lives}. Then says "done", and exits at the end of stdin.
"""
import json
import mmap
import os
import shutil
import subprocess
import sys
import time

from deleted_maps import deleted_mappings

truth_path = sys.argv[1]
secret = os.path.join(os.path.dirname(os.path.abspath(truth_path)), "acme corp secret")
os.makedirs(os.path.join(secret, "orders-3"))
print("ready", flush=True)
sys.stdin.readline()

sleeper = os.path.join(secret, "sleeper")
shutil.copy("/bin/sh", sleeper)
# Not /bin/sleep, killed as soon as /proc showed it mapped: its execve had not
# returned to strace yet, which printed "= ?" for it, and the trace could not
# show the program run (the test failed now and then).
child = subprocess.Popen([sleeper, "-c", "echo up; read line"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
if child.stdout.readline() != b"up\n":
    sys.exit("the child never said it runs")
maps = "/proc/%d/maps" % child.pid
deadline = time.monotonic() + 10
while not any(line.rstrip("\n").endswith(" " + sleeper) for line in open(maps)):
    if time.monotonic() > deadline:
        sys.exit("the child never showed %s in its maps" % sleeper)
    time.sleep(0.02)
os.unlink(sleeper)
child_deleted = [line.rstrip("\n") for line in open(maps) if line.rstrip("\n").endswith(" (deleted)")]
child.kill()
child.wait()

kept = []
for name in ("held.index", os.path.join("orders-3", "00000000000000001000.index")):
    path = os.path.join(secret, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 8192)
    kept.append(mmap.mmap(fd, 8192))
    os.close(fd)
os.link(os.path.join(secret, "held.index"), os.path.join(secret, "kept.index"))
os.unlink(os.path.join(secret, "held.index"))
os.unlink(os.path.join(secret, "orders-3", "00000000000000001000.index"))

with open(truth_path, "w") as out:
    json.dump({"secret": secret, "deleted": deleted_mappings(), "sleeper": child_deleted}, out)
print("done", flush=True)
sys.stdin.read()

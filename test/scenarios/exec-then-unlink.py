#!/usr/bin/python3
"""exec-then-unlink.py - a program whose last name goes as soon as the kernel has mapped it.

USAGE  exec-then-unlink.py DIR

Copies /bin/sleep to DIR/prog and runs it in a child. As soon as the
child's /proc/PID/maps shows DIR/prog mapped (the kernel maps a program
inside execve, before the call returns), unlinks DIR/prog. Under strace -f
the child is then usually still stopped inside its execve: strace prints the
execve `<unfinished ...>`, this unlink, then the execve's return. Writes the
truth, read while the child lives, to DIR/truth.json:
  {"pid": N, "deleted": ["0x7f... 8192 DIR/prog", ...]}
each line of the child's maps that shows the program "(deleted)", as
address, bytes and path. Then ends the child.
"""
import json
import os
import shutil
import subprocess
import sys
import time

folder = sys.argv[1]
prog = os.path.join(folder, "prog")
shutil.copy("/bin/sleep", prog)
child = subprocess.Popen([prog, "30"])
maps = "/proc/%d/maps" % child.pid
deadline = time.monotonic() + 10
# Each read is traced calls under strace, so this loop is quick only while the child is still in its execve.
while not any(line.rstrip("\n").endswith(" " + prog) for line in open(maps)):
    if time.monotonic() > deadline:
        child.kill()
        sys.exit("the child's maps never showed " + prog)
os.unlink(prog)
deleted = []
for line in open(maps):
    if line.rstrip("\n").endswith(" %s (deleted)" % prog):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        deleted.append("0x%x %d %s" % (start, end - start, prog))
with open(os.path.join(folder, "truth.json"), "w") as out:
    json.dump({"pid": child.pid, "deleted": deleted}, out)
# The program runs: ended once it sleeps, past its execve. Killed inside it (a tracer slow to let it return, under
# load), it never ran, and strace prints the execve's return as "= ?" (1 run in about 8 under load: no warning).
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        call = open("/proc/%d/syscall" % child.pid).read().split()[0]
    except (OSError, IndexError):
        break
    # nanosleep or clock_nanosleep (x86-64 and arm64 numbers)
    if call in ("35", "230", "101", "115"):
        break
    time.sleep(0.01)
child.kill()
child.wait()

"""Files whose real names end in " (deleted)": mapped, /proc/PID/maps prints
them as it prints an unlinked file's mapping (review 26, F2). Beside them, one
real leak.

usage: deleted-suffix-names.py DIR wait|go TRUTH

Maps DIR/"seg (deleted)" (64 KiB, never unlinked) and DIR/gone.idx (8 KiB),
both shared, their fds closed; prints its pid. With `wait`, waits for a line
on stdin (the capture attached). Then forks a child that maps
DIR/"child (deleted)" (16 KiB, never unlinked) and lives as long as the
parent; unlinks gone.idx.
Then writes the truth into the file TRUTH, read while both live, one line each:
  maps PID LINE       a line of PID's /proc/PID/maps of a file in DIR
  linked NAME LINKS   st_nlink of NAME, stat by the program: 0 if it is gone
and "done"; then sleeps until killed (SIGTERM ends the child too)."""

import mmap
import os
import signal
import sys
import time

directory, start, truth_path = sys.argv[1:4]
os.makedirs(directory, exist_ok=True)


def map_new(name, size):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.truncate(size)
    fd = os.open(path, os.O_RDWR)
    kept = mmap.mmap(fd, size, mmap.MAP_SHARED)
    os.close(fd)
    return kept


kept = [map_new("seg (deleted)", 64 << 10), map_new("gone.idx", 8 << 10)]
print(os.getpid(), flush=True)
if start == "wait":
    sys.stdin.readline()

ready_read, ready_write = os.pipe()
parent = os.getpid()
child = os.fork()
if child == 0:
    os.close(ready_read)
    kept.append(map_new("child (deleted)", 16 << 10))
    os.write(ready_write, b"x")
    # Gone with its parent, however that ends (a test's SIGKILL too).
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)
os.close(ready_write)
os.read(ready_read, 1)
signal.signal(signal.SIGTERM, lambda *_: (os.kill(child, signal.SIGKILL), os._exit(0)))
os.unlink(os.path.join(directory, "gone.idx"))

truth = []
for pid in (os.getpid(), child):
    with open(f"/proc/{pid}/maps") as maps:
        truth += [f"maps {pid} {line.rstrip()}" for line in maps if directory + "/" in line]
for name in ("seg (deleted)", "gone.idx", "child (deleted)"):
    try:
        links = os.stat(os.path.join(directory, name)).st_nlink
    except FileNotFoundError:
        links = 0
    truth.append(f"linked {name} {links}")
with open(truth_path, "w") as f:
    f.write("\n".join(truth + ["done", ""]))
while True:
    time.sleep(60)

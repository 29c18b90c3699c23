"""A program whose data directory is reached through a symlink made before
it ran (a data dir moved to a bigger disk): WORKDIR/link -> real.

USAGE: python3 symlinked-data-dir.py WORKDIR
  Prints its pid, waits for a line on stdin, then maps WORKDIR/link/f whole
  (Python's mmap module, read only, shared; the fd closed) and prints the
  line of its own /proc/self/maps for it. Then waits for stdin to close.
"""
import mmap
import os
import sys

work = os.path.abspath(sys.argv[1])
print(os.getpid(), flush=True)
sys.stdin.readline()
fd = os.open(os.path.join(work, "link", "f"), os.O_RDONLY)
kept = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
os.close(fd)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith("/real/f")).rstrip("\n"), flush=True)
sys.stdin.read()

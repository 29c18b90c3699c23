"""A program that removes a file it maps as it exits, the mapping live: a
JVM's hsperfdata file (review 46, L4).

USAGE: python3 removed-as-it-exits.py FILE [PERFDIR]
  Maps FILE whole (Python's mmap module, shared) and, with PERFDIR, makes
  and maps PERFDIR/<its pid> as a JVM does its hsperfdata file (review 51,
  A6), and prints its pid. At a line on stdin, unlinks FILE (and
  PERFDIR/<pid>), prints its own /proc/self/maps line of each mapping
  (deleted now), and exits with the mappings live.
"""
import mmap
import os
import sys

names = [os.path.abspath(sys.argv[1])]
if len(sys.argv) > 2:
    names.append(os.path.join(os.path.abspath(sys.argv[2]), str(os.getpid())))
    with open(names[1], "wb") as perfdata:
        perfdata.write(bytes(32768))
kept = []
for name in names:
    fd = os.open(name, os.O_RDWR)
    kept.append(mmap.mmap(fd, 0))
    os.close(fd)
print(os.getpid(), flush=True)
sys.stdin.readline()
for name in names:
    os.unlink(name)
with open("/proc/self/maps") as maps:
    lines = maps.read().split("\n")
for name in names:
    print(next(line for line in lines if line.endswith(name + " (deleted)")), flush=True)
os._exit(0)

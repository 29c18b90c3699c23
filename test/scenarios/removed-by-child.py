"""A file mapped before a tracer attaches, its fd kept open, then removed by
a child this process starts (review 55, H1: a Berkeley DB holder attached
by `strace -p` ran db_recover, which removed the region files it mapped).

USAGE: python3 removed-by-child.py DIR [mv|spawn|fork-exit]
  Maps DIR/seg.idx (8 KiB, made by the caller; libc's mmap through ctypes,
  shared), keeps its fd, and prints its pid. At a line on stdin, runs
  `rm DIR/seg.idx` (mv: writes DIR/seg.idx.new and runs `mv DIR/seg.idx.new
  DIR/seg.idx`, an atomic save over it: review 55, H3; spawn: `rm` started
  by os.posix_spawn, whose child makes no call but its execve; fork-exit:
  forks and exits, and its child, holding the mapping and the fd, runs `rm`
  and does the rest: code review 57, F5), prints its own
  /proc/self/maps line of the mapping, closes the fd, and prints "closed".
  Then waits for stdin to close.
"""
import os
import subprocess
import sys

from deleted_maps import mmap_shared

directory = os.path.abspath(sys.argv[1])
segment = os.path.join(directory, "seg.idx")
fd = os.open(segment, os.O_RDWR)
mmap_shared(fd, 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
if len(sys.argv) > 2 and sys.argv[2] == "mv":
    with open(segment + ".new", "wb") as new:
        new.write(b"n" * 8192)
    subprocess.run(["mv", segment + ".new", segment], check=True)
elif len(sys.argv) > 2 and sys.argv[2] == "fork-exit":
    if os.fork() != 0:
        os._exit(0)
    subprocess.run(["rm", segment], check=True)
elif len(sys.argv) > 2 and sys.argv[2] == "spawn":
    child = os.posix_spawn("/bin/rm", ["rm", segment], os.environ)
    os.waitpid(child, 0)
else:
    subprocess.run(["rm", segment], check=True)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(segment + " (deleted)")).rstrip("\n"), flush=True)
os.close(fd)
print("closed", flush=True)
sys.stdin.read()

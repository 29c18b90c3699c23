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
import ctypes
import json
import os
import subprocess
import sys

from deleted_maps import deleted_mappings

# libc's mmap, not Python's mmap module: that one keeps a dup of the fd, whose close -yy shows "(deleted)".
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

SIZE = 65536


def map_and_close(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, SIZE)
    kept = libc.mmap(None, SIZE, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
    os.close(fd)
    return kept


work = os.path.abspath(sys.argv[1])
state = "/run/orphanmap-%d" % os.getpid()
os.makedirs(state)
kept = [map_and_close(os.path.join(state, "state.shm")), map_and_close(os.path.join(work, "d", "a", "seg"))]
subprocess.run(["rm", "-f", "/var/run/orphanmap-%d/state.shm" % os.getpid()], check=True)
os.unlink(os.path.join(work, "d", "l", "..", "seg"))
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
for address in kept:
    libc.munmap(address, SIZE)
os.rmdir(state)

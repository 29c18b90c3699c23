"""A process that acts the moment a tracer attaches (review 32 attack, F3):
it unlinks a file it mapped before and unmaps it at once, before
`capture --pid` reads maps-start.txt. For
test/capture-review32-attach-race.test.ts.

USAGE: python3 attach-race.py DIR [over]
  Maps DIR/seg (8 KiB, MAP_SHARED) and prints its pid; polls its own
  TracerPid; once traced, forks a child that lives as long as it does,
  unlinks DIR/seg, reads its own /proc/self/maps (the mapping, deleted),
  unmaps it (with "over": maps anonymous memory over it, MAP_FIXED, as
  review 32's code review did instead), and writes DIR/truth.json {"pid",
  "child", "deleted": [...]}. Exits at a line on stdin.
"""
import ctypes
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = os.path.abspath(sys.argv[1])
seg = os.path.join(directory, "seg")
with open(seg, "wb") as out:
    out.write(b"x" * 8192)
fd = os.open(seg, os.O_RDWR)
kept = mmap.mmap(fd, 8192)
os.close(fd)
print(os.getpid(), flush=True)


def traced():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("TracerPid:"):
                return int(line.split()[1]) != 0
    return False


while not traced():
    pass
# Forked under the trace, before the capture lists the children it does not follow (review 32, F3: called untraced).
parent_gone, parent_alive = os.pipe()
child = os.fork()
if child == 0:
    os.close(parent_alive)
    os.read(parent_gone, 1)
    os._exit(0)
os.close(parent_gone)
os.unlink(seg)
deleted = deleted_mappings()
if len(sys.argv) > 2 and sys.argv[2] == "over":
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    address = ctypes.addressof(ctypes.c_char.from_buffer(kept))
    # PROT_READ; MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS. The mmap object keeps its view, now of the anonymous memory.
    libc.mmap(address, 8192, 1, 0x02 | 0x10 | 0x20, -1, 0)
else:
    kept.close()
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "child": child, "deleted": deleted}, out)
sys.stdin.readline()

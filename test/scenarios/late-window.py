"""A process whose file mappings come and go while `capture --pid` starts
(review 84): what it does in the trace's first moments, before the capture
reads maps-start.txt, is in that snapshot already, or in neither. For
test/capture-review84-start-read.test.ts.

USAGE: python3 late-window.py DIR
  Prints its pid. Until it is traced (its TracerPid), every 2 ms maps a new
  file DIR/segN (8 KiB, shared, libc's mmap: no fd kept), each at an address
  of its own, then unmaps the one before and removes it: the mapping live when
  the tracer attaches was made after the capture read maps-before.txt (before
  it started the tracer), at a range that snapshot does not list. The
  moment it is traced: removes that segN, reads its own maps (the mapping,
  deleted), and unmaps it, as a JVM's cleaner ends a leaked buffer; then makes
  DIR/made (O_CREAT|O_TRUNC, 64 KiB), maps it to write, maps it to read, and
  unmaps the first, as RocksDB's table builder and then its reader of a new
  table do. Writes DIR/truth.json
  {"pid", "seg" (the name removed), "deleted": [...] (its maps' deleted
  mappings after the removal), "made": [...] (its maps lines of DIR/made)}.
  Exits at a line on stdin.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings, libc_calls, traced

directory = os.path.abspath(sys.argv[1])
libc = libc_calls()
print(os.getpid(), flush=True)

SIZE = 8192
HINT = 0x200000000000
MAP_FIXED_NOREPLACE = 0x100000
live = None
number = 0
while not traced():
    seg = os.path.join(directory, "seg%d" % number)
    fd = os.open(seg, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, SIZE)
    # Each at an address of its own (MAP_FIXED_NOREPLACE), never one an earlier seg had: the one live at the attach
    # then holds a range neither snapshot lists, as a new mapping's fresh range is.
    address = libc.mmap(HINT + number * 0x10000, SIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0)
    if address != HINT + number * 0x10000:
        sys.exit("could not map seg%d at its own address" % number)
    os.close(fd)
    if live is not None:
        libc.munmap(live[1], SIZE)
        os.unlink(live[0])
    live = (seg, address)
    number += 1
    libc.usleep(2000)

seg, address = live
os.unlink(seg)
deleted = deleted_mappings()
libc.munmap(address, SIZE)

made = os.path.join(directory, "made")
fd = os.open(made, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 65536)
writer = libc.mmap(None, 65536, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
reader = libc.mmap(None, 65536, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
libc.munmap(writer, 65536)
os.close(fd)
with open("/proc/self/maps") as maps:
    made_lines = [line.rstrip("\n") for line in maps if line.rstrip("\n").endswith(" " + made)]
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "seg": seg, "deleted": deleted, "made": made_lines}, out)
sys.stdin.readline()
os._exit(0)

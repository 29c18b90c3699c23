"""A file mapped in a directory this process holds an fd of, the directory
then removed with everything in it by a process the trace does not follow,
while the file is still mapped (review 61, F-6: varnishlog maps a segment in
varnishd's _.vsm_child, which varnishd removes with `rm -rf` when its child
restarts; the reader closes the directory, then unmaps the segment).

USAGE: python3 directory-removed.py DIR
  Maps DIR/seg/_.Log (made by the caller; libc's mmap, shared, its fd closed
  at once), opens DIR/seg itself, writes DIR/mapped, and waits until the
  caller has removed DIR/seg. Then writes its own /proc/self/maps lines of
  the file to DIR/record.txt, closes the directory, unmaps the file and
  exits.
"""
import ctypes
import os
import sys
import time

from deleted_maps import mmap_shared

directory = os.path.abspath(sys.argv[1])
segments = os.path.join(directory, "seg")
log = os.path.join(segments, "_.Log")
fd = os.open(log, os.O_RDWR)
address = mmap_shared(fd, 8192)
os.close(fd)
held = os.open(segments, os.O_RDONLY | os.O_DIRECTORY)
open(os.path.join(directory, "mapped"), "w").close()
deadline = time.monotonic() + 60
while os.path.exists(segments) and time.monotonic() < deadline:
    time.sleep(0.02)
with open("/proc/self/maps") as maps, open(os.path.join(directory, "record.txt"), "w") as record:
    record.writelines(line for line in maps if " " + log in line)
os.close(held)
libc = ctypes.CDLL(None, use_errno=True)
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
assert libc.munmap(address, 8192) == 0

"""A mapped file kept by a hard link made before `capture --pid` attached:
the process unlinks the name it mapped it by, then unmaps it and exits
(review 33 exactness, 1). For test/capture-review33-hidden-link-released.test.ts.

USAGE: python3 hidden-link-released.py DIR
  DIR/hl (8 KiB) has a second name, DIR/keep/hl.bak, made before (in
  another directory: the capture's lookup at the exit finds one in the same
  directory, review 82, E1, and there would be nothing to doubt). Maps hl (by
  libc, the fd closed) and prints its pid. At a line on stdin: unlinks hl,
  prints the links hl.bak's file has then, unmaps hl's mapping, and exits
  2 s later (the capture's lookup at the exit then finds hl gone well before
  it: maps-start-gone.txt).
"""
import os
import sys
import time

from deleted_maps import map_and_close, unmap

directory = os.path.abspath(sys.argv[1])
address = map_and_close(os.path.join(directory, "hl"), 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(os.path.join(directory, "hl"))
print(os.stat(os.path.join(directory, "keep", "hl.bak")).st_nlink, flush=True)
unmap(address, 8192)
time.sleep(2)

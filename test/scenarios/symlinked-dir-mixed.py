"""A file opened by its real directory and unlinked through a symlink to that
directory made before the trace, for test/engine-review22-symlinked-dir.test.ts
(review 22, F3: a broker's data directory is often such a link).

Usage: symlinked-dir-mixed.py TRUTH_JSON REAL LINK MODE

LINK is a symlink to the directory REAL, made by the test before the trace.
Opens REAL/t-0/00000000000000000000.index, maps 1 MiB of it shared (Python's
mmap keeps a dup of the fd), unlinks LINK/t-0/00000000000000000000.index,
and writes its own /proc/self/maps "(deleted)" lines to TRUTH_JSON as
{"pid", "deleted": [{"address", "bytes", "path"}]}. Then, by MODE:
  close  closes the mapping (the dup's close shows "(deleted)" under -y)
  exit   leaves by os._exit, closing nothing: no later call names the file
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

truth_path, real, link, mode = sys.argv[1:5]
os.makedirs(os.path.join(real, "t-0"), exist_ok=True)
name = os.path.join("t-0", "00000000000000000000.index")
fd = os.open(os.path.join(real, name), os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 1 << 20)
kept = mmap.mmap(fd, 1 << 20)
os.close(fd)
os.unlink(os.path.join(link, name))
with open(truth_path, "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
if mode == "close":
    kept.close()
else:
    os._exit(0)

"""Two directories swapped with renameat2(RENAME_EXCHANGE) while files in
them are mapped, for test/engine-review24-exchange-dirs.test.ts.

USAGE: python3 exchange-dirs.py DIR
  Maps DIR/d/seg.index and DIR/e/log.index (shared, 1 MiB each) and closes
  their fds; swaps DIR/d and DIR/e; unlinks DIR/e/seg.index and
  DIR/d/log.index (each file under its directory's new name), both while
  mapped; writes DIR/truth.json: its pid and the "(deleted)" lines of its
  own /proc/self/maps; exits with both still mapped.
"""
import ctypes
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE = 2
kept = []
for sub, name in (("d", "seg.index"), ("e", "log.index")):
    os.makedirs(os.path.join(directory, sub), exist_ok=True)
    fd = os.open(os.path.join(directory, sub, name), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.ftruncate(fd, 1 << 20)
    kept.append(mmap.mmap(fd, 1 << 20))
    os.close(fd)
d, e = os.path.join(directory, "d").encode(), os.path.join(directory, "e").encode()
if libc.renameat2(-100, d, -100, e, RENAME_EXCHANGE) != 0:
    sys.exit("renameat2 failed: errno %d" % ctypes.get_errno())
os.unlink(os.path.join(directory, "e", "seg.index"))
os.unlink(os.path.join(directory, "d", "log.index"))
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
os._exit(0)

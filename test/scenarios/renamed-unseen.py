"""A mapped file renamed through a symlinked directory made before the trace,
then unlinked by its new name (review 32 attack, F2: strace -y's own
"(deleted)" at the fd's close was not taken for the file's, and the leak read
as clean). For test/engine-review32-renamed-unseen.test.ts.

USAGE: python3 renamed-unseen.py DIR
  DIR/real/seg (8 KiB) and the symlink DIR/link -> real are made before the
  trace. Opens DIR/real/seg, maps it, renames DIR/link/seg to DIR/real/moved,
  unlinks DIR/real/moved, closes the fd, and writes to DIR/truth.json {"pid",
  "nlink" (fstat's, before the close), "deleted": [...]} from its own
  /proc/self/maps; it exits with the mapping live.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = os.path.abspath(sys.argv[1])
fd = os.open(os.path.join(directory, "real", "seg"), os.O_RDWR)
kept = mmap.mmap(fd, 8192)
os.rename(os.path.join(directory, "link", "seg"), os.path.join(directory, "real", "moved"))
os.unlink(os.path.join(directory, "real", "moved"))
nlink = os.fstat(fd).st_nlink
os.close(fd)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "nlink": nlink, "deleted": deleted_mappings()}, out)

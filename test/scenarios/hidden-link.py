"""A file with a hard link made before the trace, mapped through a symlinked
directory and unlinked by that spelling (review 31, code review F2: bpftrace's
link count was weighed against the file's spellings, not its links, and the
unlink read as the last). For test/capture-review26-bpftrace.test.ts.

USAGE: python3 hidden-link.py DIR
  DIR/link is a symlink to DIR/real, and DIR/real/seg (8 KiB) has a second
  name, DIR/backup/seg, both made before the trace. Opens DIR/link/seg, maps
  it, unlinks DIR/link/seg, and writes to DIR/truth.json {"pid", "nlink"
  (fstat's, after the unlink), "deleted": [...]} from its own /proc/self/maps.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = os.path.abspath(sys.argv[1])
spelled = os.path.join(directory, "link", "seg")
fd = os.open(spelled, os.O_RDWR)
kept = mmap.mmap(fd, 8192)
os.unlink(spelled)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "nlink": os.fstat(fd).st_nlink, "deleted": deleted_mappings()}, out)

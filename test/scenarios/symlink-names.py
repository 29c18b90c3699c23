"""A mapped file unlinked by a name that goes through a symlink, for
test/engine-review26-symlink-names.test.ts.

USAGE: python3 symlink-names.py dotdot|cwd made|before DIR
  DIR/l is a symlink to DIR/a/b: "made", the program makes it; "before", it
  must be there already (made before the trace).
  dotdot: maps DIR/a/seg (shared, 64 KiB, then closes it) and unlinks
    DIR/l/../seg: the kernel follows DIR/l to DIR/a/b and ".." to DIR/a, so
    DIR/a/seg goes.
  cwd: maps DIR/a/b/seg likewise, changes into DIR/l, renames DIR/a/b to
    DIR/c, and unlinks "seg": the kernel's cwd is the directory itself, so
    DIR/c/seg goes.
  Then writes the "(deleted)" lines of its own /proc/self/maps in
  DIR/truth.json as {"pid", "deleted": [...]}, unmaps and exits.
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close, unmap

SIZE = 65536
case, made, directory = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
if made == "made":
    os.makedirs(os.path.join(directory, "a", "b"))
    os.symlink(os.path.join(directory, "a", "b"), os.path.join(directory, "l"))
if case == "dotdot":
    kept = map_and_close(os.path.join(directory, "a", "seg"), SIZE)
    os.unlink(os.path.join(directory, "l", "..", "seg"))
else:
    kept = map_and_close(os.path.join(directory, "a", "b", "seg"), SIZE)
    os.chdir(os.path.join(directory, "l"))
    os.rename(os.path.join(directory, "a", "b"), os.path.join(directory, "c"))
    os.unlink("seg")
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
unmap(kept, SIZE)

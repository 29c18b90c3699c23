"""Two ways a file's name reaches a mapped file by a path the trace cannot
tie to it: a directory symlink made before the trace.

USAGE: python3 spellings-made-before.py backup WORKDIR
  WORKDIR/alias -> real made first, WORKDIR/real/sub/lib.so (64 KiB). Maps
  real/sub/lib.so (shared, the fd closed); links alias/sub/lib.so.bak to it
  (a backup by the alias spelling); writes WORKDIR/staged, renames it over
  alias/sub/lib.so, removes the backup: the mapped file has no name left.
USAGE: python3 spellings-made-before.py swap WORKDIR
  WORKDIR/cur -> rel1 and WORKDIR/cur.new -> rel2 made first,
  WORKDIR/rel2/sub/data.bin (64 KiB). Writes and closes cur/sub/data.bin
  (rel1's); maps rel2/sub/data.bin by that name; renames cur.new over cur (a
  deploy's swap); removes cur/sub/data.bin: rel2's now, the mapped one.
Either writes the "(deleted)" lines of its own /proc/self/maps at the end to
WORKDIR/truth.json as {"pid", "deleted"}, unmaps and exits.
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close, unmap

SIZE = 65536
mode, work = sys.argv[1], os.path.abspath(sys.argv[2])


def write(path, size):
    with open(path, "wb") as out:
        out.write(b"w" * size)


if mode == "backup":
    mapped = map_and_close(os.path.join(work, "real", "sub", "lib.so"), SIZE)
    os.link(os.path.join(work, "alias", "sub", "lib.so"), os.path.join(work, "alias", "sub", "lib.so.bak"))
    write(os.path.join(work, "staged"), 100)
    os.rename(os.path.join(work, "staged"), os.path.join(work, "alias", "sub", "lib.so"))
    os.unlink(os.path.join(work, "alias", "sub", "lib.so.bak"))
else:
    write(os.path.join(work, "cur", "sub", "data.bin"), 4096)
    mapped = map_and_close(os.path.join(work, "rel2", "sub", "data.bin"), SIZE)
    os.rename(os.path.join(work, "cur.new"), os.path.join(work, "cur"))
    os.unlink(os.path.join(work, "cur", "sub", "data.bin"))
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
unmap(mapped, SIZE)

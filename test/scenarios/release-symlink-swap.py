"""The "current release" deploy, as a program that maps its data through the
release symlink lives it: WORKDIR/live -> rel1 (made before the program
runs), WORKDIR/rel1/data.bin and WORKDIR/rel2/data.bin, 64 KiB each.

USAGE: python3 release-symlink-swap.py WORKDIR
  Maps WORKDIR/live/data.bin (shared, then closes it): rel1's file. The
  release is swapped the way deploy tools do, atomically: a symlink
  live.new -> rel2 renamed over live. Then WORKDIR/live/data.bin is removed:
  rel2's file, which the program never mapped. The same again with the
  swap by coreutils (`ln -sfn rel1 live`, then `rm -f live/data.bin`, which
  removes rel1's file now: the one mapped, a real leak). Writes the
  "(deleted)" lines of its own /proc/self/maps after each step to
  WORKDIR/truth.json as {"pid", "mapped", "afterSwap", "afterSecond"}:
  "mapped" is the address of the mapping; unmaps and exits.
"""
import json
import os
import subprocess
import sys

from deleted_maps import deleted_mappings, map_and_close, unmap

SIZE = 65536
work = os.path.abspath(sys.argv[1])
live = os.path.join(work, "live")
mapped = map_and_close(os.path.join(live, "data.bin"), SIZE)
os.symlink("rel2", live + ".new")
os.replace(live + ".new", live)
os.unlink(os.path.join(live, "data.bin"))
after_swap = deleted_mappings()
subprocess.run(["ln", "-sfn", "rel1", live], check=True)
subprocess.run(["rm", "-f", os.path.join(live, "data.bin")], check=True)
after_second = deleted_mappings()
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "mapped": "0x%x" % mapped, "afterSwap": after_swap, "afterSecond": after_second}, out)
unmap(mapped, SIZE)

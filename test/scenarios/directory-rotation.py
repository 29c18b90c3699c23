"""A data directory rotated the way log and cache managers do it, while a
file in it stays mapped.

USAGE: python3 directory-rotation.py WORKDIR
  In WORKDIR (its working directory, by relative names): maps c1/f (64 KiB,
  shared, the fd closed), renames c1 to c1.old, makes a new c1, writes a new
  c1/f, closes it and removes it: the new file, which nothing maps. The same
  by absolute names one level up (WORKDIR/data/c1/f mapped, WORKDIR/data
  renamed data.old, a new data/c1/f written and removed). A staging
  directory with a file f written in it, renamed c2 (put in place), and
  c2/f removed. Then removes
  c1.old/f, still mapped: a real leak. Writes the "(deleted)" lines of its
  own /proc/self/maps after the rotations and after the removal to
  WORKDIR/truth.json as {"pid", "mapped", "afterRotations", "afterRemoval"}:
  "mapped" is the address of c1/f's mapping; unmaps both and exits.
"""
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_close, unmap

SIZE = 65536
work = os.path.abspath(sys.argv[1])


def write_close_remove(path):
    with open(path, "wb") as out:
        out.write(b"n" * 4096)
    os.unlink(path)


os.chdir(work)
os.mkdir("c1")
mapped = map_and_close("c1/f", SIZE)
os.rename("c1", "c1.old")
os.mkdir("c1")
write_close_remove("c1/f")

data = os.path.join(work, "data")
os.makedirs(os.path.join(data, "c1"))
mapped_absolute = map_and_close(os.path.join(data, "c1", "f"), SIZE)
os.rename(data, data + ".old")
os.makedirs(os.path.join(data, "c1"))
write_close_remove(os.path.join(data, "c1", "f"))

os.mkdir("staging")
with open("staging/f", "wb") as out:
    out.write(b"s" * 4096)
os.rename("staging", "c2")
os.unlink("c2/f")
after_rotations = deleted_mappings()

os.unlink("c1.old/f")
after_removal = deleted_mappings()
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "mapped": "0x%x" % mapped, "afterRotations": after_rotations, "afterRemoval": after_removal}, out)
unmap(mapped, SIZE)
unmap(mapped_absolute, SIZE)

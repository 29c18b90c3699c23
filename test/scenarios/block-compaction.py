"""A time-series store's block life, as Prometheus's TSDB lives it: each
block is a directory holding chunks/000001, written under
BLOCK.tmp-for-creation (chunks/000001.tmp, renamed to chunks/000001), the
directory renamed into place, then the chunk file mapped whole (shared, read
only) and its fd closed. Every block's chunk file has the same name.

USAGE: python3 block-compaction.py WORKDIR
  Writes blocks b1 and b2 and maps their chunks; takes a snapshot (a hard
  link of each chunk file under snapshots/); compacts them into b3 (written
  and mapped the same way); unmaps b1's and b2's chunks and deletes those
  blocks (renamed BLOCK.tmp-for-deletion, then removed file by file, as Go's
  os.RemoveAll does); removes the snapshot. Then deletes b3 while its chunks
  are still mapped: a real leak. Writes the "(deleted)" lines of its own
  /proc/self/maps after the compaction and after b3's removal to
  WORKDIR/truth.json as {"pid", "b3", "afterCompaction", "afterRemoval"}
  ("b3": the address of b3's mapping); unmaps it and exits.
"""
import json
import mmap
import os
import shutil
import sys

from deleted_maps import deleted_mappings

SIZE = 65536
data = os.path.join(os.path.abspath(sys.argv[1]), "data")
os.mkdir(data)


def write_block(name):
    creating = os.path.join(data, name + ".tmp-for-creation")
    os.makedirs(os.path.join(creating, "chunks"))
    with open(os.path.join(creating, "chunks", "000001.tmp"), "wb") as out:
        out.write(os.urandom(SIZE))
    os.rename(os.path.join(creating, "chunks", "000001.tmp"), os.path.join(creating, "chunks", "000001"))
    with open(os.path.join(creating, "meta.json"), "w") as out:
        json.dump({"ulid": name}, out)
    os.rename(creating, os.path.join(data, name))
    fd = os.open(os.path.join(data, name, "chunks", "000001"), os.O_RDONLY)
    mapped = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fd)
    return mapped


def delete_block(name):
    deleting = os.path.join(data, name + ".tmp-for-deletion")
    os.rename(os.path.join(data, name), deleting)
    shutil.rmtree(deleting)


b1 = write_block("b1")
b2 = write_block("b2")
os.makedirs(os.path.join(data, "snapshots", "s1"))
for name in ("b1", "b2"):
    os.makedirs(os.path.join(data, "snapshots", "s1", name, "chunks"))
    os.link(os.path.join(data, name, "chunks", "000001"), os.path.join(data, "snapshots", "s1", name, "chunks", "000001"))
b3 = write_block("b3")
b1.close()
b2.close()
delete_block("b1")
delete_block("b2")
shutil.rmtree(os.path.join(data, "snapshots"))
after_compaction = deleted_mappings()
delete_block("b3")
after_removal = deleted_mappings()
address = [m for m in open("/proc/self/maps") if m.rstrip().endswith("/b3.tmp-for-deletion/chunks/000001 (deleted)")][0].split("-")[0]
with open(os.path.join(os.path.abspath(sys.argv[1]), "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "b3": "0x" + address, "afterCompaction": after_compaction, "afterRemoval": after_removal}, out)
b3.close()

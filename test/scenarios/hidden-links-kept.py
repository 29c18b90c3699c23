"""Mapped files kept by hard links made before the trace, with the calls
that made bpftrace's hidden-link reading go wrong around them (review 32,
exactness 5 and 8). For test/capture-review32-hidden-links.test.ts.

USAGE: python3 hidden-links-kept.py DIR
  DIR/h.dat, DIR/j.dat and DIR/k.dat (8 KiB each) have second names
  DIR/hb.dat, DIR/jb.dat and DIR/kb.dat, made before the trace. Maps k.dat
  at once, before the trace (exactness 1). At a line on stdin: unlinks
  k.dat; maps h.dat and
  unlinks it; opens, closes and unlinks a temporary file DIR/t.tmp; maps
  j.dat, writes DIR/j.new and renames it over j.dat, then unlinks j.dat.
  Writes DIR/truth.json {"pid", "kept": {name: [inode, nlink]} of hb.dat,
  jb.dat and kb.dat, "mapped": {name: inode} from its own /proc/self/maps}, and runs
  until stdin closes, its mappings live.
"""
import json
import mmap
import os
import sys

from deleted_maps import mapped_inodes

directory = os.path.abspath(sys.argv[1])


def path(name):
    return os.path.join(directory, name)


def mapped(name):
    fd = os.open(path(name), os.O_RDWR)
    view = mmap.mmap(fd, 8192)
    os.close(fd)
    return view


k = mapped("k.dat")
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(path("k.dat"))
h = mapped("h.dat")
os.unlink(path("h.dat"))
temporary = os.open(path("t.tmp"), os.O_RDWR | os.O_CREAT, 0o644)
os.close(temporary)
os.unlink(path("t.tmp"))
j = mapped("j.dat")
with open(path("j.new"), "wb") as out:
    out.write(b"new")
os.rename(path("j.new"), path("j.dat"))
os.unlink(path("j.dat"))
inodes = mapped_inodes(directory)
kept = {name: [os.stat(path(name)).st_ino, os.stat(path(name)).st_nlink] for name in ("hb.dat", "jb.dat", "kb.dat")}
with open(path("truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "kept": kept, "mapped": inodes}, out)
sys.stdin.read()

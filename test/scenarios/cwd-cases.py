"""Relative and absolute names of one file, for test/capture-cwd-real.test.ts.

Usage: cwd-cases.py TRUTH_JSON

Run in a directory of its own (its working directory is where it works).
Three files, each mapped (MAP_SHARED, 8192 bytes) and unlinked while mapped,
each by another spelling than it was opened by:
  rel.map      opened as "rel.map", unlinked by its absolute path
  abs.map      opened by its absolute path, unlinked as "abs.map"
  sub/sub.map  after chdir("sub"), opened as "sub.map", unlinked by its absolute path
os.path.abspath asks the kernel (getcwd), which no tracer here shows. Then
the program's own /proc/self/maps lines of deleted files are the truth,
written to TRUTH_JSON: {"pid", "leaks": [{"address", "bytes", "path"}]}.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

truth = os.path.abspath(sys.argv[1])
keep = []


def mapped(path):
    with open(path, "wb") as out:
        out.write(b"r" * 8192)
    f = open(path, "r+b")
    keep.append(mmap.mmap(f.fileno(), 0))
    f.close()


mapped("rel.map")
os.unlink(os.path.abspath("rel.map"))
mapped(os.path.abspath("abs.map"))
os.unlink("abs.map")
os.mkdir("sub")
os.chdir("sub")
mapped("sub.map")
os.unlink(os.path.abspath("sub.map"))

with open(truth, "w") as out:
    json.dump({"pid": os.getpid(), "leaks": deleted_mappings()}, out)

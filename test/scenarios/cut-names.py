"""Names bpftrace cuts, for test/capture-cut-names.test.ts (review 2, D4).

Usage: cut-names.py TRUTH_JSON

Run in a directory of its own (its working directory is where it works).
Under w/, a directory whose name makes each path below 200 bytes up to its
last zero: bpftrace's str() keeps 199 (BPFTRACE_STRLEN 200), so the four
files 00000000000000000000.{index,timeindex,snapshot,log}, 8192 bytes each,
all print as the same 199 bytes. Every call names them by their absolute
path. The steps, each followed by a checkpoint:
  mapped     .index, .timeindex and .snapshot mapped (MAP_SHARED); an fd on
             .timeindex kept open
  log        .log unlinked (never mapped)
  index      .index unmapped, then unlinked
  timeindex  .timeindex unlinked while mapped
  ftruncate  ftruncate of the fd kept on .timeindex (orphanmap.bt's record
             of it carries the file's link count)
  snapshot   .snapshot unlinked while mapped
  trash      five directories with short names, each holding a file mapped
             (and kept mapped) by a path of 205 bytes, moved: the first
             renamed to a name of 205 bytes (bpftrace cuts it), the second to
             another short one, the third too while an fd of it is held, the
             fourth swapped with an empty one (RENAME_EXCHANGE), the fifth
             renamed by names with a trailing slash, as `mv job/ trash/`
             gives them; then each removed by shutil.rmtree, which unlinks
             through an fd of the directory (review 55, H2; review 57, F2,
             F3, F8)
A checkpoint opens "mark-LABEL" in the working directory (a short name: the
test finds the steps in the trace by it), then reads the program's own
/proc/self/maps: the lines of deleted files are the truth, written to
TRUTH_JSON: {"pid", "base", "checkpoints": [{"label", "deleted": [{"address",
"bytes", "path"}]}]}, base being the files' path without its suffix.
"""
import ctypes
import json
import mmap
import os
import shutil
import sys

from deleted_maps import deleted_mappings

truth_path = os.path.abspath(sys.argv[1])
work = os.path.abspath("w")
# work + "/" + dir + "/" + 20 zeros is 200 bytes: the cut (199) falls on the last zero.
dir_name = "t" * (200 - len(work) - 1 - 1 - 20 - 2) + "-0"
directory = os.path.join(work, dir_name)
os.makedirs(directory)
base = os.path.join(directory, "0" * 20)
assert len(base.encode()) == 200, len(base.encode())

checkpoints = []


def checkpoint(label):
    os.close(os.open("mark-" + label, os.O_WRONLY | os.O_CREAT, 0o644))
    checkpoints.append({"label": label, "deleted": deleted_mappings()})


for suffix in (".index", ".timeindex", ".snapshot", ".log"):
    with open(base + suffix, "wb") as out:
        out.write(b"\0" * 8192)
maps = {}
for suffix in (".index", ".timeindex", ".snapshot"):
    with open(base + suffix, "r+b") as f:
        maps[suffix] = mmap.mmap(f.fileno(), 8192)
kept = os.open(base + ".timeindex", os.O_RDWR)
checkpoint("mapped")
os.unlink(base + ".log")
checkpoint("log")
maps[".index"].close()
os.unlink(base + ".index")
checkpoint("index")
os.unlink(base + ".timeindex")
checkpoint("timeindex")
os.ftruncate(kept, 8192)
checkpoint("ftruncate")
os.unlink(base + ".snapshot")
checkpoint("snapshot")
libc = ctypes.CDLL(None, use_errno=True)
held = []
for job, trash, how in (("job1", "x" * (205 - len(work) - 1), "rename"), ("job2", "trash2", "rename"), ("job3", "trash3", "held"), ("job4", "trash4", "exchange"), ("job5", "trash5", "slash")):
    before = os.path.join(work, job)
    os.makedirs(before)
    name = os.path.join(before, "j" * (205 - len(before) - 1))
    with open(name, "wb") as out:
        out.write(b"\0" * 8192)
    with open(name, "r+b") as f:
        maps[job] = mmap.mmap(f.fileno(), 8192)
    after = os.path.join(work, trash)
    if how == "held":
        held.append(os.open(before, os.O_RDONLY | os.O_DIRECTORY))
    if how == "exchange":
        os.makedirs(after)
        if libc.renameat2(-100, before.encode(), -100, after.encode(), 2) != 0:  # RENAME_EXCHANGE
            raise OSError(ctypes.get_errno(), "renameat2")
        shutil.rmtree(before)
    elif how == "slash":
        os.rename(before + "/", after + "/")
    else:
        os.rename(before, after)
    shutil.rmtree(after)
checkpoint("trash")

with open(truth_path, "w") as out:
    json.dump({"pid": os.getpid(), "base": base, "checkpoints": checkpoints}, out)

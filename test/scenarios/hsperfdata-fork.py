"""A JVM-like parent maps its performance-data file (named as the JVM names
it, DIR/hsperfdata_USER/PID, under a test's own directory), forks two
children that keep its mapping and do not exec, one before and one after the
parent unlinks the file, and then unmaps its own. Each child writes what its
own /proc/self/maps shows of the file (the truth) to RECORD.CHILD.json and
exits when told; the parent writes its own record to RECORD.json.

USAGE: python3 hsperfdata-fork.py RECORD.json DIR
"""
import json
import mmap
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deleted_maps import deleted_mappings  # noqa: E402

record_path, workdir = sys.argv[1], sys.argv[2]
perf_dir = os.path.join(workdir, "hsperfdata_orphanmap")
os.makedirs(perf_dir)
perf = os.path.join(perf_dir, str(os.getpid()))


def child(name, told):
    """Waits until the parent has unlinked the file, then records what this process maps of it."""
    os.read(told, 1)
    with open("%s.%s.json" % (record_path, name), "w") as out:
        json.dump({"pid": os.getpid(), "deleted": [m for m in deleted_mappings() if m["path"] == perf]}, out)
    os._exit(0)


def fork_child(name):
    told_r, told_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(told_w)
        child(name, told_r)
    os.close(told_r)
    return pid, told_w


fd = os.open(perf, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 32768)
data = mmap.mmap(fd, 32768)
os.close(fd)
before, tell_before = fork_child("before")
os.unlink(perf)
after, tell_after = fork_child("after")
record = {"pid": os.getpid(), "perf": perf, "before": before, "after": after, "deletedInParent": [m for m in deleted_mappings() if m["path"] == perf]}
data.close()
for tell in (tell_before, tell_after):
    os.write(tell, b"x")
for pid in (before, after):
    _, status = os.waitpid(pid, 0)
    assert status == 0
with open(record_path, "w") as out:
    json.dump(record, out)

"""A program traced with strace -f writing to stderr, whose own lines never
carry a "[pid N]" prefix: strace prints one only while more than one tracee
lives, and this process makes no system call while its child does.

The parent maps a file and unlinks it (a leak it keeps); with "fork" it
also forks a child that does the same and exits, while the parent spins in
user space on a flag in shared memory (no system call) until the child has
set it, and then a while longer, so that the child is gone before the
parent's next call is printed.

Writes its own record as JSON to argv[1]: its pid, its child's, and the
deleted mappings each had in /proc/self/maps.

usage: stderr-root.py RECORD WORKDIR [fork]
"""

import json
import mmap
import os
import sys
import time

from deleted_maps import deleted_mappings
from deleted_maps import map_and_unlink as leak

record_path, workdir = sys.argv[1], sys.argv[2]
with_child = len(sys.argv) > 3 and sys.argv[3] == "fork"


def map_and_unlink(name):
    """A leak of a new 8 KiB file in WORKDIR (deleted_maps.map_and_unlink)."""
    return leak(os.path.join(workdir, name), 8192)


record = {"pid": os.getpid(), "child": None}
own = map_and_unlink("parent.bin")
if with_child:
    # Anonymous and shared: the child's write is seen here without a system call.
    flag = mmap.mmap(-1, 4096)
    report_read, report_write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(report_read)
        kept = map_and_unlink("child.bin")
        os.write(report_write, json.dumps({"pid": os.getpid(), "deleted": deleted_mappings()}).encode())
        os.close(report_write)
        flag[0] = 1
        os._exit(0)
    while flag[0] == 0:
        pass
    # The child's exit_group comes after its flag: give it the time to be printed before this process's next call.
    spin_until = time.perf_counter() + 0.5  # perf_counter reads the vDSO clock: no system call
    while time.perf_counter() < spin_until:
        pass
    os.close(report_write)
    with os.fdopen(report_read, "rb") as report:
        seen = report.read()
    os.waitpid(child, 0)
    record["child"] = json.loads(seen)
record["deleted"] = deleted_mappings()
with open(record_path, "w") as out:
    json.dump(record, out)
os._exit(0)

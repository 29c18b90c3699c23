"""Processes that end while they still map files they unlinked, three ways:
the program itself and a forked child leave through exit_group (os._exit),
and a second child is killed with SIGKILL. Under strace -qq none of them
prints a "+++ exited +++" or "+++ killed by +++" line.

Writes its own record as JSON to argv[1]: for each process its pid, how it
ended (from waitpid, for the children) and the deleted mappings it had in
/proc/self/maps just before it ended, the truth the test compares with.

With "reaped" it does something else: a child maps a file and exits, and
the parent, once waitpid has returned it, unlinks the file. No mapping
outlives its file then; the record says what the child had mapped and that
the parent had no deleted mapping at the end.

usage: quiet-exits.py RECORD WORKDIR [reaped]
"""

import json
import mmap
import os
import signal
import sys

from deleted_maps import deleted_mappings
from deleted_maps import map_and_unlink as leak

record_path, workdir = sys.argv[1], sys.argv[2]


def map_and_unlink(name):
    """A leak of a new 16 KiB file in WORKDIR (deleted_maps.map_and_unlink)."""
    return leak(os.path.join(workdir, name), 16384)


def child(name, report_fd, then):
    """Forks a child that maps and unlinks its own file, reports its deleted mappings, then ends as `then` says."""
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_read)
        kept = map_and_unlink(name)
        os.write(ready_write, json.dumps(deleted_mappings()).encode())
        os.close(ready_write)
        if then == "exit":
            os._exit(0)
        signal.pause()  # killed here
        del kept
    os.close(ready_write)
    with os.fdopen(ready_read, "rb") as report:
        seen = report.read()
    return pid, json.loads(seen)


if len(sys.argv) > 3 and sys.argv[3] == "reaped":
    path = os.path.join(workdir, "shared.bin")
    with open(path, "wb") as f:
        f.write(b"x" * 16384)
    report_read, report_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(report_read)
        fd = os.open(path, os.O_RDWR)
        kept = mmap.mmap(fd, 16384)
        os.close(fd)
        mapped = [line.split()[0] for line in open("/proc/self/maps") if line.rstrip("\n").endswith(path)]
        os.write(report_write, json.dumps(mapped).encode())
        os._exit(0)
    os.close(report_write)
    child_mapped = json.loads(os.read(report_read, 65536))
    os.waitpid(pid, 0)
    os.unlink(path)
    with open(record_path, "w") as out:
        json.dump({"parent": os.getpid(), "child": pid, "childMapped": child_mapped, "parentDeleted": deleted_mappings()}, out)
    os._exit(0)

own = map_and_unlink("parent.bin")
exited_pid, exited_seen = child("exited-child.bin", None, "exit")
_, exited_status = os.waitpid(exited_pid, 0)
killed_pid, killed_seen = child("killed-child.bin", None, "kill")
os.kill(killed_pid, signal.SIGKILL)
_, killed_status = os.waitpid(killed_pid, 0)

record = {
    "parent": {"pid": os.getpid(), "deleted": deleted_mappings()},
    "exited": {"pid": exited_pid, "deleted": exited_seen, "status": "exited with %d" % os.waitstatus_to_exitcode(exited_status)},
    "killed": {"pid": killed_pid, "deleted": killed_seen, "signal": os.WTERMSIG(killed_status) if os.WIFSIGNALED(killed_status) else None},
}
with open(record_path, "w") as out:
    json.dump(record, out)
os._exit(0)

"""A child made with clone(CLONE_UNTRACED), which leaks, for
test/engine-review22-untraced-child.test.ts (review 22, F4).

Usage: untraced-child.py TRUTH_JSON [WORKDIR]

WORKDIR defaults to w/ beside TRUTH_JSON.

The kernel attaches no tracer to a child made with CLONE_UNTRACED, so
`strace -f` does not follow it. The child maps WORKDIR/seg.index (1 MiB,
shared), unlinks it, writes its own /proc/self/maps "(deleted)" lines and
its TracerPid to TRUTH_JSON as {"pid", "tracerPid", "deleted": [{"address",
"bytes", "path"}]}, and leaves by os._exit with the mapping live. The
parent waits for it.
"""
import ctypes
import json
import os
import sys

from deleted_maps import deleted_mappings, map_and_unlink

CLONE_UNTRACED = 0x00800000
SIGCHLD = 17
SYS_CLONE = 56  # x86_64

truth_path = sys.argv[1]
work = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(truth_path)), "w")
os.makedirs(work, exist_ok=True)
libc = ctypes.CDLL(None, use_errno=True)
# clone(flags, stack, parent_tid, child_tid, tls): a fork, with no stack of its own.
pid = libc.syscall(SYS_CLONE, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0)
if pid < 0:
    raise OSError(ctypes.get_errno(), "clone")
if pid == 0:
    kept = map_and_unlink(os.path.join(work, "seg.index"), 1 << 20)
    with open("/proc/self/status") as status:
        tracer = next(int(line.split()[1]) for line in status if line.startswith("TracerPid:"))
    with open(truth_path, "w") as out:
        json.dump({"pid": os.getpid(), "tracerPid": tracer, "deleted": deleted_mappings()}, out)
    os._exit(0)
os.waitpid(pid, 0)

"""A process whose fork child gets a lower pid than its own (pids wrapped, as
on a long-running host: a postmaster's first fork after an attach, review 47,
P2), then maps a file and unlinks it: its leak.

USAGE: python3 fork-low-child.py FILE
  Prints its pid. At a line on stdin, forks a child that calls getppid and
  exits, with a pid below its own (clone3's set_tid, as root: the kernel's
  pid counter is left as it is), prints the child's pid, waits for it; then
  maps FILE (made, 8 KiB, libc's mmap, shared, the fd closed), unlinks it,
  and prints the line of its own /proc/self/maps for it. Then waits for
  stdin to close.
"""
import ctypes
import os
import signal
import sys

from deleted_maps import map_and_close

SYS_CLONE3 = 435


def fork_with_pid(pid):
    """A fork whose child has `pid` (clone3 with set_tid), or None when that pid is taken."""
    libc = ctypes.CDLL(None, use_errno=True)
    wanted = (ctypes.c_int * 1)(pid)
    # struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size
    args = (ctypes.c_uint64 * 10)(0, 0, 0, 0, signal.SIGCHLD, 0, 0, 0, ctypes.addressof(wanted), 1)
    child = libc.syscall(SYS_CLONE3, args, ctypes.sizeof(args))
    if child < 0:
        if ctypes.get_errno() == 17:  # EEXIST
            return None
        raise OSError(ctypes.get_errno(), "clone3")
    return child


name = os.path.abspath(sys.argv[1])
print(os.getpid(), flush=True)
sys.stdin.readline()
child = None
wanted = os.getpid() // 2
while child is None:
    child = fork_with_pid(wanted)
    wanted -= 1
if child == 0:
    # A call orphanmap does not follow, as a forked child's first calls are (set_robust_list, signal masks).
    os.getppid()
    os._exit(0)
print(child, flush=True)
os.waitpid(child, 0)
map_and_close(name, 8192)
os.unlink(name)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(name + " (deleted)")).rstrip("\n"), flush=True)
sys.stdin.read()

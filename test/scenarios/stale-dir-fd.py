"""A mapped file unlinked through a directory fd that the trace's record of
fds names wrongly, for test/engine-review26-stale-dir-fd.test.ts.

USAGE: python3 stale-dir-fd.py renamed|exec DIR
  renamed: maps DIR/a/b/seg (shared, 64 KiB, then closes it), makes the
    symlink DIR/l -> DIR/a/b, opens DIR/l as a directory, renames DIR/a/b to
    DIR/c, and unlinks "seg" relative to that fd: DIR/c/seg goes.
  exec: opens DIR/decoy as a directory at fd 20, inheritable, then marks it
    close-on-exec with ioctl(FIOCLEX), a call the capture's filter leaves out,
    and execs itself: the kernel closes fd 20 at the exec. The new image maps
    DIR/real/seg, takes a directory fd of DIR/real from a child over a unix
    socket (recvmsg, also left out), which lands on fd 20 (every lower number
    is taken), and unlinks "seg" relative to it: DIR/real/seg goes.
  Either way it then writes down the "(deleted)" lines of its own
  /proc/self/maps in DIR/truth.json as {"pid", "deleted": [...]}, unmaps and
  exits.
"""
import fcntl
import json
import os
import socket
import sys
import termios

from deleted_maps import deleted_mappings, map_and_close, unmap

SIZE = 65536
STALE_FD = 20


def unlink_and_record(directory, dir_fd, kept):
    os.unlink("seg", dir_fd=dir_fd)
    with open(os.path.join(directory, "truth.json"), "w") as out:
        json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
    unmap(kept, SIZE)


case, directory = sys.argv[1], os.path.abspath(sys.argv[2])
if case == "renamed":
    os.makedirs(os.path.join(directory, "a", "b"))
    kept = map_and_close(os.path.join(directory, "a", "b", "seg"), SIZE)
    os.symlink(os.path.join(directory, "a", "b"), os.path.join(directory, "l"))
    through = os.open(os.path.join(directory, "l"), os.O_RDONLY | os.O_DIRECTORY)
    os.rename(os.path.join(directory, "a", "b"), os.path.join(directory, "c"))
    unlink_and_record(directory, through, kept)
elif case == "exec":
    os.makedirs(os.path.join(directory, "decoy"))
    os.makedirs(os.path.join(directory, "real"))
    decoy = os.open(os.path.join(directory, "decoy"), os.O_RDONLY | os.O_DIRECTORY)
    os.dup2(decoy, STALE_FD, inheritable=True)
    os.close(decoy)
    fcntl.ioctl(STALE_FD, termios.FIOCLEX)
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "exec2", directory])
elif case == "exec2":
    kept = map_and_close(os.path.join(directory, "real", "seg"), SIZE)
    ours, theirs = socket.socketpair()
    child = os.fork()
    if child == 0:
        socket.send_fds(theirs, [b"d"], [os.open(os.path.join(directory, "real"), os.O_RDONLY | os.O_DIRECTORY)])
        os._exit(0)
    os.waitpid(child, 0)
    # Every number below STALE_FD taken, so that the fd received lands on it, as a busy server's would.
    fillers = []
    while True:
        filler = os.open(os.devnull, os.O_RDONLY)
        if filler >= STALE_FD - 1:
            break
        fillers.append(filler)
    _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    assert fds == [STALE_FD], fds
    unlink_and_record(directory, STALE_FD, kept)

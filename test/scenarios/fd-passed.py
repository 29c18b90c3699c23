"""A file whose fd a producer hands to a consumer over a unix socket
(SCM_RIGHTS), for test/engine-review26-fd-passed.test.ts and
test/capture-review26-bpftrace.test.ts.

USAGE: python3 fd-passed.py DIR [linked]
  The producer writes DIR/snapshot.bin (64 KiB), sends its fd to a forked
  consumer and closes its own. The consumer maps the fd it received with
  Python's mmap module (which maps a dup of it) and closes the received one.
  The producer then unlinks DIR/snapshot.bin; the consumer writes down the
  "(deleted)" lines of its own /proc/self/maps in DIR/truth.json as
  {"pid", "deleted": [...]}, unmaps and exits.
  With "linked", the producer also links DIR/snapshot.bin.2 to the file
  before it sends the fd, and unlinks it before the file (review 31, code
  review F1: a file forgotten with two names was woken by its inode no more).
"""
import json
import mmap
import os
import socket
import sys

from deleted_maps import deleted_mappings

SIZE = 65536
directory = os.path.abspath(sys.argv[1])
linked = sys.argv[2:] == ["linked"]
os.makedirs(directory, exist_ok=True)
path = os.path.join(directory, "snapshot.bin")
ours, theirs = socket.socketpair()
consumer = os.fork()
if consumer == 0:
    ours.close()
    _, fds, _, _ = socket.recv_fds(theirs, 1, 1)
    kept = mmap.mmap(fds[0], SIZE)
    os.close(fds[0])
    theirs.sendall(b"m")
    theirs.recv(1)
    with open(os.path.join(directory, "truth.json"), "w") as out:
        json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
    kept.close()
    os._exit(0)
theirs.close()
with open(path, "wb") as out:
    out.write(b"s" * SIZE)
if linked:
    os.link(path, path + ".2")
fd = os.open(path, os.O_RDWR)
socket.send_fds(ours, [b"f"], [fd])
os.close(fd)
ours.recv(1)
if linked:
    os.unlink(path + ".2")
os.unlink(path)
ours.sendall(b"g")
os.waitpid(consumer, 0)

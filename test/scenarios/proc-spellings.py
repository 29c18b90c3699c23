"""Mapped files unlinked by names that go through /proc's magic links, for
test/engine-review24-proc-spellings.test.ts.

USAGE: python3 proc-spellings.py DIR
  Changes into DIR and opens it as a directory fd; then for each spelling
  maps DIR/SPELLING.index (shared, 64 KiB), closes its fd and unlinks it as
  /proc/self/root/DIR/..., /proc/self/cwd/..., /proc/thread-self/root/...,
  /proc/PID/root/... (its own pid), /proc/self/fd/DIRFD/... or
  /dev/fd/DIRFD/...; writes
  DIR/truth.json: its pid and the "(deleted)" lines of its own
  /proc/self/maps; exits with every file still mapped.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = os.path.abspath(sys.argv[1])
os.chdir(directory)
dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
spellings = {
    "root": lambda name: "/proc/self/root" + os.path.join(directory, name),
    "cwd": lambda name: "/proc/self/cwd/" + name,
    "tsroot": lambda name: "/proc/thread-self/root" + os.path.join(directory, name),
    "pidroot": lambda name: "/proc/%d/root%s" % (os.getpid(), os.path.join(directory, name)),
    "fddir": lambda name: "/proc/self/fd/%d/%s" % (dfd, name),
    "devfd": lambda name: "/dev/fd/%d/%s" % (dfd, name),
}
kept = []
for spelling, spelled in spellings.items():
    name = spelling + ".index"
    fd = os.open(os.path.join(directory, name), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.ftruncate(fd, 65536)
    kept.append(mmap.mmap(fd, 65536))
    os.close(fd)
    os.unlink(spelled(name))
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
os._exit(0)

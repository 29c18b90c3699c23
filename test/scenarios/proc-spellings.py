"""Mapped files unlinked by names that go through /proc's magic links, for
test/engine-review24-proc-spellings.test.ts.

USAGE: python3 proc-spellings.py DIR [OTHER_PID]
  Changes into DIR and opens it as a directory fd (and as fd 0); then for
  each spelling maps DIR/SPELLING.index (shared, 64 KiB), closes its fd and
  unlinks it as /proc/self/root/DIR/..., /proc/self/cwd/...,
  /proc/thread-self/root/..., /proc/PID/root/... (its own pid),
  /proc/self/fd/DIRFD/... or /dev/fd/DIRFD/...; and as review 25 spelled
  them: with "//" and "/./" in them, through /proc/self/task/TID/ and
  /proc/PID/task/TID/, /dev/stdin/..., a root link that leads to another
  link, "proc/self/fd/DIRFD/..." from the root directory, and
  "self/fd/DIRFD/..." relative to an fd of /proc. With OTHER_PID, only
  the two no trace can follow: /proc/OTHER_PID/root/DIR/... (another
  process's root, whatever it is) and DIR/lnk/... (a symlink to
  /proc/self/cwd). Writes DIR/truth.json: its pid and the "(deleted)" lines
  of its own /proc/self/maps; exits with every file still mapped.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory = os.path.abspath(sys.argv[1])
os.chdir(directory)
dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
os.dup2(dfd, 0)
procfd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
me, tid = os.getpid(), os.gettid() if hasattr(os, "gettid") else os.getpid()


def from_root(name):
    os.chdir("/")
    try:
        os.unlink("proc/self/fd/%d/%s" % (dfd, name))
    finally:
        os.chdir(directory)


spellings = {
    "root": lambda name: "/proc/self/root" + os.path.join(directory, name),
    "cwd": lambda name: "/proc/self/cwd/" + name,
    "tsroot": lambda name: "/proc/thread-self/root" + os.path.join(directory, name),
    "pidroot": lambda name: "/proc/%d/root%s" % (os.getpid(), os.path.join(directory, name)),
    "fddir": lambda name: "/proc/self/fd/%d/%s" % (dfd, name),
    "devfd": lambda name: "/dev/fd/%d/%s" % (dfd, name),
    "slashes": lambda name: "//proc/self/cwd/" + name,
    "procdot": lambda name: "/proc/./self/cwd/" + name,
    "selfdot": lambda name: "/proc/self/./cwd/" + name,
    "task": lambda name: "/proc/self/task/%d/cwd/%s" % (tid, name),
    "pidtask": lambda name: "/proc/%d/task/%d/cwd/%s" % (me, tid, name),
    "stdin": lambda name: "/dev/stdin/" + name,
    "devdotfd": lambda name: "/dev/./fd/%d/%s" % (dfd, name),
    "nested": lambda name: "/proc/self/root/proc/self/cwd/" + name,
    "relproc": from_root,
    "procfd": lambda name: ("self/fd/%d/%s" % (dfd, name), procfd),
}
if len(sys.argv) > 2:
    os.symlink("/proc/self/cwd", os.path.join(directory, "lnk"))
    spellings = {
        "otherroot": lambda name: "/proc/%s/root%s" % (sys.argv[2], os.path.join(directory, name)),
        "symlink": lambda name: os.path.join(directory, "lnk", name),
    }
kept = []
for spelling, spelled in spellings.items():
    name = spelling + ".index"
    fd = os.open(os.path.join(directory, name), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.ftruncate(fd, 65536)
    kept.append(mmap.mmap(fd, 65536))
    os.close(fd)
    given = spelled(name)
    if isinstance(given, tuple):
        os.unlink(given[0], dir_fd=given[1])
    elif given is not None:
        os.unlink(given)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
os._exit(0)

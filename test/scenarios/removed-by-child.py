"""A file mapped before a tracer attaches, its fd kept open, then removed by
a child this process starts (review 55, H1: a Berkeley DB holder attached
by `strace -p` ran db_recover, which removed the region files it mapped).

USAGE: python3 removed-by-child.py DIR [mv|spawn|fork-exit|open-rm|open-rename|dpkg-mv|dpkg-link|link-rm|mv-rm|two|excl-over]
  Maps DIR/seg.idx (8 KiB, made by the caller; libc's mmap through ctypes,
  shared), keeps its fd, and prints its pid. At a line on stdin, runs
  `rm DIR/seg.idx` (mv: writes DIR/seg.idx.new and runs `mv DIR/seg.idx.new
  DIR/seg.idx`, an atomic save over it: review 55, H3; spawn: `rm` started
  by os.posix_spawn, whose child makes no call but its execve; fork-exit:
  forks and exits, and its child, holding the mapping and the fd, runs `rm`
  and does the rest: code review 57, F5; open-rm, open-rename: a child
  python opens seg.idx and, holding it, unlinks it, or renames a new file
  over it, as gdbm's reorganize by another process does: review 59, H1;
  dpkg-mv, dpkg-link: the fd is closed once mapped, as ld.so does, and a
  shell replaces seg.idx as dpkg replaces a library: a new file renamed over
  it (dpkg-link: after a backup link seg.idx.dpkg-tmp, removed at the end):
  review 59, H2; link-rm: a shell links seg.idx to seg.idx.bak and removes
  both, the fd kept: code review 60, F3; mv-rm: a shell moves seg.idx to a
  new name (coreutils mv: RENAME_NOREPLACE) and removes it: F4; two: DIR/other.idx (made by the caller) is mapped and
  held too, and seg.idx mapped again through its fd once traced, before `rm`
  removes both: review 59, M1; excl-over: a child forked before the attach,
  which `strace -p` does not follow, renames seg.idx over DIR/x, a file this
  process has just made with O_CREAT|O_EXCL, and this process removes x: the
  file made in the trace is not the one removed: code review 62, F4), prints
  its own
  /proc/self/maps line of the mapping, closes the fd, and prints "closed".
  Then waits for stdin to close.
"""
import os
import subprocess
import sys

from deleted_maps import mmap_shared

directory = os.path.abspath(sys.argv[1])
segment = os.path.join(directory, "seg.idx")
mode = sys.argv[2] if len(sys.argv) > 2 else ""
fd = os.open(segment, os.O_RDWR)
mmap_shared(fd, 8192)
if mode.startswith("dpkg-"):
    os.close(fd)
if mode == "two":
    other = os.open(os.path.join(directory, "other.idx"), os.O_RDWR)
    mmap_shared(other, 8192)
if mode == "excl-over":
    told_r, told_w = os.pipe()
    renamer = os.fork()
    if renamer == 0:
        os.close(told_w)
        os.read(told_r, 1)
        os.rename(segment, os.path.join(directory, "x"))
        os._exit(0)
    os.close(told_r)
print(os.getpid(), flush=True)
sys.stdin.readline()
if mode == "two":
    mmap_shared(fd, 8192)
HELPER = {
    "open-rm": "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.unlink(sys.argv[1]); os.close(fd)",
    "open-rename": (
        "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); new = open(sys.argv[1] + '.new', 'wb'); new.write(os.read(fd, 8192)); new.close(); "
        "os.rename(sys.argv[1] + '.new', sys.argv[1]); os.close(fd)"
    ),
}
SHELL = {
    "dpkg-mv": 'head -c 8192 /dev/zero > "$1.dpkg-new" && mv -f "$1.dpkg-new" "$1"',
    "dpkg-link": 'ln "$1" "$1.dpkg-tmp" && head -c 8192 /dev/zero > "$1.dpkg-new" && mv -f "$1.dpkg-new" "$1" && rm "$1.dpkg-tmp"',
    "link-rm": 'ln "$1" "$1.bak" && rm "$1" && rm "$1.bak"',
    "mv-rm": 'mv "$1" "$1.old" && rm "$1.old"',
}
if mode in HELPER:
    subprocess.run([sys.executable, "-c", HELPER[mode], segment], check=True)
elif mode in SHELL:
    subprocess.run(["sh", "-c", SHELL[mode], "sh", segment], check=True)
elif mode == "mv":
    with open(segment + ".new", "wb") as new:
        new.write(b"n" * 8192)
    subprocess.run(["mv", segment + ".new", segment], check=True)
elif mode == "fork-exit":
    if os.fork() != 0:
        os._exit(0)
    subprocess.run(["rm", segment], check=True)
elif mode == "two":
    subprocess.run(["rm", segment, os.path.join(directory, "other.idx")], check=True)
elif mode == "excl-over":
    made = os.open(os.path.join(directory, "x"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(told_w, b"g")
    os.waitpid(renamer, 0)
    segment = os.path.join(directory, "x")
    os.unlink(segment)
    os.close(made)
elif mode == "spawn":
    child = os.posix_spawn("/bin/rm", ["rm", segment], os.environ)
    os.waitpid(child, 0)
else:
    subprocess.run(["rm", segment], check=True)
with open("/proc/self/maps") as maps:
    print(next(line for line in maps if line.rstrip("\n").endswith(" (deleted)") and " " + segment in line).rstrip("\n"), flush=True)
if not mode.startswith("dpkg-"):
    os.close(fd)
if mode == "two":
    os.close(other)
print("closed", flush=True)
sys.stdin.read()

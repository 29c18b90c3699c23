"""A process that acts the moment a tracer attaches (review 32 attack, F3;
review 33 attack, F1 and F3): it unlinks a file it mapped before and ends
its mapping at once, before `capture --pid` reads maps-start.txt. For
test/capture-review32-attach-race.test.ts.

USAGE: python3 attach-race.py DIR [HOW]
  Maps DIR/seg (8 KiB, MAP_SHARED) and prints its pid; polls its own
  TracerPid; once traced, forks a child that keeps its copy of the mapping
  and lives as long as the parent does, then by HOW:
    unmapped (the default): unlinks DIR/seg, reads its own /proc/self/maps
      (the mapping, deleted), unmaps it;
    over: the same, but maps anonymous memory over it, MAP_FIXED, instead of
      unmapping it (review 32's code review);
    moved: moves it (mremap, MREMAP_FIXED) to another address first, then
      unlinks seg, reads its maps, unmaps it there (review 33, F3);
    unmapped-first: unmaps it first, then unlinks seg; the child, its copy
      still mapped, reads its own maps and unmaps its copy (review 33, F1);
    unmapped-first-fork: the same, the child made by the fork system call
      (as musl's fork() does), not clone (review 33's code review, 1);
    exec: unlinks seg, reads its maps, writes DIR/truth.json and runs
      `sh -c read` (execve), which ends the mapping (review 33, F8);
    dir-renamed: seg is DIR/d/seg; renames DIR/d to DIR/d2 first, then
      unlinks DIR/d2/seg, reads its maps, unmaps it (review 33, F10).
  Writes DIR/truth.json {"pid", "child", "mappedAt" (seg's address before
  the trace), "seg" (its name when unlinked), "deleted": [...] (the parent's
  deleted mappings after the unlink), "childDeleted": [...] (the child's,
  unmapped-first only)}. Exits at a line on stdin.
"""
import ctypes
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings, libc_calls, traced

directory = os.path.abspath(sys.argv[1])
how = sys.argv[2] if len(sys.argv) > 2 else "unmapped"
seg = os.path.join(directory, "seg")
if how == "dir-renamed":
    os.mkdir(os.path.join(directory, "d"))
    seg = os.path.join(directory, "d", "seg")
with open(seg, "wb") as out:
    out.write(b"x" * 8192)
fd = os.open(seg, os.O_RDWR)
kept = mmap.mmap(fd, 8192)
os.close(fd)
address = mapped_at = ctypes.addressof(ctypes.c_char.from_buffer(kept))
libc = libc_calls()
libc.syscall.restype = ctypes.c_long
# Where "moved" moves it: anonymous memory, mapped before the trace, which MREMAP_FIXED replaces.
spare = libc.mmap(None, 8192, 0, 0x02 | 0x20, -1, 0) if how == "moved" else None
print(os.getpid(), flush=True)


while not traced():
    pass
# Forked under the trace, before the capture lists the children it does not follow (review 32, F3: called untraced).
parent_gone, parent_alive = os.pipe()
unlinked, tell_child = os.pipe()
child_told, child_done = os.pipe()
# SYS_fork (57 on x86_64) where asked; Python's own fork is clone.
child = libc.syscall(57) if how == "unmapped-first-fork" else os.fork()
if child == 0:
    os.close(parent_alive)
    if how.startswith("unmapped-first"):
        os.read(unlinked, 1)
        with open(os.path.join(directory, "child.json"), "w") as out:
            json.dump(deleted_mappings(), out)
        libc.munmap(address, 8192)
        os.write(child_done, b".")
    os.read(parent_gone, 1)
    os._exit(0)
os.close(parent_gone)
child_deleted = None
if how.startswith("unmapped-first"):
    libc.munmap(address, 8192)
    os.unlink(seg)
    deleted = deleted_mappings()
    os.write(tell_child, b".")
    os.read(child_told, 1)
    with open(os.path.join(directory, "child.json")) as told:
        child_deleted = json.load(told)
else:
    if how == "dir-renamed":
        os.rename(os.path.join(directory, "d"), os.path.join(directory, "d2"))
        seg = os.path.join(directory, "d2", "seg")
    if how == "moved":
        # MREMAP_MAYMOVE|MREMAP_FIXED.
        if libc.mremap(address, 8192, 8192, 1 | 2, spare) != spare:
            sys.exit("could not move seg's mapping")
        address = spare
    os.unlink(seg)
    deleted = deleted_mappings()
    if how == "over":
        # PROT_READ; MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS. The mmap object keeps its view, now of the anonymous memory.
        libc.mmap(address, 8192, 1, 0x02 | 0x10 | 0x20, -1, 0)
    elif how != "exec":
        libc.munmap(address, 8192)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "child": child, "mappedAt": "0x%x" % mapped_at, "seg": seg, "deleted": deleted, "childDeleted": child_deleted}, out)
if how == "exec":
    # The new program reads the line, and its end is the process's: the child's pipe then closes.
    os.execv("/bin/sh", ["sh", "-c", "read line"])
sys.stdin.readline()
# The mmap object must not unmap its old address at the exit: it is another mapping's, or none.
os._exit(0)

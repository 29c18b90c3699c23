"""Files mapped by a launched program, then removed by another process the
capture does not trace, before the program exits (review 50: `git cat-file`
held packs mapped that an untraced `git repack` removed; it exited, and the
capture said nothing).

USAGE: python3 removed-by-another.py DIR [MODE [PARTITION]]
  MODE: renamed|mv|exchanged|dir-renamed|dir-renamed-mv|dir-renamed-comm|dir-renamed-utf8|dir-renamed-tab|child|child-read|child-symlinked|via-moved|again|again-excl|again-rename|again-link
  (none, or empty: the plain run). PARTITION (default 0): the dir-renamed modes'
  directory is DIR/topic-PARTITION (below, topic-0). Runs at once under one capture
  take one each: two mapped files whose names end in the same directory and name
  may be one file reached two ways, and a rename over one is a doubt of the other.
  Maps DIR/held.pack and DIR/released.idx (made by the caller; libc's mmap
  through ctypes, shared; each fd closed at once), unmaps released.idx, and
  writes DIR/mapped. Then waits until held.pack is gone from its name (the
  caller removes both), writes its own /proc/self/maps lines of held.pack to
  DIR/record.txt, and exits with held.pack still mapped.
  renamed: renames held.pack to DIR/kept.pack once mapped, and waits for that
  name to go instead (review 52, R2); mv: the same with coreutils' mv, by
  relative names (review 53, S5).
  dir-renamed: moves held.pack into DIR/topic-0 before it maps it, then
  renames that directory DIR/topic-0.3f2a-delete, as Kafka does a deleted
  topic's partition directory, and waits for its name there to go (review
  53, S8); dir-renamed-mv: the same with coreutils' mv, the directory named
  with a trailing slash (`mv DIR/topic-0/ DIR/topic-0.3f2a-delete/`: code
  review 63, F3); dir-renamed-comm: the same, renamed by a thread named
  "mmap(x" (review 66, A-1: the capture read any line holding "mmap(" as an
  mmap); dir-renamed-utf8: renamed to DIR/topic-0.\u00e9-delete, a name strace
  escapes; dir-renamed-tab: to one with a tab, which no list can hold (A-2).
  exchanged: once mapped, held.pack trades names with DIR/other.pack
  (renameat2 RENAME_EXCHANGE), and waits for other.pack to go (A-5).
  child: a fork child maps DIR/scratch.bin (made by the caller) and exits
  first; this process, traced, then removes it (review 52, R1: git repack
  removes the packs its pack-objects child mapped).
  child-symlinked: the same through DIR/via, a symlink to DIR made before
  the capture: the trace's mmap names DIR/scratch.bin, its removal
  DIR/via/scratch.bin (review 53, S7).
  via-moved: a fork child does all of the above (no mode) with held.pack
  mapped through DIR/via; once it has exited, this process renames the
  symlink DIR/via to DIR/via.old, which leaves held.pack's real name where
  it was (review 57, F4).
  again: a fork child does all of the above (no mode); once it has exited,
  this process writes DIR/held.pack anew and removes it, as a job run again
  does (review 53, S6; again-excl: made with O_CREAT|O_EXCL, not O_TRUNC:
  the strace reader marked no such open a new file before); again-rename,
  again-link: it writes DIR/held.pack.tmp
  and renames (links) it to DIR/held.pack, an atomic save, before the
  removal (code review 60, F7).
  child-read: as child, the parent reading scratch.bin before it removes it
  (code review 60, F11: a read makes no file anew).
"""
import ctypes
import mmap
import os
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def map_whole(name):
    fd = os.open(name, os.O_RDONLY)
    size = os.fstat(fd).st_size
    address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    os.close(fd)
    return address, size


directory = os.path.abspath(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else ""
partition_name = "topic-" + (sys.argv[3] if len(sys.argv) > 3 else "0")
if mode in ("child", "child-read", "child-symlinked"):
    scratch = os.path.join(directory, "via" if mode == "child-symlinked" else "", "scratch.bin")
    child = os.fork()
    if child == 0:
        map_whole(scratch)
        os._exit(0)
    os.waitpid(child, 0)
    if mode == "child-read":
        with open(scratch, "rb") as read:
            read.read()
    os.unlink(scratch)
if mode == "via-moved":
    child = os.fork()
    if child != 0:
        os.waitpid(child, 0)
        os.rename(os.path.join(directory, "via"), os.path.join(directory, "via.old"))
        sys.exit(0)
if mode.startswith("again"):
    child = os.fork()
    if child != 0:
        os.waitpid(child, 0)
        again = os.path.join(directory, "held.pack")
        with open(again if mode in ("again", "again-excl") else again + ".tmp", "x" if mode == "again-excl" else "w") as new:
            new.write("new\n")
        if mode == "again-rename":
            os.rename(again + ".tmp", again)
        elif mode == "again-link":
            os.link(again + ".tmp", again)
            os.unlink(again + ".tmp")
        os.unlink(again)
        sys.exit(0)
held = os.path.join(directory, "held.pack")
if mode.startswith("dir-renamed"):
    partition = os.path.join(directory, partition_name)
    os.mkdir(partition)
    os.rename(held, os.path.join(partition, "held.pack"))
    held = os.path.join(partition, "held.pack")
map_whole(os.path.join(directory, "via", "held.pack") if mode == "via-moved" else held)
DIR_SUFFIX = {"dir-renamed-utf8": ".\u00e9-delete", "dir-renamed-tab": ".\t-delete"}.get(mode, ".3f2a-delete")
if mode == "dir-renamed-comm":
    # PR_SET_NAME: the thread's comm, which the capture's strace prints before each of its calls (-Y).
    libc.prctl(15, b"mmap(x", 0, 0, 0)
if mode in ("dir-renamed", "dir-renamed-comm", "dir-renamed-utf8", "dir-renamed-tab"):
    os.rename(partition, partition + DIR_SUFFIX)
elif mode == "dir-renamed-mv":
    subprocess.run(["mv", partition + "/", partition + ".3f2a-delete/"], check=True)
if mode.startswith("dir-renamed"):
    held = os.path.join(partition + DIR_SUFFIX, "held.pack")
if mode == "exchanged":
    other = os.path.join(directory, "other.pack")
    with open(other, "w") as new:
        new.write("other\n")
    # renameat2(AT_FDCWD, other, AT_FDCWD, held, RENAME_EXCHANGE): the mapped file takes the first name.
    if libc.renameat2(-100, other.encode(), -100, held.encode(), 2) != 0:
        raise OSError(ctypes.get_errno(), "renameat2")
    held = other
if mode == "renamed":
    kept = os.path.join(directory, "kept.pack")
    os.rename(held, kept)
    held = kept
elif mode == "mv":
    # coreutils' mv, by relative names with "./" (review 54, T1): renameat2(AT_FDCWD, "./held.pack", AT_FDCWD, "./kept.pack", RENAME_NOREPLACE).
    subprocess.run(["mv", "./held.pack", "./kept.pack"], cwd=directory, check=True)
    held = os.path.join(directory, "kept.pack")
address, size = map_whole(os.path.join(directory, "released.idx"))
if libc.munmap(address, size) != 0:
    raise OSError(ctypes.get_errno(), "munmap")
with open(os.path.join(directory, "mapped"), "w") as marker:
    marker.write("mapped\n")
deadline = time.monotonic() + 60
while os.path.exists(held) and time.monotonic() < deadline:
    time.sleep(0.02)
with open("/proc/self/maps") as maps, open(os.path.join(directory, "record.txt"), "w") as record:
    for line in maps:
        if (" " + held) in line:
            record.write(line)

#!/usr/bin/python3
"""grown-remap.py - files grown out of the trace's sight and mapped again; relative unlinks after fchdir.

USAGE  grown-remap.py DIR MODE

Runs MODE in DIR (made if missing), reads its own /proc/self/maps while every
mapping it made is live, and writes DIR/truth.json:

  {"pid": 1234,
   "live": [{"address": "0x7f...", "bytes": 65536, "path": "...", "deleted": false}],
   "remaps": [{"path": "...", "old": "0x7f...", "oldBytes": 65536, "new": "0x7f...", "newBytes": 131072}],
   "leaks": [{"address": "0x7f...", "bytes": 12288, "path": "..."}]}

"live": every mapping of a file under DIR that /proc/self/maps lists now.
"remaps": each time this program mapped a file again while its older mapping
of the same file was live (both as /proc listed them right after the second
mmap), having grown the file in between without ftruncate. "leaks": the
mappings /proc prints "(deleted)" under DIR.

grown-by-fallocate: writes 64 KiB to a.dat, maps it, grows it to 128 KiB by
  os.posix_fallocate (no ftruncate) and maps it again whole, the first map live.
grown-by-write: writes 64 KiB to w.dat, maps it, grows it to 192 KiB by
  os.pwrite past its end and maps it again whole, the first map live.
same-length: maps r.dat (64 KiB) twice at the same length in this process,
  and a forked child maps it once more at that length (two readers of one
  file); then maps g.dat's first 64 KiB, grows it by write and maps the next
  64 KiB only (a window onto another part of the file, not a remap), having
  dlopen'd two extension modules (ld.so's segments). No remap.
fchdir-unlink: maps sub/c.dat and sub/d.dat (opened by those relative names),
  fchdir's into sub, unlinks "c.dat", renames "d.dat" to "d.old" and unlinks
  "d.old", then chdir's back: both leak. Then maps sub/k.dat (kept, named) and
  k.dat, and unlinks "k.dat" from DIR: a relative unlink of a known file (a
  leak too), while a file with the same last component is mapped elsewhere.
dirfd-unlink: opens the directory sub, prints "ready" and waits for a line
  (a tracer attaches then: the open of sub is not in its trace), maps
  sub/e.dat (opened by that relative name) and unlinks it as "e.dat" relative
  to sub's fd (unlinkat), writes the truth, prints "done" and waits for a line.
"""
import json
import mmap
import os
import sys

KIB = 1024


def maps_under(d):
    """The mappings /proc/self/maps lists now of files under d: address, bytes, path, deleted."""
    found = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.rstrip("\n").split(None, 5)
            if len(parts) < 6 or not parts[5].startswith(d + "/"):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5]
            deleted = path.endswith(" (deleted)")
            if deleted:
                path = path[: -len(" (deleted)")]
            found.append({"address": hex(start), "bytes": end - start, "path": path, "deleted": deleted})
    return found


def address_of(m):
    """Where the mmap module's mapping m lies (ctypes: the buffer's address)."""
    import ctypes

    return hex(ctypes.addressof(ctypes.c_char.from_buffer(m)))


def write_file(name, size, fill=b"x"):
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, fill * size)
    return fd


def remap_after_growth(d, name, grow):
    """Map name (64 KiB), grow it by `grow` (no ftruncate), map it again whole: both live."""
    fd = write_file(name, 64 * KIB)
    old = mmap.mmap(fd, 64 * KIB)
    size = grow(fd)
    new = mmap.mmap(fd, size)
    os.close(fd)
    path = os.path.join(d, name)
    live = {m["address"]: m for m in maps_under(d) if m["path"] == path}
    assert address_of(old) in live and address_of(new) in live, (live, address_of(old), address_of(new))
    remap = {"path": path, "old": address_of(old), "oldBytes": live[address_of(old)]["bytes"], "new": address_of(new), "newBytes": live[address_of(new)]["bytes"]}
    return [old, new], remap


def main():
    d, mode = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(d, exist_ok=True)
    os.chdir(d)
    keep, remaps = [], []
    if mode == "grown-by-fallocate":

        def fallocate(fd):
            os.posix_fallocate(fd, 0, 128 * KIB)
            return 128 * KIB

        maps, remap = remap_after_growth(d, "a.dat", fallocate)
        keep += maps
        remaps.append(remap)
    elif mode == "grown-by-write":

        def pwrite(fd):
            os.pwrite(fd, b"y" * (128 * KIB), 64 * KIB)
            return 192 * KIB

        maps, remap = remap_after_growth(d, "w.dat", pwrite)
        keep += maps
        remaps.append(remap)
    elif mode == "same-length":
        # Extension modules dlopen'd: ld.so maps their segments MAP_FIXED, and two of them may share a
        # page of the file (_multiprocessing's read-only data, 4 KiB, then its data, 8 KiB, from the same offset).
        import _multiprocessing  # noqa: F401
        import _ctypes  # noqa: F401

        fd = write_file("r.dat", 64 * KIB)
        keep.append(mmap.mmap(fd, 64 * KIB))
        keep.append(mmap.mmap(fd, 64 * KIB))
        child = os.fork()
        if child == 0:
            m = mmap.mmap(fd, 64 * KIB)
            assert m[:1] == b"x"
            os._exit(0)
        _, status = os.waitpid(child, 0)
        assert status == 0, status
        os.close(fd)
        fd = write_file("g.dat", 64 * KIB)
        keep.append(mmap.mmap(fd, 64 * KIB))
        os.pwrite(fd, b"z" * (64 * KIB), 64 * KIB)
        keep.append(mmap.mmap(fd, 64 * KIB, offset=64 * KIB))
        os.close(fd)
    elif mode == "fchdir-unlink":
        os.makedirs("sub", exist_ok=True)
        for name, size in (("sub/c.dat", 12 * KIB), ("sub/d.dat", 8 * KIB)):
            fd = write_file(name, size)
            keep.append(mmap.mmap(fd, size))
            os.close(fd)
        sub = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
        os.fchdir(sub)
        os.unlink("c.dat")
        os.rename("d.dat", "d.old")
        os.unlink("d.old")
        os.chdir("..")
        os.close(sub)
        fd = write_file("sub/k.dat", 4 * KIB)
        keep.append(mmap.mmap(fd, 4 * KIB))
        os.close(fd)
        fd = write_file("k.dat", 4 * KIB)
        keep.append(mmap.mmap(fd, 4 * KIB))
        os.close(fd)
        os.unlink("k.dat")
    elif mode == "dirfd-unlink":
        os.makedirs("sub", exist_ok=True)
        sub = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
        print("ready", flush=True)
        sys.stdin.readline()
        fd = write_file("sub/e.dat", 8 * KIB)
        keep.append(mmap.mmap(fd, 8 * KIB))
        os.close(fd)
        os.unlink("e.dat", dir_fd=sub)
    else:
        sys.exit("unknown mode " + mode)
    live = maps_under(d)
    leaks = [{"address": m["address"], "bytes": m["bytes"], "path": m["path"]} for m in live if m["deleted"]]
    truth = {"pid": os.getpid(), "live": live, "remaps": remaps, "leaks": leaks}
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump(truth, f)
    if mode == "dirfd-unlink":
        # Alive, every mapping with it, until told: a tracer attached to it stops first.
        print("done", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    main()

"""A file grown by write and mapped again at each growth, its old mapping
unmapped a moment later by another thread, as H2 does with its trace file and
the JVM's Reference Handler with the buffers H2 drops (review 50: the resize
story of a ticket named another mapping's lines, said "ftruncate" where there
was none, and "never unmapped" of mappings the program unmapped).

USAGE: python3 async-unmapped-remaps.py DIR

grown.db: made with 976 bytes (no O_TRUNC, no ftruncate anywhere), mapped
  whole (libc's mmap through ctypes, shared). Then ROUNDS times: grown by
  os.write at its end, mapped again whole while the older mapping is live, and
  the older mapping handed to the unmapper thread, which unmaps it 2 ms later;
  the main thread waits for that before the next round, so the kernel hands
  the freed addresses out again. Then once more grown and mapped again, but
  the file is unlinked before the unmapper, told only then, unmaps the older
  mapping ("remapped" below); the newest mapping ("last") is still live at the
  unlink and is never unmapped (it goes with the process).
kept.db: made with 976 bytes and mapped whole, its fd kept; unlinked while
  mapped ("first"), then grown by os.write through the kept fd and mapped
  again, and the older mapping handed to the unmapper (unmapped 2 ms later).
held.db: made with 976 bytes and mapped whole, grown by os.write and mapped
  again; neither mapping is ever unmapped, nor the file unlinked (the older
  mapping stays live until the process exits).

Prints its own record as one JSON line on stdout:
  {"pid": 1234,
   "grown": {"path": "...", "mappings": [{"address": "0x7f...", "length": 976,
             "unmapped": "before-unlink" | "after-unlink" | null}, ...],
             "deleted": ["<the /proc/self/maps lines \"(deleted)\" of the file right after its unlink>"]},
   "kept": {...the same for kept.db...},
   "held": {...the same for held.db, "deleted": [] (never unlinked)...}}
Mappings in the order they were made; "unmapped": when this program unmapped
each, relative to the file's unlink (null: never, it lives to the exit).
"""
import ctypes
import json
import mmap
import os
import queue
import sys
import threading
import time

ROUNDS = 8
GROWTH = 100

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def map_whole(fd):
    size = os.fstat(fd).st_size
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    return {"address": hex(address), "length": size, "unmapped": None}


# The unmapper: the JVM's Reference Handler, releasing a dropped buffer a moment after the program let it go.
released = queue.Queue()
done = queue.Queue()


def unmapper():
    while True:
        mapping = released.get()
        if mapping is None:
            return
        time.sleep(0.002)
        if libc.munmap(ctypes.c_void_p(int(mapping["address"], 16)), mapping["length"]) != 0:
            raise OSError(ctypes.get_errno(), "munmap")
        done.put(mapping)


def release(mapping, when):
    """Hand `mapping` to the unmapper and wait until it has unmapped it."""
    mapping["unmapped"] = when
    released.put(mapping)
    assert done.get() is mapping


def deleted_lines(path):
    with open("/proc/self/maps") as maps:
        return [line.rstrip("\n") for line in maps if line.rstrip("\n").endswith(" " + path + " (deleted)")]


def grow(fd):
    os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, b"g" * GROWTH)


def main():
    d = os.path.abspath(sys.argv[1])
    os.makedirs(d, exist_ok=True)
    thread = threading.Thread(target=unmapper, name="unmapper")
    thread.start()

    grown = {"path": os.path.join(d, "grown.db"), "mappings": []}
    fd = os.open(grown["path"], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"x" * 976)
    maps = grown["mappings"]
    maps.append(map_whole(fd))
    for _ in range(ROUNDS):
        grow(fd)
        maps.append(map_whole(fd))
        release(maps[-2], "before-unlink")
    grow(fd)
    maps.append(map_whole(fd))
    os.close(fd)
    os.unlink(grown["path"])
    grown["deleted"] = deleted_lines(grown["path"])
    release(maps[-2], "after-unlink")

    kept = {"path": os.path.join(d, "kept.db"), "mappings": []}
    fd = os.open(kept["path"], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"x" * 976)
    kept["mappings"].append(map_whole(fd))
    os.unlink(kept["path"])
    kept["deleted"] = deleted_lines(kept["path"])
    grow(fd)
    kept["mappings"].append(map_whole(fd))
    release(kept["mappings"][0], "after-unlink")
    os.close(fd)

    held = {"path": os.path.join(d, "held.db"), "mappings": [], "deleted": []}
    fd = os.open(held["path"], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"x" * 976)
    held["mappings"].append(map_whole(fd))
    grow(fd)
    held["mappings"].append(map_whole(fd))
    os.close(fd)

    released.put(None)
    thread.join()
    print(json.dumps({"pid": os.getpid(), "grown": grown, "kept": kept, "held": held}), flush=True)


if __name__ == "__main__":
    main()

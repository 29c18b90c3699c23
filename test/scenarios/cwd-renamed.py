"""The working directory renamed, or a directory above it, then a mapped
file unlinked by a name relative to it, for
test/engine-review25-cwd-renamed.test.ts.

USAGE: python3 cwd-renamed.py DIR
  For each case, maps DIR/CASE/w/A/seg.index (shared, 64 KiB) in a forked
  worker, which holds it until told; changes into DIR/CASE/w/A; renames
  DIR/CASE/w to DIR/CASE/w2 ("above") or DIR/CASE/w/A to DIR/CASE/w/B
  ("self"); unlinks "seg.index"; the worker then writes down the
  "(deleted)" lines of its own /proc/self/maps, unmaps and exits. Writes
  DIR/truth.json: {CASE: {"pid": worker, "deleted": [...]}}.
"""
import ctypes
import json
import os
import sys

from deleted_maps import deleted_mappings

# libc's mmap, not Python's mmap module: that one keeps a dup of the fd, whose close -yy shows "(deleted)".
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

directory = os.path.abspath(sys.argv[1])
truth = {}
for case in ("above", "self"):
    base = os.path.join(directory, case)
    os.makedirs(os.path.join(base, "w", "A"))
    path = os.path.join(base, "w", "A", "seg.index")
    with open(path, "wb") as out:
        out.write(b"s" * 65536)
    mapped_r, mapped_w = os.pipe()
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    worker = os.fork()
    if worker == 0:
        fd = os.open(path, os.O_RDWR)
        kept = libc.mmap(None, 65536, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
        os.close(fd)
        os.write(mapped_w, b"m")
        os.read(go_r, 1)
        os.write(done_w, json.dumps(deleted_mappings()).encode())
        libc.munmap(kept, 65536)
        os._exit(0)
    os.read(mapped_r, 1)
    os.chdir(os.path.join(base, "w", "A"))
    if case == "above":
        os.rename(os.path.join(base, "w"), os.path.join(base, "w2"))
    else:
        os.rename(os.path.join(base, "w", "A"), os.path.join(base, "w", "B"))
    os.unlink("seg.index")
    os.write(go_w, b"g")
    os.close(done_w)
    text = b""
    while True:
        chunk = os.read(done_r, 65536)
        if not chunk:
            break
        text += chunk
    os.waitpid(worker, 0)
    truth[case] = {"pid": worker, "deleted": json.loads(text)}
    os.chdir(directory)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump(truth, out)

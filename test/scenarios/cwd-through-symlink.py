"""A mapped file unlinked by a name relative to a working directory entered
through a symlink, its real directory renamed since, for
test/engine-review26-cwd-symlink.test.ts.

USAGE: python3 cwd-through-symlink.py made|before DIR
  Maps DIR/a/b/seg (shared, 64 KiB, then closes it), changes into DIR/l, a
  symlink to DIR/a/b, renames DIR/a/b to DIR/c, and unlinks "seg": the
  kernel's cwd is the directory itself, so DIR/c/seg goes. "made": the
  program makes the symlink itself; "before": it must be there already. Then
  writes the "(deleted)" lines of its own /proc/self/maps in DIR/truth.json
  as {"pid", "deleted": [...]}, unmaps and exits.
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

SIZE = 65536
case, directory = sys.argv[1], os.path.abspath(sys.argv[2])
if case == "made":
    os.makedirs(os.path.join(directory, "a", "b"))
    os.symlink(os.path.join(directory, "a", "b"), os.path.join(directory, "l"))
fd = os.open(os.path.join(directory, "a", "b", "seg"), os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, SIZE)
kept = libc.mmap(None, SIZE, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
os.close(fd)
os.chdir(os.path.join(directory, "l"))
os.rename(os.path.join(directory, "a", "b"), os.path.join(directory, "c"))
os.unlink("seg")
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
libc.munmap(kept, SIZE)

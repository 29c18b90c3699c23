"""Two files whose names differ only in a byte that is no part of UTF-8, for
test/engine-review27-byte-names.test.ts (archives made under Latin-1
locales, Samba shares and mail stores hold such names).

USAGE: python3 byte-names.py DIR
  Creates DIR/\\xfe.map (closed, never mapped); maps DIR/\\xff.map (shared,
  4 KiB, then closes it); unlinks DIR/\\xfe.map. Then writes the "(deleted)"
  lines of its own /proc/self/maps in DIR/truth.json as {"pid", "deleted":
  [...]}, and whether DIR/\\xff.map is still there, unmaps and exits.
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

SIZE = 4096
directory = os.fsencode(os.path.abspath(sys.argv[1]))
os.makedirs(directory, exist_ok=True)
os.close(os.open(directory + b"/\xfe.map", os.O_RDWR | os.O_CREAT, 0o600))
fd = os.open(directory + b"/\xff.map", os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, SIZE)
kept = libc.mmap(None, SIZE, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
os.close(fd)
os.unlink(directory + b"/\xfe.map")
with open(directory + b"/truth.json", "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted_mappings(), "kept": os.path.exists(directory + b"/\xff.map")}, out)
libc.munmap(kept, SIZE)

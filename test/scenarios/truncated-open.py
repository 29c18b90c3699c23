"""A file mapped, opened again with O_TRUNC (Python's "w+b", as numpy's
memmap(mode='w+') opens it) while the mapping lives, written back to its
size and mapped again, the first mapping kept: the resize signature, the
size change an open's O_TRUNC (review 55, M1).

USAGE: python3 truncated-open.py DIR
  Works on DIR/w.dat. Writes DIR/truth.json: {"first", "second"} the two
  mappings' addresses (libc's mmap through ctypes, shared, 64 KiB each), and
  "sizeAtReopen", the file's size right after the second open (0: emptied
  under the first mapping).
"""
import json
import os
import sys

from deleted_maps import mmap_shared

SIZE = 65536


def written_and_mapped(name):
    with open(name, "w+b") as f:
        size_at_open = os.fstat(f.fileno()).st_size
        f.write(b"\1" * SIZE)
        f.flush()
        address = mmap_shared(f.fileno(), SIZE)
    return address, size_at_open


directory = os.path.abspath(sys.argv[1])
name = os.path.join(directory, "w.dat")
first, _ = written_and_mapped(name)
second, size_at_reopen = written_and_mapped(name)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"first": hex(first), "second": hex(second), "sizeAtReopen": size_at_reopen}, out)

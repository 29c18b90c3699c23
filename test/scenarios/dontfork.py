"""A file mapping marked MADV_DONTFORK before a fork, as QEMU marks guest RAM
and DPDK or RDMA their buffers, for test/engine-review27-dontfork.test.ts and
test/capture-review26-bpftrace.test.ts.

USAGE: python3 dontfork.py DIR
  Maps DIR/guest.ram (shared, 64 KiB), marks it MADV_DONTFORK and forks a
  child, which writes down whether its own /proc/self/maps has the file and
  waits. The parent then unmaps the file and unlinks it, and the child exits.
  Writes DIR/truth.json: {"child": pid, "childHas": [lines], "parentDeleted": [...]}.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

SIZE = 65536
directory = os.path.abspath(sys.argv[1])
os.makedirs(directory, exist_ok=True)
path = os.path.join(directory, "guest.ram")
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, SIZE)
ram = mmap.mmap(fd, SIZE)
os.close(fd)
ram.madvise(mmap.MADV_DONTFORK)
told_r, told_w = os.pipe()
seen_r, seen_w = os.pipe()
child = os.fork()
if child == 0:
    with open("/proc/self/maps") as maps:
        has = [line.strip() for line in maps if line.rstrip("\n").endswith("guest.ram") or "guest.ram " in line]
    os.write(seen_w, json.dumps(has).encode())
    os.close(seen_w)
    os.read(told_r, 1)
    os._exit(0)
os.close(seen_w)
child_has = json.loads(os.read(seen_r, 65536))
ram.close()
os.unlink(path)
parent_deleted = deleted_mappings()
os.write(told_w, b"x")
os.waitpid(child, 0)
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"child": child, "childHas": child_has, "parentDeleted": parent_deleted}, out)

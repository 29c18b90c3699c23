"""A file replaced by rename over and over while other processes map it, as
ldconfig replaces /etc/ld.so.cache while programs start, for
test/capture-review24-rename-order.test.ts.

USAGE: python3 rename-over-readers.py DIR SECONDS
  Forks a renamer, which writes DIR/cache~ (8 KiB) and renames it over
  DIR/cache, again and again, and two readers, each of which opens
  DIR/cache, maps it, unmaps it, and then asks the still open fd for the
  file's link count: one or more there means the file had its name all the
  while it was mapped (names do not come back to a file that lost its last
  one). Runs for SECONDS, then writes DIR/truth.json: per reader its pid and
  each mapping as [address, inode, link count after the munmap].
"""
import json
import mmap
import os
import sys
import time

from deleted_maps import read_again

directory, seconds = sys.argv[1], float(sys.argv[2])
target = os.path.join(directory, "cache")
staged = os.path.join(directory, "cache~")
with open(target, "wb") as out:
    out.write(b"c" * 8192)
end = time.monotonic() + seconds


def renamer():
    while time.monotonic() < end:
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"c" * 8192)
        os.close(fd)
        os.rename(staged, target)


def run_reader(index, out_path):
    # The address comes from /proc/self/maps read while the mapping lives: Python's mmap does not give it.
    records = []
    maps = os.open("/proc/self/maps", os.O_RDONLY)
    while time.monotonic() < end:
        fd = os.open(target, os.O_RDONLY)
        inode = os.fstat(fd).st_ino
        mapped = mmap.mmap(fd, 8192, prot=mmap.PROT_READ)
        address = None
        for line in read_again(maps).splitlines():
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[4] == str(inode) and fields[5].startswith(target):
                address = "0x" + fields[0].split("-")[0]
        mapped.close()
        links = os.fstat(fd).st_nlink
        os.close(fd)
        records.append([address, inode, links])
    with open(out_path, "w") as out:
        json.dump({"pid": os.getpid(), "mappings": records}, out)


children = []
pid = os.fork()
if pid == 0:
    renamer()
    os._exit(0)
children.append(pid)
for index in range(2):
    pid = os.fork()
    if pid == 0:
        run_reader(index, os.path.join(directory, "reader-%d.json" % index))
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
readers = [json.load(open(os.path.join(directory, "reader-%d.json" % index))) for index in range(2)]
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump({"readers": readers}, out)

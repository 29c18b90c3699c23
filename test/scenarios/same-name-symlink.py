"""A file reached through a symlink of the same last component in another
directory, as configuration and database links go (/usr/share/GeoIP/X.mmdb
-> /var/lib/GeoIP/X.mmdb): the symlink is removed, the file stays.

USAGE: python3 same-name-symlink.py WORKDIR
  Writes WORKDIR/sb/data.db and WORKDIR/sb/index.db (64 KiB each) and links
  WORKDIR/etc/data.db to the first by its absolute name, WORKDIR/etc/index.db
  to the second by a relative one (../sb/index.db). Maps each through its
  symlink (shared, read only, the fd closed), removes both symlinks, then
  removes sb/data.db, still mapped: a real leak. Writes the "(deleted)" lines
  of its own /proc/self/maps after the symlinks' removal and after the
  file's to WORKDIR/truth.json as {"pid", "data", "afterSymlinks",
  "afterFile"} ("data": the address of data.db's mapping); unmaps and exits.
"""
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

SIZE = 65536
work = os.path.abspath(sys.argv[1])
os.makedirs(os.path.join(work, "sb"))
os.makedirs(os.path.join(work, "etc"))
for name in ("data.db", "index.db"):
    with open(os.path.join(work, "sb", name), "wb") as out:
        out.write(os.urandom(SIZE))
os.symlink(os.path.join(work, "sb", "data.db"), os.path.join(work, "etc", "data.db"))
os.symlink(os.path.join("..", "sb", "index.db"), os.path.join(work, "etc", "index.db"))


def map_through(name):
    fd = os.open(os.path.join(work, "etc", name), os.O_RDONLY)
    mapped = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fd)
    return mapped


data = map_through("data.db")
index = map_through("index.db")
os.unlink(os.path.join(work, "etc", "data.db"))
os.unlink(os.path.join(work, "etc", "index.db"))
after_symlinks = deleted_mappings()
os.unlink(os.path.join(work, "sb", "data.db"))
after_file = deleted_mappings()
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "data": after_file[0]["address"] if after_file else None, "afterSymlinks": after_symlinks, "afterFile": after_file}, out)
data.close()
index.close()

# Maps a file through a dup of its fd, then unlinks the file while the mapping
# lives. Under strace -e trace=%file,%memory the dup is not traced (it is in
# %desc): the trace shows an mmap of an fd no traced call made.
# USAGE: dup-then-map.py DIR RECORD
# RECORD gets {"fd": the dup'd fd the mmap used, "deleted": the (deleted)
# lines of this process's own /proc/self/maps under DIR}.
import json
import mmap
import os
import sys

from deleted_maps import deleted_mappings

directory, record = sys.argv[1], sys.argv[2]
os.makedirs(directory)
path = os.path.join(directory, "dup.bin")
opened = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(opened, 4096)
duplicate = os.dup(opened)
os.close(opened)
mapping = mmap.mmap(duplicate, 4096)
os.close(duplicate)
os.unlink(path)
with open(record, "w") as out:
    json.dump({"fd": duplicate, "deleted": [m for m in deleted_mappings() if m["path"].startswith(directory + "/")]}, out)
mapping.close()

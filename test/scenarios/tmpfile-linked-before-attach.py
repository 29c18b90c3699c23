"""O_TMPFILE files mapped before `capture --pid` attached (review 31,
exactness F-2). For test/capture-review31-tmpfile-linked.test.ts.

USAGE: python3 tmpfile-linked-before-attach.py DIR TRUTH
  Makes two O_TMPFILE files in DIR (8 KiB each) and maps each shared with
  libc's mmap; gives the first the name DIR/t.dat by linkat, the second none;
  closes both fds (maps prints both "DIR/#INODE (deleted)": the dentry the
  file was made with). Prints its pid. At a line on stdin: unlinks t.dat, the
  first file's only name, and writes TRUTH {"pid", "mapped": {name as
  printed: {"inode", "nlink"}}}, each mapping under DIR with its file's link
  count as the kernel gives it through /proc/self/map_files; at the next,
  exits, its mappings live.
"""
import ctypes
import json
import os
import sys

directory = os.path.abspath(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
for name in ("t.dat", None):
    fd = os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
    os.ftruncate(fd, 8192)
    # PROT_READ|PROT_WRITE, MAP_SHARED; by libc, so that no copy of the fd is kept (deleted_maps.map_and_close).
    if libc.mmap(None, 8192, 3, 1, fd, 0) in (None, ctypes.c_void_p(-1).value):
        sys.exit("could not map an O_TMPFILE file")
    if name is not None:
        # linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, name, AT_SYMLINK_FOLLOW): the way open(2) gives such a file a
        # name (os.link calls link(2), which links the /proc symlink itself).
        if libc.linkat(-100, f"/proc/self/fd/{fd}".encode(), -100, os.path.join(directory, name).encode(), 0x400) != 0:
            sys.exit(f"linkat: {os.strerror(ctypes.get_errno())}")
    os.close(fd)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(os.path.join(directory, "t.dat"))
mapped = {}
with open("/proc/self/maps") as maps:
    for line in maps:
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith(directory):
            start, end = (int(part, 16) for part in fields[0].split("-"))
            counted = os.stat(f"/proc/self/map_files/{start:x}-{end:x}")
            mapped[fields[5].rstrip("\n")] = {"inode": int(fields[4]), "nlink": counted.st_nlink}
with open(sys.argv[2], "w") as out:
    json.dump({"pid": os.getpid(), "mapped": mapped}, out)
sys.stdin.readline()

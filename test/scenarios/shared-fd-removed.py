"""A file this process opened, mapped by a fork child through that fd, then
removed by a process the trace does not follow while the child maps it; the
child exits, and a second child maps the file through the same fd (review
61, F-5: varnishd's cache children map its storage file through the fd the
manager opened, and an operator removed the file).

USAGE: python3 shared-fd-removed.py DIR
  Opens DIR/storage.bin (made by the caller). The first child maps it
  (libc's mmap, shared: no copy of the fd), writes DIR/mapped, waits until
  the caller has removed DIR/storage.bin (perhaps made a new file there
  since) and says so in DIR/removed, writes its pid and its own
  /proc/self/maps lines of the file to DIR/record.txt, and exits. The second
  child maps it, unmaps it and exits.
"""
import ctypes
import os
import sys
import time

from deleted_maps import mmap_shared

directory = os.path.abspath(sys.argv[1])
path = os.path.join(directory, "storage.bin")
fd = os.open(path, os.O_RDWR)


def first():
    open(os.path.join(directory, "mapped"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(directory, "removed")) and time.monotonic() < deadline:
        time.sleep(0.02)
    with open("/proc/self/maps") as maps, open(os.path.join(directory, "record.txt"), "w") as record:
        record.write(f"{os.getpid()}\n")
        record.writelines(line for line in maps if " " + path in line)


def second():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.munmap(address, 8192)


for then in (first, second):
    child = os.fork()
    if child == 0:
        address = mmap_shared(fd, 8192)
        then()
        os._exit(0)
    os.waitpid(child, 0)
os.close(fd)

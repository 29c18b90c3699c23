"""A launched command whose mapped file another process removes, as dpkg
reinstalls a library a daemon maps, for
test/capture-review24-removed-while-launched.test.ts.

USAGE: python3 removed-while-launched.py DIR
  Maps DIR/data.bin (16 KiB, written by the test) twice through the symlink
  DIR/data.link, as ld.so loads a library by its soname: once whole, whose
  last page it then makes PROT_NONE (two lines in /proc/PID/maps for one
  mmap, as a library's RELRO page), and once its last page alone. Closes the
  fd, writes DIR/mapped, and waits for DIR/removed (the test removes the file
  and the link, out of the trace's sight). Then writes DIR/truth.json: its
  pid, the address and length of each mmap, in order, and its own
  /proc/self/maps lines of the deleted file; and sleeps until the capture
  stops it.
"""
import ctypes
import json
import os
import sys
import time

from deleted_maps import deleted_mappings

PAGE = 4096
PROT_NONE, PROT_READ = 0, 1
MAP_SHARED = 1

directory = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


def mapped(address):
    if address is None or address == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), "mmap failed")
    return address


fd = os.open(os.path.join(directory, "data.link"), os.O_RDONLY)
whole = mapped(libc.mmap(None, 4 * PAGE, PROT_READ, MAP_SHARED, fd, 0))
if libc.mprotect(whole + 3 * PAGE, PAGE, PROT_NONE) != 0:
    raise OSError(ctypes.get_errno(), "mprotect failed")
last = mapped(libc.mmap(None, PAGE, PROT_READ, MAP_SHARED, fd, 3 * PAGE))
os.close(fd)
open(os.path.join(directory, "mapped"), "w").close()
while not os.path.exists(os.path.join(directory, "removed")):
    time.sleep(0.01)
truth = {
    "pid": os.getpid(),
    "mmaps": [{"address": "0x%x" % whole, "length": 4 * PAGE}, {"address": "0x%x" % last, "length": PAGE}],
    "deleted": deleted_mappings(),
}
with open(os.path.join(directory, "truth.json.tmp"), "w") as out:
    json.dump(truth, out)
os.rename(os.path.join(directory, "truth.json.tmp"), os.path.join(directory, "truth.json"))
while True:
    time.sleep(1)

"""Leaks cut into pieces after their findings (code review 60, F9).

holes.dat: 2N pages mapped shared, unlinked, then every other page unmapped:
N pieces, held until the process exits. gone.dat: 8 pages, unlinked, pages
1, 3 and 5 unmapped (4 pieces), its last piece mremapped to its own place
and size (which changes nothing: code review 62, F1), then the whole range
unmapped in one call. grown.dat: 8 pages mapped, the file grown to 16 and
mapped again (the resize signature), pages 1, 3 and 5 of the first mapping
unmapped, then the file unlinked (the resize finding learns its unlink:
code review 62, F2). copied.dat: 4 pages, unlinked, then mremapped with
MREMAP_DONTUNMAP, which leaves it mapped where it was too (code review
62, P1). Truth (DIR/truth.json): the "(deleted)" lines of
/proc/self/maps of each (of grown.dat, its first mapping's), read after
the last cut and before gone.dat's last munmap; and the address of gone.dat's
last cut. bench/results.md times N = 20,000 (a leak's findings rebuilt every
piece at every cut: 47 s).

Usage: cut-leak.py DIR N
"""
import ctypes
import json
import mmap
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deleted_maps import libc_calls

libc = libc_calls()
PAGE = mmap.PAGESIZE
directory, pieces = sys.argv[1], int(sys.argv[2])


def leak(name, pages):
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, pages * PAGE)
    address = libc.mmap(None, pages * PAGE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    os.close(fd)
    os.unlink(path)
    return address


def deleted_lines(name):
    ending = "/" + name + " (deleted)"
    return [line.split()[0] for line in open("/proc/self/maps") if line.rstrip().endswith(ending)]


holes = leak("holes.dat", 2 * pieces)
for k in range(pieces):
    assert libc.munmap(holes + (2 * k + 1) * PAGE, PAGE) == 0
gone = leak("gone.dat", 8)
for k in (1, 3, 5):
    assert libc.munmap(gone + k * PAGE, PAGE) == 0
assert libc.mremap(gone + 6 * PAGE, 2 * PAGE, 2 * PAGE, 0, None) == gone + 6 * PAGE
grown_path = os.path.join(directory, "grown.dat")
fd = os.open(grown_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 8 * PAGE)
grown = libc.mmap(None, 8 * PAGE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
os.ftruncate(fd, 16 * PAGE)
libc.mmap(None, 16 * PAGE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
for k in (1, 3, 5):
    assert libc.munmap(grown + k * PAGE, PAGE) == 0
os.close(fd)
os.unlink(grown_path)
first = [line for line in deleted_lines("grown.dat") if grown <= int(line.split("-")[0], 16) < grown + 8 * PAGE]
copied = leak("copied.dat", 4)
MREMAP_MAYMOVE, MREMAP_DONTUNMAP = 1, 4
assert libc.mremap(copied, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, None) not in (None, ctypes.c_void_p(-1).value)
truth = {
    "holes": deleted_lines("holes.dat"),
    "gone": deleted_lines("gone.dat"),
    "goneLastCut": hex(gone + 5 * PAGE),
    "grownFirst": first,
    "copied": deleted_lines("copied.dat"),
}
assert libc.munmap(gone, 8 * PAGE) == 0
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump(truth, out)

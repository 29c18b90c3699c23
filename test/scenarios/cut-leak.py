"""Two leaks cut into pieces after their unlinks (code review 60, F9).

holes.dat: 2N pages mapped shared, unlinked, then every other page unmapped:
N pieces, held until the process exits. gone.dat: 8 pages, unlinked, pages
1, 3 and 5 unmapped (4 pieces), then the whole range unmapped in one call.
Truth (DIR/truth.json): the "(deleted)" lines of /proc/self/maps of each,
read after the last cut and before gone.dat's last munmap; and the address
of gone.dat's last cut. bench/results.md times N = 20,000 (a leak's findings
rebuilt every piece at every cut: 47 s).

Usage: cut-leak.py DIR N
"""
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
truth = {"holes": deleted_lines("holes.dat"), "gone": deleted_lines("gone.dat"), "goneLastCut": hex(gone + 5 * PAGE)}
assert libc.munmap(gone, 8 * PAGE) == 0
with open(os.path.join(directory, "truth.json"), "w") as out:
    json.dump(truth, out)

# Maps file A, unlinks it, unmaps it, then maps file B of the same size, which
# the kernel places where A was, and unlinks B too: A's mapping outlived its
# file and was unmapped later; B's is still mapped. Prints its pid, waits for
# a line on stdin (a capture attaching meanwhile), does the above, prints the
# /proc/self/maps lines of A (before its unmap) and of B as JSON, its own
# record, then waits for stdin to close.
# Usage: reused-address.py DIR
import json
import mmap
import os
import sys

SIZE = 65536


def maps_line(path):
    with open('/proc/self/maps') as maps:
        for line in maps:
            if path in line:
                return line.rstrip('\n')
    return None


directory = sys.argv[1]
a_path = os.path.join(directory, 'a.index')
b_path = os.path.join(directory, 'b.index')
print(os.getpid(), flush=True)
sys.stdin.readline()
fd = os.open(a_path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, SIZE)
a = mmap.mmap(fd, SIZE)
os.close(fd)
a_line = maps_line(a_path)
os.unlink(a_path)
a.close()
fd = os.open(b_path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, SIZE)
b = mmap.mmap(fd, SIZE)
os.close(fd)
os.unlink(b_path)
b_line = maps_line(b_path)
print(json.dumps({'a': a_line, 'b': b_line}), flush=True)
sys.stdin.read()

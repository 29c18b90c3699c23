"""A mapped file given a second name by a process the trace does not follow,
then unlinked by its first name under the trace, its mapping kept (review
33's code review, 5). For test/capture-review33-linked-out-of-sight.test.ts.

USAGE: python3 linked-out-of-sight.py DIR
  Maps DIR/a (8 KiB, by libc, the fd closed) and prints its pid. At a line
  on stdin (once DIR/b is a link to a): unlinks a and prints "unlinked" with
  the links b's file has then. Lives on, the mapping kept, until stdin ends.
"""
import os
import sys

from deleted_maps import map_and_close

directory = os.path.abspath(sys.argv[1])
map_and_close(os.path.join(directory, "a"), 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(os.path.join(directory, "a"))
print("unlinked", os.stat(os.path.join(directory, "b")).st_nlink, flush=True)
sys.stdin.read()

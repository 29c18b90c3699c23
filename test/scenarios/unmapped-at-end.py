"""A mapped file kept by a hard link the process made under the trace, its
mapped name unlinked, and the mapping unmapped the moment the capture has
read maps-end.txt, before it counts the links of its files (review 33's code
review, 3). For test/capture-review33-unmapped-at-end.test.ts.

USAGE: python3 unmapped-at-end.py DIR BUNDLE
  Maps DIR/a (8 KiB, by libc, the fd closed) and prints its pid. At a line on
  stdin: links DIR/b to a, unlinks a, and prints "unlinked" with the links
  b's file has then; once BUNDLE/maps-end.txt is there, unmaps a's mapping at
  once and prints "unmapped". Lives on until stdin ends.
"""
import os
import sys
import time

from deleted_maps import map_and_close, unmap

directory, bundle = (os.path.abspath(arg) for arg in sys.argv[1:3])
address = map_and_close(os.path.join(directory, "a"), 8192)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.link(os.path.join(directory, "a"), os.path.join(directory, "b"))
os.unlink(os.path.join(directory, "a"))
print("unlinked", os.stat(os.path.join(directory, "b")).st_nlink, flush=True)
while not os.path.exists(os.path.join(bundle, "maps-end.txt")):
    time.sleep(0.001)
unmap(address, 8192)
print("unmapped", flush=True)
sys.stdin.read()

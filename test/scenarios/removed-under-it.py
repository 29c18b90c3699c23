#!/usr/bin/python3
"""removed-under-it.py - a mapped file removed by someone the trace does not follow.

USAGE  removed-under-it.py FILE MODE

Writes FILE (two pages), maps it shared and closes it, prints "ready" and
waits for a line on stdin; meanwhile the caller may remove FILE (outside
the trace). Then MODE:
  open      opens FILE again (ENOENT when it is gone), as a program
            reattaching to a segment does;
  own       unlinks FILE itself, then opens it (ENOENT: its own removal);
  recreate  opens FILE (ENOENT when it is gone), makes a new FILE, and
            unlinks that new one: a file never mapped.
Then it reads its own /proc/self/maps and prints one JSON line:
  {"pid": N, "deleted": [{"address": "0x7f...", "bytes": 8192, "path": FILE}]}
the mappings the kernel printed "(deleted)", by the path it printed.
"""
import json
import mmap
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deleted_maps import deleted_mappings  # noqa: E402

path, mode = sys.argv[1], sys.argv[2]
with open(path, 'wb') as f:
    f.write(b'x' * (2 * mmap.PAGESIZE))
fd = os.open(path, os.O_RDWR)
kept = mmap.mmap(fd, 2 * mmap.PAGESIZE)
os.close(fd)
print('ready', flush=True)
sys.stdin.readline()
if mode == 'own':
    os.unlink(path)
try:
    os.close(os.open(path, os.O_RDWR))
except FileNotFoundError:
    pass
if mode == 'recreate':
    with open(path, 'wb') as f:
        f.write(b'y')
    os.unlink(path)
print(json.dumps({'pid': os.getpid(), 'deleted': [m for m in deleted_mappings() if m['path'] == path]}), flush=True)

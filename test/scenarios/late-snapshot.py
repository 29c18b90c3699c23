#!/usr/bin/python3
"""late-snapshot.py - leaks a mapping before a launched capture can read /proc/PID/maps.

USAGE  late-snapshot.py DIR

Maps DIR/seg.index and unlinks it as the first thing it does, prints the
deleted lines of its own /proc/self/maps (the ground truth), then waits two
seconds (the capture reads maps-start.txt meanwhile, after the leak), unmaps
and exits. The trace holds the whole life of the mapping.
"""
import mmap, os, sys, time

d = sys.argv[1]
fd = os.open(f'{d}/seg.index', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 4 * mmap.PAGESIZE)
mm = mmap.mmap(fd, 4 * mmap.PAGESIZE)
os.close(fd)
os.unlink(f'{d}/seg.index')
with open('/proc/self/maps') as maps:
    for line in maps:
        if line.rstrip().endswith('(deleted)') and 'seg.index' in line:
            print(f'pid {os.getpid()} deleted {line.rstrip()}', flush=True)
time.sleep(2)
mm.close()

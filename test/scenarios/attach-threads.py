#!/usr/bin/python3
"""attach-threads.py - a multi-threaded process for a trace attached after its threads started.

USAGE  attach-threads.py DIR   (prints "pid N ready", then waits for a line on stdin:
                                attach the tracer before sending it)

Six worker threads start first. After the go line, the main thread wakes each
worker in turn and at once runs a child process (`true`, through
subprocess: a clone without CLONE_THREAD), so a worker's first traced call
often lands while that clone is in flight. Each worker maps DIR/seg-N.index
and exits. The main thread then unlinks every file, prints its pid and the
deleted lines of its own /proc/self/maps (the ground truth), waits a second,
unmaps them all and exits.
"""
import ctypes, mmap, os, subprocess, sys, threading, time

WORKERS = 6
SIZE = 4 * mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
d = sys.argv[1]
go = [threading.Event() for _ in range(WORKERS)]
mapped = {}

def worker(i):
    go[i].wait()
    fd = os.open(f'{d}/seg-{i}.index', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, SIZE)
    mapped[i] = libc.mmap(None, SIZE, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    os.close(fd)

threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
for t in threads:
    t.start()
print(f'pid {os.getpid()} ready', flush=True)
sys.stdin.readline()
for i in range(WORKERS):
    go[i].set()
    subprocess.run(['true'], check=True)
for t in threads:
    t.join()                  # the threads that mapped the files are gone
for i in range(WORKERS):
    os.unlink(f'{d}/seg-{i}.index')
with open('/proc/self/maps') as maps:
    for line in maps:
        if line.rstrip().endswith('(deleted)') and '/seg-' in line:
            print(f'deleted {line.rstrip()}', flush=True)
time.sleep(1)
for i in range(WORKERS):
    libc.munmap(mapped[i], SIZE)
print('unmapped', flush=True)

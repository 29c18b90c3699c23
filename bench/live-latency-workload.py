#!/usr/bin/python3
"""live-latency-workload.py - unlink mapped files at known times, for bench/live-latency.mjs.

USAGE
  live-latency-workload.py DIR GO_FILE [--count N] [--interval MIN-MAX] [--seed S] [--noise RATE]

Before GO_FILE exists: maps N files DIR/lat-NNN.idx (8 KiB each, MAP_SHARED,
fd closed), then prints "pid=<pid>" and "ready". Once GO_FILE exists: unlinks
one file every MIN-MAX milliseconds (uniform, seeded), each still mapped, so
each unlink is a finding; prints "unlink <i> <before> <after>" right after the
call, in seconds of CLOCK_MONOTONIC (the clock of Node's process.hrtime), then
unmaps everything and exits 1 s after the last unlink.

--noise RATE adds a thread that opens and closes a scratch file RATE times a
second (two traced calls each): a process whose tracer has something to say
between the unlinks, as a busy one would. 0 (default): the unlinks alone.
"""
import mmap
import os
import random
import sys
import threading
import time

PAGE = mmap.PAGESIZE


def main():
    args = sys.argv[1:]
    opts = {'--count': '40', '--interval': '300-700', '--seed': '14', '--noise': '0'}
    positional = []
    i = 0
    while i < len(args):
        if args[i] in opts and i + 1 < len(args):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            positional.append(args[i])
            i += 1
    if len(positional) != 2:
        sys.exit(__doc__)
    directory, go = positional
    count = int(opts['--count'])
    low, high = (int(x) for x in opts['--interval'].split('-'))
    noise = float(opts['--noise'])
    rng = random.Random(int(opts['--seed']))

    os.makedirs(directory, exist_ok=True)
    maps = []
    for n in range(count):
        fd = os.open(f'{directory}/lat-{n:03d}.idx', os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        os.ftruncate(fd, 2 * PAGE)
        maps.append(mmap.mmap(fd, 2 * PAGE))
        os.close(fd)
    print(f'pid={os.getpid()}', flush=True)
    print('ready', flush=True)
    while not os.path.exists(go):
        time.sleep(0.02)

    stop = threading.Event()
    if noise > 0:
        def churn():
            scratch = f'{directory}/noise.dat'
            period = 1.0 / noise
            at = time.monotonic()
            while not stop.is_set():
                os.close(os.open(scratch, os.O_RDWR | os.O_CREAT, 0o644))
                at += period
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        threading.Thread(target=churn, daemon=True).start()

    at = time.monotonic()
    for n in range(count):
        at += rng.uniform(low, high) / 1000
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        before = time.monotonic()
        os.unlink(f'{directory}/lat-{n:03d}.idx')
        after = time.monotonic()
        print(f'unlink {n} {before:.6f} {after:.6f}', flush=True)
    time.sleep(1)
    stop.set()
    for m in maps:
        m.close()
    print('done', flush=True)


if __name__ == '__main__':
    main()

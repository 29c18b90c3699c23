# A process whose main thread ends alone while a worker thread runs on, as a
# C program whose main() calls pthread_exit does: the leader is a zombie in
# /proc, the process is not gone. The worker maps WORK/kept.bin, then writes
# its pid and the time to WORK/tick every 0.1 s: while the file changes, the
# process runs.
import ctypes, mmap, os, sys, threading, time

work = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)


def worker():
    with open(os.path.join(work, "kept.bin"), "w+b") as f:
        f.truncate(8192)
        kept = mmap.mmap(f.fileno(), 8192)
    while True:
        with open(os.path.join(work, "tick.tmp"), "w") as out:
            out.write("%d %f\n" % (os.getpid(), time.time()))
        os.rename(os.path.join(work, "tick.tmp"), os.path.join(work, "tick"))
        time.sleep(0.1)


threading.Thread(target=worker).start()
time.sleep(0.3)
libc.syscall(60, 0)  # SYS_exit: this thread alone

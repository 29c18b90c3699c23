"""A thread with a mount namespace of its own maps a deleted file of a tmpfs
only that namespace holds, named like a kernel object, for
test/scan-review25-thread-namespace.test.ts.

USAGE: python3 thread-namespace.py DIR
  A thread unshares its mount namespace (CLONE_NEWNS), makes its mounts
  private, mounts a tmpfs on DIR/m and makes it its root (pivot_root, the
  old root detached), then creates "/memfd:cache" (1 MiB) there, maps it
  shared, closes and unlinks it, and sleeps: the mapping is the whole
  process's, the tmpfs is in that thread's mountinfo alone. The main thread
  prints the pid and its own "(deleted)" line of "/memfd:cache" once it is
  there, and sleeps. Needs root (or a user namespace of its own).
"""
import ctypes
import os
import sys
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
CLONE_NEWNS, MS_REC, MS_PRIVATE, MNT_DETACH = 0x20000, 0x4000, 0x40000, 2
SIZE = 1 << 20
mountpoint = os.path.join(os.path.abspath(sys.argv[1]), "m")
os.makedirs(mountpoint, exist_ok=True)
ready = threading.Event()


def check(result, what):
    if result != 0:
        sys.exit("%s failed: %s" % (what, os.strerror(ctypes.get_errno())))


def own_namespace():
    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    check(libc.mount(b"tmpfs", mountpoint.encode(), b"tmpfs", 0, None), "mount tmpfs")
    os.chdir(mountpoint)
    os.mkdir("old")
    check(libc.syscall(155, b".", b"old"), "pivot_root")  # SYS_pivot_root
    check(libc.umount2(b"/old", MNT_DETACH), "umount2 /old")
    os.chdir("/")
    fd = os.open("/memfd:cache", os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, SIZE)
    libc.mmap(None, SIZE, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
    os.close(fd)
    os.unlink("/memfd:cache")
    ready.set()
    time.sleep(3600)


threading.Thread(target=own_namespace, daemon=True).start()
ready.wait(10)
lines = [line.rstrip("\n") for line in open("/proc/self/maps") if line.rstrip("\n").endswith(" /memfd:cache (deleted)")]
print(os.getpid(), flush=True)
print(lines[0] if lines else "", flush=True)
time.sleep(3600)

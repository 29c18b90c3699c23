# A file mapped, then an unlink of it that fails: strace prints
# `unlink("…/A") = -1 EPERM (Operation not permitted)`. The file is made
# immutable (chattr +i, which stops root too), so the failure is real. TRUTH
# gets the process's /proc/self/maps lines for A once the unlink has failed:
# mapped, not deleted.
#
# USAGE: cut-return.py DIR     (root, DIR on a filesystem with chattr: ext4, xfs)
import fcntl, mmap, os, struct, sys

FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x10
D = sys.argv[1]
os.makedirs(D, exist_ok=True)
path = f"{D}/A"
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 8192)
mapped = mmap.mmap(fd, 8192)


def set_flags(flags):
    fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", flags))


flags = struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("i", 0)))[0]
set_flags(flags | FS_IMMUTABLE_FL)
try:
    os.unlink(path)
    sys.exit("unlink of an immutable file succeeded")
except PermissionError:
    pass
finally:
    set_flags(flags)
with open("/proc/self/maps") as maps, open(f"{D}/truth.txt", "w") as out:
    out.writelines(f"{os.getpid()} {line}" for line in maps if line.rstrip().endswith(path) or path in line)
os.close(fd)

# A parent that forks a child which maps a file; the parent kills the child
# (SIGKILL), waits for it, and unlinks the file: the mapping died with the
# child, before the unlink. With "leak" the parent maps a second file itself
# and unlinks it while mapped: a real leak. Prints its own record: the
# child's pid, and how many mappings /proc/self/maps marks (deleted) after
# the unlinks (the kernel's word on what outlived its file).
#
# Under `strace -f -e trace=%file,%memory` the fork (a clone) is filtered
# out: the child shows up with no clone (review 22, PostgreSQL's backends).
import mmap, os, signal, sys

work, mode = sys.argv[1], sys.argv[2]
shared = os.path.join(work, "segment.dsm")
fd = os.open(shared, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 1 << 20)
os.close(fd)
ready_r, ready_w = os.pipe()
child = os.fork()
if child == 0:
    fd = os.open(shared, os.O_RDWR)
    kept = mmap.mmap(fd, 1 << 20)
    os.close(fd)
    os.write(ready_w, b"x")
    signal.pause()
    os._exit(0)
os.read(ready_r, 1)
with open("/proc/%d/maps" % child) as maps:
    in_child = sum(1 for line in maps if line.rstrip().endswith(shared))
os.kill(child, signal.SIGKILL)
os.waitpid(child, 0)
own = os.path.join(work, "own.idx")
if mode == "leak":
    fd = os.open(own, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 65536)
    held = mmap.mmap(fd, 65536)
    os.close(fd)
    os.unlink(own)
os.unlink(shared)
with open("/proc/self/maps") as maps:
    deleted = sorted(line.split()[0] + " " + line.split()[-2] for line in maps if line.rstrip().endswith(" (deleted)"))
print("pid %d child %d mapped %d deleted %s" % (os.getpid(), child, in_child, ";".join(deleted) or "none"), flush=True)

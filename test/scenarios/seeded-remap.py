# A real resize of a file mapped before the tracer attached (test/capture-seeded-remap.test.ts,
# test/live-seeded-remap.test.ts). Maps DIR/idx (8 KiB) and says so in DIR/ready (its pid); once
# DIR/go exists, grows the file to 16 KiB and maps it again, unmaps the first mapping if the second
# argument is "unmap", and writes both addresses (hex, as /proc/PID/maps spells them) to DIR/done.
# Then sleeps with no call orphanmap follows.
import ctypes, mmap, os, sys, time
directory, unmap_old = sys.argv[1], sys.argv[2] == "unmap"
def address(m):
    return ctypes.addressof(ctypes.c_char.from_buffer(m))
fd = os.open(os.path.join(directory, "idx"), os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 8192)
old = mmap.mmap(fd, 8192)
open(os.path.join(directory, "ready"), "w").write(str(os.getpid()))
while not os.path.exists(os.path.join(directory, "go")):
    time.sleep(0.02)
os.ftruncate(fd, 16384)
new = mmap.mmap(fd, 16384)
record = "%x %x" % (address(old), address(new))
if unmap_old:
    old.close()
with open(os.path.join(directory, "done.tmp"), "w") as out:
    out.write(record)
os.rename(os.path.join(directory, "done.tmp"), os.path.join(directory, "done"))
time.sleep(120)

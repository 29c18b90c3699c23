"""Names its main thread "" (prctl PR_SET_NAME), maps a file, removes its name and exits still holding it.

strace -Y prints such a process's lines with no <comm>, its id padded to five
columns. Usage: empty-name.py WORK [--wait-go]: prints its pid, waits for
WORK/go when asked, and writes WORK/record.txt: its pid, its comm, then each
line of /proc/self/maps that shows the file deleted.
"""
import ctypes
import mmap
import os
import sys
import time

PR_SET_NAME = 15

work = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_NAME, ctypes.c_char_p(b''), 0, 0, 0) != 0:
    raise OSError(ctypes.get_errno(), 'prctl(PR_SET_NAME, "")')
print(os.getpid(), flush=True)
if '--wait-go' in sys.argv:
    while not os.path.exists(os.path.join(work, 'go')):
        time.sleep(0.02)

path = os.path.join(work, 'segment.index')
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 8192)
kept = mmap.mmap(fd, 8192)
os.close(fd)
os.unlink(path)

with open('/proc/self/comm') as comm, open('/proc/self/maps') as maps:
    name = comm.read().rstrip('\n')
    deleted = [line for line in maps if line.rstrip('\n').endswith(f'{path} (deleted)')]
with open(os.path.join(work, 'record.txt'), 'w') as record:
    record.write(f'pid={os.getpid()}\ncomm={name!r}\n')
    record.writelines(deleted)
# Straight to exit_group, with the mapping still held (no interpreter teardown to unmap it).
os._exit(0)

"""Two files whose inode number alone says the wrong thing, for the inode
generation a bpftrace capture gives with each open (ext4 gives a freed inode
number to the next file made, at once; the generation differs).

USAGE: python3 generation.py ROLE DIR
  Writes its pid to DIR/pid first, and `ROLE pid=N` to DIR/record.txt. Each file's inode number and generation
  (FS_IOC_GETVERSION) are written to DIR/record.txt as `NAME ino=N gen=G`,
  and the program's own /proc/self/maps lines of DIR as `maps LINE`.
  rename-away: writes DIR/cache.bin, maps it (shared, read-only, by libc's
      mmap: Python's mmap module keeps a copy of the fd, whose close would
      show the file's link count; the fd closed at once), writes DIR/mapped
      and waits for DIR/go; by then the
      caller has renamed cache.bin to moved.bin and made a new cache.bin.
      Opens cache.bin (another file now), unmaps the file it mapped, opens
      moved.bin (the file it mapped), and exits.
  hold: writes DIR/cache.bin, maps it as above, writes DIR/mapped and waits
      for DIR/go; by then the caller has removed cache.bin. Exits holding the
      mapping.
  reopen: waits for DIR/made (the caller made a new cache.bin once `hold`
      had exited), opens cache.bin, writes DIR/reopened and exits.
  stale: waits for DIR/mapped, opens cache.bin, copies the fd to 9 (dup2:
      inheritable), marks 9 close-on-exec by ioctl FIOCLEX
      (os.set_inheritable), writes DIR/stale, and execs a shell that waits
      for DIR/reopened: the exec closes fd 9, which a trace without that
      ioctl shows open.
  unlink-away: maps cache.bin as rename-away does and waits for DIR/go; by
      then the caller has removed cache.bin and made a new one. Opens
      cache.bin (another file), unmaps the file it mapped (freed then), makes
      DIR/unmapped (which may take its number), and exits.
  setversion: maps DIR/x.bin as above; changes its generation
      (FS_IOC_SETVERSION, which ext4 allows without metadata_csum) and opens
      it, puts the generation back and opens it, removes it, and exits
      holding the mapping.
A generation the file system does not give (FS_IOC_GETVERSION fails:
overlayfs) is written as gen=-1.
"""
import ctypes
import fcntl
import os
import struct
import sys
import time

FS_IOC_GETVERSION = 0x80087601
FS_IOC_SETVERSION = 0x40087602
PROT_READ, MAP_SHARED, SIZE = 1, 1, 16384
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

role, directory = sys.argv[1], sys.argv[2]
record = open(os.path.join(directory, 'record.txt'), 'a')
record.write(f'{role} pid={os.getpid()}\n')
record.flush()
with open(os.path.join(directory, 'pid'), 'w') as out:
    out.write(f'{os.getpid()}\n')


def generation_of(fd):
    try:
        return struct.unpack('l', fcntl.ioctl(fd, FS_IOC_GETVERSION, b'\0' * 8))[0]
    except OSError:
        return -1


def note(name, fd):
    """The file behind fd, as the kernel numbers it: its inode and generation."""
    record.write(f'{name} ino={os.fstat(fd).st_ino} gen={generation_of(fd)}\n')
    record.flush()


def wait_for(name):
    while not os.path.exists(os.path.join(directory, name)):
        time.sleep(0.02)


def write_and_map(base='cache.bin'):
    name = os.path.join(directory, base)
    with open(name, 'wb') as out:
        out.write(b'c' * SIZE)
    fd = os.open(name, os.O_RDONLY)
    note('mapped', fd)
    address = libc.mmap(None, SIZE, PROT_READ, MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        sys.exit(f'mmap: errno {ctypes.get_errno()}')
    os.close(fd)
    open(os.path.join(directory, 'mapped'), 'w').close()
    return address


def open_and_note(base, label):
    fd = os.open(os.path.join(directory, base), os.O_RDONLY)
    note(label, fd)
    os.close(fd)


def note_maps():
    with open('/proc/self/maps') as maps:
        record.writelines(f'maps {line}' for line in maps if f'{directory}/' in line)
    record.flush()


def map_reopen_and_unmap():
    """rename-away's and unlink-away's first steps: cache.bin mapped, then opened once the caller changed it."""
    address = write_and_map()
    wait_for('go')
    open_and_note('cache.bin', 'reopened')
    note_maps()
    libc.munmap(address, SIZE)


if role == 'rename-away':
    map_reopen_and_unmap()
    open_and_note('moved.bin', 'moved')
elif role == 'hold':
    write_and_map()
    wait_for('go')
    note_maps()
    # Straight to exit_group, the mapping still held.
    os._exit(0)
elif role == 'reopen':
    wait_for('made')
    open_and_note('cache.bin', 'reopened')
    open(os.path.join(directory, 'reopened'), 'w').close()
elif role == 'stale':
    wait_for('mapped')
    fd = os.open(os.path.join(directory, 'cache.bin'), os.O_RDONLY)
    os.dup2(fd, 9)
    os.set_inheritable(9, False)
    open(os.path.join(directory, 'stale'), 'w').close()
    # At most a minute, should reopen never come.
    wait = 'i=0; until [ -e "$1/reopened" ] || [ $i -ge 1200 ]; do sleep 0.05; i=$((i + 1)); done'
    os.execv('/bin/sh', ['sh', '-c', wait, 'sh', directory])
elif role == 'unlink-away':
    map_reopen_and_unmap()
    fd = os.open(os.path.join(directory, 'unmapped'), os.O_CREAT | os.O_WRONLY, 0o600)
    note('unmapped', fd)
    os.close(fd)
elif role == 'setversion':
    write_and_map('x.bin')
    name = os.path.join(directory, 'x.bin')
    fd = os.open(name, os.O_RDONLY)
    mapped = generation_of(fd)
    fcntl.ioctl(fd, FS_IOC_SETVERSION, struct.pack('l', mapped + 1))
    os.close(fd)
    open_and_note('x.bin', 'changed')
    fd = os.open(name, os.O_RDONLY)
    fcntl.ioctl(fd, FS_IOC_SETVERSION, struct.pack('l', mapped))
    os.close(fd)
    open_and_note('x.bin', 'restored')
    os.unlink(name)
    note_maps()
    os._exit(0)
else:
    sys.exit(f'unknown role {role}')

"""The mappings of deleted files in this process's own /proc/self/maps: the
truth the scenario programs write down for their tests; a leak to make one;
and the wait for a tracer, for those that act the moment it attaches."""

import ctypes
import mmap
import os


def read_again(fd):
    """The whole text of the file open as `fd` (a /proc file kept open: read
    again from its start, with no open the trace would show)."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return text.decode(errors="replace")
        text += chunk


def mapped_inodes(directory):
    """Each mapping under `directory` in /proc/self/maps as {name as printed,
    " (deleted)" and all: inode}."""
    inodes = {}
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[5].startswith(directory):
                inodes[fields[5].rstrip("\n")] = int(fields[4])
    return inodes


def deleted_mappings():
    """Each "(deleted)" line as {"address", "bytes", "path"}, in the kernel's order."""
    found = []
    # A name that is no UTF-8 (test/scenarios/byte-names.py) read as Python keeps such bytes: "\xff" as "\udcff".
    with open("/proc/self/maps", errors="surrogateescape") as maps:
        for line in maps:
            if not line.rstrip("\n").endswith(" (deleted)"):
                continue
            fields = line.split(None, 5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            found.append({"address": "0x%x" % start, "bytes": end - start, "path": fields[5].rstrip("\n")[: -len(" (deleted)")]})
    return found


def map_and_unlink(path, size):
    """Writes a new file of `size` bytes at `path`, maps it shared, closes the fd
    and unlinks the file: a leak while the returned map is kept."""
    with open(path, "wb") as f:
        f.write(b"x" * size)
    fd = os.open(path, os.O_RDWR)
    kept = mmap.mmap(fd, size)
    os.close(fd)
    os.unlink(path)
    return kept


def libc_calls():
    """libc, with mmap, mremap and munmap typed for addresses (ctypes takes
    every argument and result for an int otherwise): for the scenarios that
    map, move and cut mappings themselves."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mremap.restype = ctypes.c_void_p
    libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return libc


def mmap_shared(fd, size):
    """libc's mmap of `size` bytes of the file open as `fd`, shared, to read
    and write. Python's mmap module keeps a copy of the fd, whose close
    strace -yy shows "(deleted)" after an unlink, which would tell the trace
    what it should find by itself; this keeps none. Returns the address."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    return address


def map_and_close(path, size):
    """Maps `size` bytes of the file at `path` (made if it is not there) shared,
    with libc's mmap (mmap_shared), and closes the fd: the mapping is then
    known by no fd. Returns the address."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, size)
    kept = mmap_shared(fd, size)
    os.close(fd)
    return kept


def unmap(address, size):
    """libc's munmap of what map_and_close mapped."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.munmap(address, size)


def traced():
    """Whether a tracer is attached to this process (its TracerPid)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("TracerPid:"):
                return int(line.split()[1]) != 0
    return False

"""The mappings of deleted files in this process's own /proc/self/maps: the
truth the scenario programs write down for their tests; and a leak to make
one."""

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


def deleted_mappings():
    """Each "(deleted)" line as {"address", "bytes", "path"}, in the kernel's order."""
    found = []
    with open("/proc/self/maps") as maps:
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

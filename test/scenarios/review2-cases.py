#!/usr/bin/python3
"""review2-cases.py - the engine cases of review 1 (2026-12), each writing its own truth.

USAGE  review2-cases.py DIR MODE

Runs MODE in DIR, then reads its own /proc/self/maps before it exits (every
mapping it made is still live) and writes DIR/truth.json:

  {"pid": 1234, "leaks": [{"address": "0x7f...", "bytes": 8192, "path": "..."}]}

A leak is a mapping under DIR that the kernel prints "(deleted)" and whose
file has no name left (st_nlink 0 through /proc/self/map_files). An O_TMPFILE
file prints as DIR/#INODE (deleted) whether or not it ever had a name: it is a
leak only if this program linked a name to it (and unlinked that name).

dup2-hidden: opens A and closes it, opens C (fd 3 again) and B, dup2s B's fd
  over C's, maps it, closes it and unlinks B; C keeps its name. Meant for
  strace -e trace=openat,close,mmap,munmap,unlink: the trace shows the closes
  but not the dup2, and the mmap's annotation names B.
deleted-reopen: opens A, unlinks it, creates a new A, maps the old A's fd
  (strace 6 prints it "3</DIR/A>(deleted)") and unlinks the new A, never
  mapped. Meant for strace -e trace=mmap,munmap,unlink.
open-unlink-map: opens A, unlinks it, then maps it through the fd kept open.
reopen-same-fd: (review 4) writes A and closes it, opens it again (the same fd
  number), maps it with the mmap module and unlinks A. Meant for strace -e
  trace=%file,%memory,%process: the close is not in the trace.
fork-exec: (review 4) maps A and unlinks it, forks a child that runs
  /bin/true, waits for it, then maps B and unlinks it. Meant for strace -e
  trace=%file,%memory: the execve is in the trace, the fork is not.
tmpfile: an O_TMPFILE file mapped, given the name T by
  linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, T, AT_SYMLINK_FOLLOW), T
  unlinked; another given E by linkat(N, "", AT_FDCWD, E, AT_EMPTY_PATH), E
  unlinked; a third mapped and never linked (not a leak).
samebase: (review 3, D) opens DIR/d1/x.index and DIR/d2/x.index, opens and
  closes /dev/null, dup2s d2's fd over d1's, maps it, closes both and unlinks
  d2, then d1. Meant for strace -e trace=openat,close,mmap,munmap,unlink: the
  trace shows closes but not the dup2.
shm-idiom: (review 3, E) maps files that have no name left, on purpose:
  multiprocessing.RawArray (its heap: mkstemp in /dev/shm, unlink, ftruncate,
  mmap), tempfile.TemporaryFile + mmap (O_TMPFILE, never linked), and a file
  opened, unlinked, then mapped; then forks a child that writes its own
  DIR/truth-child.json and exits. Every such mapping is "nameless" in the
  truth: /proc shows it "(deleted)", but no unlink left it behind.
shm-idiom-leak: the same, and before the fork maps DIR/L and then unlinks it:
  that one is a "leak", in the parent and in the child.

Truth for shm-idiom: {"pid": ..., "mappings": [{"address", "bytes", "path",
"kind": "nameless" | "leak"}]}, every mapping /proc shows "(deleted)" under DIR
or /dev/shm/pym-PID-*, its kind what this program did to its file.
"""
import ctypes
import json
import mmap
import os
import sys

PAGE = mmap.PAGESIZE
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_SYMLINK_FOLLOW = 0x400
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.linkat.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)


def raw_map(fd, length):
    """libc's mmap, not Python's mmap module: that one maps a dup of the fd."""
    address = libc.mmap(None, length, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), 'mmap failed')
    return address


def new_file(path, size):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    return fd


def tmpfile(d, size):
    fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o644)
    os.ftruncate(fd, size)
    return fd


def deleted_lines():
    """Each "(deleted)" line of our own maps, as (range, inode, path)."""
    with open('/proc/self/maps', 'rb') as f:
        text = f.read().decode('utf-8', 'surrogateescape')
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].endswith(' (deleted)'):
            yield parts[0], int(parts[4]), parts[5][:-len(' (deleted)')]


def mapping(span, path):
    start, end = (int(x, 16) for x in span.split('-'))
    return {'address': hex(start), 'bytes': end - start, 'path': path}


def truth(d, named_inodes):
    leaks = []
    for span, inode, path in deleted_lines():
        if not path.startswith(d + '/'):
            continue
        if os.path.basename(path).startswith('#') and inode not in named_inodes:
            continue
        if os.stat(f'/proc/self/map_files/{span}').st_nlink > 0:
            continue
        leaks.append(mapping(span, path))
    return leaks


def deleted_mappings(d, parent):
    """Every "(deleted)" mapping of ours: the kind is what this program did (only DIR/L was mapped before its unlink)."""
    out = []
    for span, _, path in deleted_lines():
        if not (path.startswith(d + '/') or path.startswith(f'/dev/shm/pym-{parent}-')):
            continue
        out.append({**mapping(span, path), 'kind': 'leak' if path == f'{d}/L' else 'nameless'})
    return out


def shm_idiom(d, leak):
    import multiprocessing
    import tempfile
    parent = os.getpid()
    heap = multiprocessing.RawArray('d', 10000)
    heap[0] = 1.0
    t = tempfile.TemporaryFile(dir=d)
    t.truncate(4 * PAGE)
    raw_map(t.fileno(), 4 * PAGE)
    fd = new_file(f'{d}/A', 2 * PAGE)
    os.unlink(f'{d}/A')
    raw_map(fd, 2 * PAGE)
    if leak:
        lfd = new_file(f'{d}/L', 3 * PAGE)
        raw_map(lfd, 3 * PAGE)
        os.unlink(f'{d}/L')
    child = os.fork()
    if child == 0:
        with open(f'{d}/truth-child.json', 'w') as f:
            json.dump({'pid': os.getpid(), 'mappings': deleted_mappings(d, parent)}, f, indent=1)
        os._exit(0)
    os.waitpid(child, 0)
    with open(f'{d}/truth.json', 'w') as f:
        json.dump({'pid': parent, 'mappings': deleted_mappings(d, parent)}, f, indent=1)
    sys.exit(0)


d, mode = os.path.abspath(sys.argv[1]), sys.argv[2]
os.makedirs(d, exist_ok=True)
named = set()
if mode == 'dup2-hidden':
    os.close(new_file(f'{d}/A', PAGE))
    c = new_file(f'{d}/C', PAGE)
    b = new_file(f'{d}/B', 2 * PAGE)
    os.dup2(b, c)
    raw_map(c, 2 * PAGE)
    os.close(c)
    os.unlink(f'{d}/B')
elif mode == 'deleted-reopen':
    old = new_file(f'{d}/A', PAGE)
    os.unlink(f'{d}/A')
    new_file(f'{d}/A', 2 * PAGE)
    raw_map(old, PAGE)
    os.unlink(f'{d}/A')
elif mode == 'open-unlink-map':
    fd = new_file(f'{d}/A', 2 * PAGE)
    os.unlink(f'{d}/A')
    raw_map(fd, 2 * PAGE)
elif mode == 'tmpfile':
    t = tmpfile(d, PAGE)
    raw_map(t, PAGE)
    # Only AT_SYMLINK_FOLLOW links the fd's file (os.link calls link(), which fails with EXDEV).
    if libc.linkat(AT_FDCWD, f'/proc/self/fd/{t}'.encode(), AT_FDCWD, f'{d}/T'.encode(), AT_SYMLINK_FOLLOW) != 0:
        raise OSError(ctypes.get_errno(), 'linkat AT_SYMLINK_FOLLOW failed')
    named.add(os.fstat(t).st_ino)
    os.unlink(f'{d}/T')
    e = tmpfile(d, 2 * PAGE)
    raw_map(e, 2 * PAGE)
    if libc.linkat(e, b'', AT_FDCWD, f'{d}/E'.encode(), AT_EMPTY_PATH) != 0:
        raise OSError(ctypes.get_errno(), 'linkat AT_EMPTY_PATH failed')
    named.add(os.fstat(e).st_ino)
    os.unlink(f'{d}/E')
    raw_map(tmpfile(d, 3 * PAGE), 3 * PAGE)
elif mode == 'samebase':
    os.makedirs(f'{d}/d1')
    os.makedirs(f'{d}/d2')
    a = new_file(f'{d}/d1/x.index', PAGE)
    b = new_file(f'{d}/d2/x.index', 2 * PAGE)
    os.close(os.open('/dev/null', os.O_RDONLY))
    os.dup2(b, a)
    raw_map(a, 2 * PAGE)
    os.close(a)
    os.close(b)
    os.unlink(f'{d}/d2/x.index')
    with open(f'{d}/truth.json', 'w') as f:
        json.dump({'pid': os.getpid(), 'leaks': truth(d, named)}, f, indent=1)
    os.unlink(f'{d}/d1/x.index')
    sys.exit(0)
elif mode == 'reopen-same-fd':
    # Python's own idiom: the file written, closed, then opened again to be
    # mapped; the second open gets the first one's fd number back.
    with open(f'{d}/A', 'wb') as f:
        f.write(b'\0' * (2 * PAGE))
    again = open(f'{d}/A', 'r+b')
    kept = mmap.mmap(again.fileno(), 2 * PAGE)
    os.unlink(f'{d}/A')
elif mode == 'fork-exec':
    # A helper process started the usual way (fork, then execve in the
    # child), between two leaks of this process's own.
    raw_map(new_file(f'{d}/A', PAGE), PAGE)
    os.unlink(f'{d}/A')
    child = os.fork()
    if child == 0:
        os.execv('/bin/true', ['true'])
    os.waitpid(child, 0)
    raw_map(new_file(f'{d}/B', 2 * PAGE), 2 * PAGE)
    os.unlink(f'{d}/B')
elif mode in ('shm-idiom', 'shm-idiom-leak'):
    shm_idiom(d, mode == 'shm-idiom-leak')
else:
    raise SystemExit(f'unknown mode {mode}')
with open(f'{d}/truth.json', 'w') as f:
    json.dump({'pid': os.getpid(), 'leaks': truth(d, named)}, f, indent=1)

#!/usr/bin/python3
"""review-cases.py - the cases of the 2026-12 exactness review, as a client of observer.py.

USAGE  review-cases.py DIR SOCKET fd-reuse|fork-pieces|pre-attach

A client of observer.py (listening on SOCKET), which reads /proc/PID/maps of
this process and its children at each checkpoint: the truth.

fd-reuse: maps DIR/A.map and closes it, maps DIR/B.map through the same fd
  number, unlinks B.map ("cp reuse"); opens C.map and D.map, dup2s D.map's fd
  over C.map's, maps it and unlinks D.map ("cp dup2"). Meant to run under
  strace -e trace=mmap,munmap,unlink: only the -y annotations say which file
  each fd is.
symlink-rename: keeps DIR/real/y open, opens DIR/link/x (link -> real),
  renames it over link/y (replacing real/y, which the trace names only by
  that spelling), maps it and unlinks link/y ("cp symlink-rename"): the -y
  annotations name real/y, a name the engine still gives the replaced file.
fork-pieces: maps three pages of DIR/C.map, unmaps the middle one, unlinks
  it and forks; the child keeps the two pieces it inherited ("cp fork-pieces"
  while both live).
pre-attach: opens DIR/prefd.map (and keeps open a file whose path holds a
  backslash, a newline and a tab), and maps three pages of DIR/snap.map and
  unlinks it, then says "ready" and waits for "go" (a capture attaches in
  between); then maps prefd.map through the fd opened before the attach and
  unlinks it, and unmaps snap.map's middle page ("cp pre-attach"). Both are
  left to the process's exit.
"""
import ctypes
import mmap
import os
import socket
import sys

PAGE = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)


def raw_map(fd, length):
    """libc's mmap, not Python's mmap module: that one maps a dup of the fd."""
    address = libc.mmap(None, length, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), 'mmap failed')
    return address


def raw_unmap(address, length):
    if libc.munmap(ctypes.c_void_p(address), length) != 0:
        raise OSError(ctypes.get_errno(), 'munmap failed')


def new_file(path, size):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    return fd


d, sock_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sock_path)
replies = sock.makefile('r', encoding='utf-8')


def send(line):
    sock.sendall(f'{line}\n'.encode())


def cp(label):
    send(f'cp {label}')
    assert replies.readline().strip() == 'ok'


send(f'hello {os.getpid()}')

if mode == 'fd-reuse':
    fd = new_file(f'{d}/A.map', 2 * PAGE)
    raw_map(fd, 2 * PAGE)
    os.close(fd)
    again = new_file(f'{d}/B.map', 2 * PAGE)
    assert again == fd, 'the fd number must come back'
    raw_map(again, 2 * PAGE)
    os.close(again)
    os.unlink(f'{d}/B.map')
    cp('reuse')
    c = new_file(f'{d}/C.map', 2 * PAGE)
    d_fd = new_file(f'{d}/D.map', 3 * PAGE)
    os.dup2(d_fd, c)
    raw_map(c, 3 * PAGE)
    os.close(c)
    os.close(d_fd)
    os.unlink(f'{d}/D.map')
    cp('dup2')
elif mode == 'symlink-rename':
    os.mkdir(f'{d}/real')
    os.symlink('real', f'{d}/link')
    kept = new_file(f'{d}/real/y', PAGE)
    fd = new_file(f'{d}/link/x', 2 * PAGE)
    os.rename(f'{d}/link/x', f'{d}/link/y')
    raw_map(fd, 2 * PAGE)
    os.close(fd)
    os.unlink(f'{d}/link/y')
    cp('symlink-rename')
elif mode == 'fork-pieces':
    fd = new_file(f'{d}/C.map', 3 * PAGE)
    base = raw_map(fd, 3 * PAGE)
    os.close(fd)
    raw_unmap(base + PAGE, PAGE)
    os.unlink(f'{d}/C.map')
    release_r, release_w = os.pipe()
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(ready_w, b'x')
        os.read(release_r, 1)
        os._exit(0)
    os.read(ready_r, 1)
    cp('fork-pieces')
    os.write(release_w, b'x')
    os.waitpid(child, 0)
    raw_unmap(base, 3 * PAGE)
elif mode == 'pre-attach':
    prefd = new_file(f'{d}/prefd.map', 2 * PAGE)
    # Kept open, never mapped: a name whose newline and tab would forge an fd
    # line of fds-start.txt ("9<TAB>DIR/forged.map") if written raw, and a backslash.
    forger = f'{d}/x\\y\n9\t{d}/forged.map'
    os.makedirs(os.path.dirname(forger), exist_ok=True)
    forger_fd = new_file(forger, PAGE)
    snap_fd = new_file(f'{d}/snap.map', 3 * PAGE)
    snap = raw_map(snap_fd, 3 * PAGE)
    os.close(snap_fd)
    os.unlink(f'{d}/snap.map')
    send('ready')
    assert replies.readline().strip() == 'go'
    raw_map(prefd, 2 * PAGE)
    os.unlink(f'{d}/prefd.map')
    raw_unmap(snap + PAGE, PAGE)
    cp('pre-attach')
else:
    raise SystemExit(f'unknown mode {mode}')
send('done')

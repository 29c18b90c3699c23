#!/usr/bin/python3
"""reused-key.py - two mappings, one after the other, that /proc cannot tell apart.

USAGE  reused-key.py DIR SOCKET

A client of observer.py (listening on SOCKET). Maps DIR/seg.index, unlinks it
("cp first"), unmaps it ("cp gone"), then maps the same deleted file, kept
open, at the same address again ("cp again", "cp still"): the second mapping
has the first one's process, inode and start, as a file that reuses a freed
inode number at a reused address does. The observer must report two leaks,
labelled "first" and "again".
"""
import ctypes
import mmap
import os
import socket
import sys

PAGE = mmap.PAGESIZE
MAP_FIXED_NOREPLACE = 0x100000
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)


def mapped(fd, address=None):
    flags = mmap.MAP_SHARED | (MAP_FIXED_NOREPLACE if address else 0)
    got = libc.mmap(address, 2 * PAGE, mmap.PROT_READ | mmap.PROT_WRITE, flags, fd, 0)
    if got != (address or got) or got == ctypes.c_void_p(-1).value:
        raise OSError(ctypes.get_errno(), f'mmap at {address} returned {got}')
    return got


d, path = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
replies = sock.makefile('r', encoding='utf-8')


def cp(label):
    sock.sendall(f'cp {label}\n'.encode())
    assert replies.readline().strip() == 'ok'


sock.sendall(f'hello {os.getpid()}\n'.encode())
fd = os.open(f'{d}/seg.index', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 2 * PAGE)
address = mapped(fd)
os.unlink(f'{d}/seg.index')
cp('first')
libc.munmap(address, 2 * PAGE)
cp('gone')
mapped(fd, address)
cp('again')
cp('still')
sock.sendall(b'done\n')

#!/usr/bin/python3
"""reused-inode.py - a new file's mapping with a gone one's inode number and start, between two looks.

USAGE  reused-inode.py DIR SOCKET

A client of observer.py (listening on SOCKET). Maps DIR/a.map, unlinks it
("cp first"), unmaps and closes it, then creates files until one is given
a.map's freed inode number (ext4 hands it out again at once), maps that one
at a.map's address and unlinks it ("cp again"). No look falls between the
two mappings, so process, inode number and start are the same at both: only
the inode's generation tells the second file from the first. The observer
must report two leaks, labelled "first" and "again".
"""
import ctypes
import mmap
import os
import socket
import sys

PAGE = mmap.PAGESIZE
MAP_FIXED_NOREPLACE = 0x100000
TRIES = 200
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


def new_file(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    os.ftruncate(fd, 2 * PAGE)
    return fd


d, path = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
replies = sock.makefile('r', encoding='utf-8')


def cp(label):
    sock.sendall(f'cp {label}\n'.encode())
    assert replies.readline().strip() == 'ok'


sock.sendall(f'hello {os.getpid()}\n'.encode())
fd = new_file(f'{d}/a.map')
inode = os.fstat(fd).st_ino
address = mapped(fd)
os.unlink(f'{d}/a.map')
cp('first')
libc.munmap(address, 2 * PAGE)
os.close(fd)
for attempt in range(TRIES):
    name = f'{d}/b{attempt}.map'
    fd = new_file(name)
    if os.fstat(fd).st_ino == inode:
        break
    os.close(fd)
    os.unlink(name)
else:
    sys.exit(f'reused-inode.py: no new file in {d} was given the freed inode number {inode} in {TRIES} tries: this file system does not reuse them at once, and the case cannot be built here')
mapped(fd, address)
os.unlink(name)
cp('again')
sock.sendall(b'done\n')

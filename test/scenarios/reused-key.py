#!/usr/bin/python3
"""reused-key.py - two mappings, one after the other, that process, inode number and start cannot tell apart.

USAGE  reused-key.py DIR SOCKET same-file|new-inode

A client of observer.py (listening on SOCKET). The observer must report two
leaks, labelled "first" and "again", at the same address.

same-file: maps DIR/seg.index, unlinks it ("cp first"), unmaps it ("cp
  gone"), then maps the same deleted file, kept open, at the same address
  again ("cp again", "cp still"): the second mapping has the first one's
  process, inode and start, as a file that reuses a freed inode number at a
  reused address does.
new-inode: maps DIR/a.map, unlinks it ("cp first"), unmaps and closes it,
  then creates files until one is given a.map's freed inode number (ext4
  hands it out again at once), maps that one at a.map's address and unlinks
  it ("cp again"). No look falls between the two mappings: only the inode's
  generation tells the second file from the first.
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


d, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
replies = sock.makefile('r', encoding='utf-8')


def cp(label):
    sock.sendall(f'cp {label}\n'.encode())
    assert replies.readline().strip() == 'ok'


def same_file():
    fd = new_file(f'{d}/seg.index')
    address = mapped(fd)
    os.unlink(f'{d}/seg.index')
    cp('first')
    libc.munmap(address, 2 * PAGE)
    cp('gone')
    mapped(fd, address)
    cp('again')
    cp('still')


def new_inode():
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
        sys.exit(f'reused-key.py: no new file in {d} was given the freed inode number {inode} in {TRIES} tries: '
                 'this file system does not reuse them at once, and the case cannot be built here')
    mapped(fd, address)
    os.unlink(name)
    cp('again')


sock.sendall(f'hello {os.getpid()}\n'.encode())
{'same-file': same_file, 'new-inode': new_inode}[mode]()
sock.sendall(b'done\n')

#!/usr/bin/python3
"""observer.py - the ground truth for the scenario suite, from /proc alone.

USAGE
  observer.py SOCKET OUT.json

Listens on the Unix socket SOCKET for one scenario driver (scenarios.py). The
driver says "hello PID", and at each checkpoint "cp LABEL"; the observer then
reads /proc/P/maps of PID and of every descendant process while they live,
records each file mapping whose file is deleted, and answers "ok" so that the
driver goes on only after the look. "done" (or the driver's end) writes
OUT.json:

  {"pid": 1234, "checkpoints": 17,
   "leaks": [{"label": "mmap-unlink", "pid": 1234, "address": "0x7f...",
              "bytes": 16384, "path": "/tmp/x/mmap-unlink/seg.index",
              "inode": "00:2a:1234", "pieces": [["0x7f...", 16384]]}]}

A file that another hard link still names is not deleted yet, whatever the
maps line says (it prints "(deleted)" once the mapped name is gone): the
observer asks the inode through /proc/P/map_files (root only). One leak per mapping: the pieces of a mapping that partial unmaps split stay
together (same process, same file, same start minus file offset), reported
at the first checkpoint that saw the mapping's file deleted, with the address
of its lowest piece and the bytes of all its pieces.

A mapping is known from one look to the next by that key only while it stays
in sight: a key missing from the previous look is a new mapping. Keys come
back: ext4 gives a freed inode number to a later file, and mmap the same free
range, so fork-inherit's shared.map can have hard-link's a.dat's inode and
address in the same process, looks after a.dat's mapping is gone. Between
two looks, too: map-fixed's a.map unmapped after its last look, and
partial-munmap's first.map created with a.map's inode number and mapped at
its address before the next. So the key also holds the inode's generation
(FS_IOC_GETVERSION, through map_files), which ext4 draws anew for every
inode it hands out; a file system without one (tmpfs) gives None.

Nothing here uses orphanmap's code: the truth must come from outside it.
"""
import fcntl
import json
import os
import socket
import sys

# _IOR('v', 1, long): the inode's generation number.
FS_IOC_GETVERSION = 0x80087601

# Objects the kernel prints as "(deleted)" that never had a name to unlink, in
# the traced programs: nscd's databases (/run/nscd/dbXXXXXX, which nscd makes
# and unlinks, then hands clients an fd: a JVM resolving a user maps one
# when nscd runs on the host) had none by the time any of them mapped it.
NAMELESS_PREFIXES = ('/memfd:', '/dev/zero', '/SYSV', '/anon_hugepage', '/dev/shm/.', '/run/nscd/db')


def children_of_all():
    """ppid -> [pid] for every process, from /proc/*/stat."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat', 'rb') as f:
                stat = f.read().decode('utf-8', 'replace')
        except OSError:
            continue
        # The comm field can hold spaces and parentheses: cut after the last ')'.
        fields = stat[stat.rfind(')') + 2:].split()
        ppid = int(fields[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def tree_of(root):
    children = children_of_all()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def deleted_mappings(pid):
    """(key, start, end, path, inode) for each VMA of a deleted file in pid's maps."""
    try:
        with open(f'/proc/{pid}/maps', 'rb') as f:
            text = f.read().decode('utf-8', 'surrogateescape')
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        # 7f0000000000-7f0000004000 rw-s 00002000 00:2a 1234    /tmp/x/seg (deleted)
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].endswith(' (deleted)'):
            continue
        path = parts[5][:-len(' (deleted)')]
        if int(parts[4]) == 0 or not path.startswith('/') or path.startswith(NAMELESS_PREFIXES):
            continue
        if os.path.basename(path).startswith('#'):
            continue  # an O_TMPFILE file: never had a name
        start, end = (int(x, 16) for x in parts[0].split('-'))
        # "(deleted)" means the mapped name was removed; a hard link may still
        # name the file. Only a file with no name left is orphaned.
        mapped_file = f'/proc/{pid}/map_files/{parts[0]}'
        try:
            if os.stat(mapped_file).st_nlink > 0:
                continue
        except OSError:
            pass
        offset = int(parts[2], 16)
        inode = f'{parts[3]}:{parts[4]}'
        found.append(((pid, inode, generation(mapped_file), start - offset), start, end, path, inode))
    return found


def generation(mapped_file):
    """The generation of the inode behind a map_files entry, or None where the file system keeps none."""
    try:
        fd = os.open(mapped_file, os.O_RDONLY)
    except OSError:
        return None
    try:
        return int.from_bytes(fcntl.ioctl(fd, FS_IOC_GETVERSION, bytes(8)), sys.byteorder)
    except OSError:
        return None
    finally:
        os.close(fd)


def look(root, label, leaks, in_sight):
    """Adds the mappings first seen orphaned now to leaks; returns the keys in sight."""
    groups = {}
    for pid in tree_of(root):
        for key, start, end, path, inode in deleted_mappings(pid):
            group = groups.setdefault(key, {'label': label, 'pid': pid, 'start': start, 'bytes': 0,
                                             'path': path, 'inode': inode, 'pieces': []})
            group['start'] = min(group['start'], start)
            group['bytes'] += end - start
            group['pieces'].append([hex(start), end - start])
    for key, group in groups.items():
        if key in in_sight:
            continue  # the mapping seen at the previous look
        leaks.append({'label': group['label'], 'pid': group['pid'], 'address': hex(group['start']),
                      'bytes': group['bytes'], 'path': group['path'], 'inode': group['inode'],
                      'pieces': sorted(group['pieces'], key=lambda piece: int(piece[0], 16))})
    return set(groups)


def main():
    sock_path, out_path = sys.argv[1], sys.argv[2]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)
    print('listening', flush=True)
    conn, _ = server.accept()
    reader = conn.makefile('r', encoding='utf-8')
    root, leaks, in_sight, checkpoints = None, [], set(), 0
    for line in reader:
        word, _, arg = line.strip().partition(' ')
        if word == 'hello':
            root = int(arg)
        elif word == 'cp':
            in_sight = look(root, arg, leaks, in_sight)
            checkpoints += 1
            conn.sendall(b'ok\n')
        elif word == 'ready':
            print('ready', flush=True)  # the test attaches now, then writes "go" to our stdin
            sys.stdin.readline()
            conn.sendall(b'go\n')
        elif word == 'done':
            break
    with open(out_path + '.tmp', 'w') as f:
        json.dump({'pid': root, 'checkpoints': checkpoints, 'leaks': leaks}, f, indent=1)
    os.rename(out_path + '.tmp', out_path)
    conn.close()


if __name__ == '__main__':
    main()

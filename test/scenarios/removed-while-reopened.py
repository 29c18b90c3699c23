# A parent maps a file, forks (the child maps it too), and unlinks it; the
# child then finds the name gone (an open that fails with ENOENT) and makes a
# new file at it (O_CREAT). Each process then prints the "(deleted)" lines of
# its own /proc/self/maps as JSON, one line each: the truth.
# Usage: removed-while-reopened.py PATH
import json
import mmap
import os
import sys

path = sys.argv[1]
SIZE = 8192


def deleted_lines():
    lines = []
    with open('/proc/self/maps') as maps:
        for line in maps:
            if line.rstrip('\n').endswith(' (deleted)'):
                span = line.split()[0].split('-')
                lines.append({'address': '0x' + span[0], 'bytes': int(span[1], 16) - int(span[0], 16), 'path': line.split(None, 5)[5].rstrip('\n')[: -len(' (deleted)')]})
    return lines


fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o666)
os.ftruncate(fd, SIZE)
mapped = mmap.mmap(fd, SIZE)
go_read, go_write = os.pipe()
done_read, done_write = os.pipe()
child = os.fork()
if child == 0:
    os.read(go_read, 1)
    try:
        os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        pass
    os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    print(json.dumps({'pid': os.getpid(), 'deleted': deleted_lines()}), flush=True)
    os.write(done_write, b'x')
    os._exit(0)
os.unlink(path)
os.write(go_write, b'x')
os.read(done_read, 1)
print(json.dumps({'pid': os.getpid(), 'deleted': deleted_lines()}), flush=True)
os.waitpid(child, 0)
os.unlink(path)

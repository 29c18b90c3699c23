"""A file mapped by a traced program, then replaced at its name by a process
the capture does not trace, before the program exits holding it (review 70,
F1: an untraced `fc-cache -f -r` replaced the font caches a traced program
held; gdbm's reorganize, in an untraced writer, renamed a new database over
the one a reader held; /proc showed each "(deleted)", and the report read
clean, exit 0).

USAGE: python3 replaced-by-another.py DIR [remap] [keep] [early] [unmap] [--wait-start]
  Prints its pid. With --wait-start, waits for DIR/start first (a capture
  attached by then); early: maps first, then waits. Writes DIR/cache.bin
  (keep: uses the one there), maps it (shared, read-only; the fd closed at
  once; unmap: unmaps it then), and writes DIR/mapped. Then waits for
  DIR/go: the caller has replaced cache.bin by then, or only written to it.
  remap: maps DIR/cache.bin again (the file now at the name).
  Writes its pid and its own /proc/self/maps lines of files named cache.bin
  (wherever a symbolic link in DIR led) to DIR/record.txt, and exits with
  every mapping it has not unmapped held.
"""
import mmap
import os
import sys
import time

directory = sys.argv[1]
options = sys.argv[2:]
name = os.path.join(directory, 'cache.bin')
print(os.getpid(), flush=True)


def map_whole():
    fd = os.open(name, os.O_RDONLY)
    mapped = mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fd)
    return mapped


def write_and_map():
    if 'keep' not in options:
        with open(name, 'wb') as out:
            out.write(b'c' * 16384)
    return [map_whole()]


if 'early' in options:
    held = write_and_map()
if '--wait-start' in options:
    while not os.path.exists(os.path.join(directory, 'start')):
        time.sleep(0.02)
if 'early' not in options:
    held = write_and_map()
if 'unmap' in options:
    held.pop(0).close()
open(os.path.join(directory, 'mapped'), 'w').close()
while not os.path.exists(os.path.join(directory, 'go')):
    time.sleep(0.02)
if 'remap' in options:
    held.append(map_whole())
with open('/proc/self/maps') as maps:
    lines = [line for line in maps if '/cache.bin' in line]
with open(os.path.join(directory, 'record.txt'), 'w') as record:
    record.write(f'pid={os.getpid()}\n')
    record.writelines(lines)
# Straight to exit_group, every mapping still held.
os._exit(0)

#!/usr/bin/python3
"""scenarios.py - real programs that map files and remove them the ways real software does.

USAGE
  scenarios.py WORKDIR SOCKET [--wait-go] [--java CLASSDIR] [NAME...]

Runs each scenario (all of them, or the NAMEs) in WORKDIR/NAME, one after
another, in this one process and the children some of them start. Before each
look at the truth it asks the observer (observer.py, listening on SOCKET) to
read /proc, and waits until it has: "cp NAME" after every unlink, rename over
a file, or removal by a child. With --wait-go it first starts three worker
threads, says "ready" and waits for "go": a tracer can attach to a process
whose threads already exist. With --java it also runs JavaScenarios from
CLASSDIR, whose checkpoints it relays.

The scenarios are not written to fit orphanmap: they use the Python mmap
module, libc through ctypes (MAP_FIXED, partial munmap), SQLite, POSIX shared
memory, rm, fork and threads as ordinary programs do, and unmap some
mappings later and leave others to the process's exit.
"""
import ctypes
import mmap
import os
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
from multiprocessing import shared_memory

PAGE = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
MAP_FAILED = ctypes.c_void_p(-1).value
MAP_FIXED = 0x10


class Observer:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.replies = self.sock.makefile('r', encoding='utf-8')
        self.send(f'hello {os.getpid()}')

    def send(self, line):
        self.sock.sendall((line + '\n').encode())

    def checkpoint(self, label):
        self.send(f'cp {label}')
        assert self.replies.readline().strip() == 'ok'

    def wait_go(self):
        self.send('ready')
        assert self.replies.readline().strip() == 'go'


class Workers:
    """Threads that exist before a tracer attaches; each runs what it is given."""

    def __init__(self, count):
        self.queues = [queue.Queue() for _ in range(count)]
        for q in self.queues:
            threading.Thread(target=self.serve, args=(q,), daemon=True).start()

    @staticmethod
    def serve(q):
        while True:
            fn, done = q.get()
            done.put(fn())

    def run(self, index, fn):
        done = queue.Queue()
        self.queues[index].put((fn, done))
        return done.get()


def raw_map(fd, length, offset=0, address=None, flags=mmap.MAP_SHARED):
    prot = mmap.PROT_READ | mmap.PROT_WRITE
    got = libc.mmap(address, length, prot, flags | (MAP_FIXED if address else 0), fd, offset)
    if got in (None, MAP_FAILED):
        raise OSError(ctypes.get_errno(), 'mmap failed')
    return got


def raw_unmap(address, length):
    if libc.munmap(address, length) != 0:
        raise OSError(ctypes.get_errno(), 'munmap failed')


def new_file(path, size):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    os.ftruncate(fd, size)
    return fd


# ---- scenarios: each gets its directory and the checkpoint function ------

def mmap_unlink(d, cp):
    """The plain leak: mapped with the mmap module, unlinked, unmapped later."""
    fd = new_file(f'{d}/seg.index', 4 * PAGE)
    mm = mmap.mmap(fd, 4 * PAGE)
    os.close(fd)
    os.unlink(f'{d}/seg.index')
    cp()
    mm.close()


def close_then_unlink(d, cp):
    """The fixed life cycle: unmapped and closed before the unlink. No leak."""
    fd = new_file(f'{d}/seg.index', 2 * PAGE)
    mm = mmap.mmap(fd, 2 * PAGE)
    mm.close()
    os.close(fd)
    os.unlink(f'{d}/seg.index')
    cp()


def mremap_grow(d, cp):
    """mmap.resize() ftruncates and mremaps (it may move); the new range leaks."""
    fd = new_file(f'{d}/grow.log', 2 * PAGE)
    mm = mmap.mmap(fd, 2 * PAGE)
    mm.resize(16 * PAGE)
    os.unlink(f'{d}/grow.log')
    cp()
    mm.close()
    os.close(fd)


def rename_deleted_unlink(d, cp):
    """Kafka's segment deletion: rename to .deleted, then unlink; left to exit."""
    fd = new_file(f'{d}/00000000000000000000.index', 8 * PAGE)
    address = raw_map(fd, 8 * PAGE)
    os.close(fd)
    os.rename(f'{d}/00000000000000000000.index', f'{d}/00000000000000000000.index.deleted')
    os.unlink(f'{d}/00000000000000000000.index.deleted')
    cp()
    KEEP.append(address)


def hard_link(d, cp):
    """A file with two names outlives the first unlink; the second orphans the mapping."""
    fd = new_file(f'{d}/a.dat', 2 * PAGE)
    address = raw_map(fd, 2 * PAGE)
    os.close(fd)
    os.link(f'{d}/a.dat', f'{d}/b.dat')
    os.unlink(f'{d}/a.dat')
    cp()
    os.unlink(f'{d}/b.dat')
    cp()
    raw_unmap(address, 2 * PAGE)


def resize_remap(d, cp):
    """The resize signature: ftruncate, map again, unmap only the new mapping."""
    fd = new_file(f'{d}/00000000000000000000.timeindex', 3 * PAGE)
    old = raw_map(fd, 3 * PAGE)
    os.ftruncate(fd, 6 * PAGE)
    new = raw_map(fd, 6 * PAGE)
    raw_unmap(new, 6 * PAGE)
    os.close(fd)
    os.unlink(f'{d}/00000000000000000000.timeindex')
    cp()
    raw_unmap(old, 3 * PAGE)


def at_calls(d, cp):
    """openat and unlinkat relative to a directory fd."""
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    fd = os.open('cache.bin', os.O_RDWR | os.O_CREAT, 0o644, dir_fd=dfd)
    os.ftruncate(fd, 3 * PAGE)
    address = raw_map(fd, 3 * PAGE)
    os.close(fd)
    os.unlink('cache.bin', dir_fd=dfd)
    os.close(dfd)
    cp()
    raw_unmap(address, 3 * PAGE)


def rename_over(d, cp):
    """A new file renamed over a mapped one: the mapped file loses its only name."""
    fd = new_file(f'{d}/state.db', 2 * PAGE)
    address = raw_map(fd, 2 * PAGE)
    os.close(fd)
    with open(f'{d}/state.db.tmp', 'wb') as f:
        f.write(b'new state')
    os.rename(f'{d}/state.db.tmp', f'{d}/state.db')
    cp()
    raw_unmap(address, 2 * PAGE)


def rm_child(d, cp):
    """rm and rm -rf, run as child processes, remove mapped files."""
    fd = new_file(f'{d}/one.idx', 2 * PAGE)
    first = raw_map(fd, 2 * PAGE)
    os.close(fd)
    subprocess.run(['rm', f'{d}/one.idx'], check=True)
    cp()
    os.mkdir(f'{d}/part-7')
    fd = new_file(f'{d}/part-7/two.idx', 3 * PAGE)
    second = raw_map(fd, 3 * PAGE)
    os.close(fd)
    subprocess.run(['rm', '-rf', f'{d}/part-7'], check=True)
    cp()
    raw_unmap(first, 2 * PAGE)
    raw_unmap(second, 3 * PAGE)


def fork_inherit(d, cp):
    """A forked child keeps the inherited mapping: two address spaces hold it."""
    fd = new_file(f'{d}/shared.map', 2 * PAGE)
    address = raw_map(fd, 2 * PAGE)
    os.close(fd)
    release_r, release_w = os.pipe()
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(release_w)
        os.write(ready_w, b'x')
        os.read(release_r, 1)
        os._exit(0)
    os.close(release_r)
    os.read(ready_r, 1)
    os.unlink(f'{d}/shared.map')
    cp()
    os.write(release_w, b'x')
    os.waitpid(child, 0)
    raw_unmap(address, 2 * PAGE)
    for end in (release_w, ready_r, ready_w):
        os.close(end)


def three_threads(d, cp):
    """One thread maps, another unlinks, a third unmaps (threads from before an attach)."""
    def map_it():
        fd = new_file(f'{d}/threads.idx', 4 * PAGE)
        address = raw_map(fd, 4 * PAGE)
        os.close(fd)
        return address
    address = WORKERS.run(0, map_it)
    WORKERS.run(1, lambda: os.unlink(f'{d}/threads.idx'))
    cp()
    WORKERS.run(2, lambda: raw_unmap(address, 4 * PAGE))


def sqlite_wal(d, cp):
    """SQLite in WAL mode maps its -shm file; the database is deleted while open."""
    conn = sqlite3.connect(f'{d}/app.db')
    conn.execute('PRAGMA journal_mode=WAL')
    conn.execute('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)')
    conn.executemany('INSERT INTO t (v) VALUES (?)', [('x' * 100,)] * 50)
    conn.commit()
    for suffix in ('', '-wal', '-shm'):
        os.unlink(f'{d}/app.db{suffix}')
    cp()
    conn.close()


def posix_shm(d, cp):
    """POSIX shared memory: shm_unlink while still mapped, closed later."""
    shm = shared_memory.SharedMemory(create=True, size=5 * PAGE)
    shm.buf[0] = 1
    shm.unlink()
    cp()
    shm.close()


def dir_rename(d, cp):
    """The partition directory is renamed (Kafka's -delete), then its file unlinked."""
    os.mkdir(f'{d}/topic-0')
    fd = new_file(f'{d}/topic-0/00000000000000000042.index', 2 * PAGE)
    address = raw_map(fd, 2 * PAGE)
    os.close(fd)
    os.rename(f'{d}/topic-0', f'{d}/topic-0.abc-delete')
    os.unlink(f'{d}/topic-0.abc-delete/00000000000000000042.index')
    cp()
    raw_unmap(address, 2 * PAGE)


def symlink_chdir(d, cp):
    """Opened by a relative name through a symlinked directory after chdir; unlinked by its real path."""
    os.mkdir(f'{d}/real')
    os.symlink(f'{d}/real', f'{d}/link')
    here = os.getcwd()
    os.chdir(f'{d}/link')
    fd = os.open('rel.map', os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 2 * PAGE)
    address = raw_map(fd, 2 * PAGE)
    os.close(fd)
    os.chdir(here)
    os.unlink(f'{d}/real/rel.map')
    cp()
    raw_unmap(address, 2 * PAGE)


def symlink_absolute(d, cp):
    """Opened by an absolute path through a symlinked directory; unlinked by its real path."""
    os.mkdir(f'{d}/real')
    os.symlink(f'{d}/real', f'{d}/link')
    fd = new_file(f'{d}/link/abs.map', 3 * PAGE)
    address = raw_map(fd, 3 * PAGE)
    os.close(fd)
    os.unlink(f'{d}/real/abs.map')
    cp()
    raw_unmap(address, 3 * PAGE)


def map_fixed(d, cp):
    """MAP_FIXED maps one file over the middle of another's mapping."""
    fd_a = new_file(f'{d}/a.map', 4 * PAGE)
    fd_b = new_file(f'{d}/b.map', 2 * PAGE)
    base = raw_map(fd_a, 4 * PAGE)
    raw_map(fd_b, 2 * PAGE, 0, base + PAGE)
    os.close(fd_a)
    os.close(fd_b)
    os.unlink(f'{d}/a.map')
    cp()
    os.unlink(f'{d}/b.map')
    cp()
    # Anonymous memory over all of it releases both files.
    raw_map(-1, 4 * PAGE, 0, base, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    raw_unmap(base, 4 * PAGE)


def partial_munmap(d, cp):
    """The first page, the middle two pages, and a munmap spanning two mappings."""
    fd = new_file(f'{d}/first.map', 4 * PAGE)
    first = raw_map(fd, 4 * PAGE)
    os.close(fd)
    raw_unmap(first, PAGE)
    os.unlink(f'{d}/first.map')
    cp()

    fd = new_file(f'{d}/middle.map', 4 * PAGE)
    middle = raw_map(fd, 4 * PAGE)
    os.close(fd)
    raw_unmap(middle + PAGE, 2 * PAGE)
    os.unlink(f'{d}/middle.map')
    cp()

    # Two files side by side in a reserved range; one munmap takes the end of
    # the first and the start of the second.
    reserved = raw_map(-1, 4 * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    fd_c = new_file(f'{d}/c.map', 2 * PAGE)
    fd_d = new_file(f'{d}/d.map', 2 * PAGE)
    raw_map(fd_c, 2 * PAGE, 0, reserved)
    raw_map(fd_d, 2 * PAGE, 0, reserved + 2 * PAGE)
    os.close(fd_c)
    os.close(fd_d)
    raw_unmap(reserved + PAGE, 2 * PAGE)
    os.unlink(f'{d}/c.map')
    os.unlink(f'{d}/d.map')
    cp()
    raw_unmap(first + PAGE, 3 * PAGE)
    raw_unmap(middle, 4 * PAGE)
    raw_unmap(reserved, 4 * PAGE)


def offsets_and_dup(d, cp):
    """A window at an offset through a dup'ed fd, and one through F_DUPFD_CLOEXEC."""
    import fcntl
    fd = new_file(f'{d}/big.dat', 6 * PAGE)
    copy = os.dup(fd)
    window = raw_map(copy, 3 * PAGE, 2 * PAGE)
    other = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    tail = raw_map(other, PAGE, 5 * PAGE)
    for f in (fd, copy, other):
        os.close(f)
    os.unlink(f'{d}/big.dat')
    cp()
    raw_unmap(window, 3 * PAGE)
    KEEP.append(tail)


def java(d, cp):
    """A JVM maps an index, grows it and maps it again, then deletes it (Kafka's resize)."""
    if JAVA_CLASSES is None:
        return
    child = subprocess.Popen(['java', '-XX:-UsePerfData', '-Xshare:auto', '-cp', JAVA_CLASSES, 'JavaScenarios', d],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in child.stdout:
        if line.startswith('cp'):
            cp()
            child.stdin.write('ok\n')
            child.stdin.flush()
    if child.wait() != 0:
        raise RuntimeError(f'JavaScenarios exited with {child.returncode}')


SCENARIOS = [mmap_unlink, close_then_unlink, mremap_grow, rename_deleted_unlink, hard_link, resize_remap,
             at_calls, rename_over, rm_child, fork_inherit, three_threads, sqlite_wal, posix_shm, dir_rename,
             symlink_chdir, symlink_absolute, map_fixed, partial_munmap, offsets_and_dup, java]
KEEP = []
WORKERS = None
JAVA_CLASSES = None


def main():
    global WORKERS, JAVA_CLASSES
    args = sys.argv[1:]
    workdir, sock = args[0], args[1]
    args = args[2:]
    wait_go = '--wait-go' in args
    if '--java' in args:
        at = args.index('--java')
        JAVA_CLASSES = args[at + 1]
        del args[at:at + 2]
    names = [a for a in args if not a.startswith('--')]
    observer = Observer(sock)
    WORKERS = Workers(3)
    if wait_go:
        observer.wait_go()
    chosen = [s for s in SCENARIOS if not names or s.__name__.replace('_', '-') in names]
    for scenario in chosen:
        name = scenario.__name__.replace('_', '-')
        d = f'{workdir}/{name}'
        os.makedirs(d, exist_ok=True)
        scenario(d, lambda: observer.checkpoint(name))
    observer.send('done')
    print(f'scenarios: ran {len(chosen)}', file=sys.stderr)


if __name__ == '__main__':
    main()

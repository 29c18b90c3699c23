# Removes a mapped file where no system call shows it, in the ways review 23
# found: "uring" maps WORK/ring.bin and unlinks it with io_uring
# (IORING_OP_UNLINKAT: the kernel does it, no unlink call); "ring-first" sets
# up its ring at once, says "ready" and waits for a line (review 24: a
# ring older than capture --pid), then maps WORK/ring.bin and unlinks it
# through that ring; "ring-closed-first" (review 25) does the same with a
# ring whose kernel thread polls it (SQPOLL), mapped by libc and its fd
# closed before the attach, so that no fd and no call shows it, only its
# mappings; "chroot-first" chroots into WORK/jail at once, opens
# /seg.bin, says "ready" and waits for a line, then maps it and unlinks it;
# "chroot-leader-gone" (review 33) does the same in a thread of its own, its
# leader thread ending alone the moment the tracer attaches;
# "chroot" maps
# WORK/jail/seg.bin, chroots into WORK/jail and unlinks "/seg.bin". Review
# 24 found two more: "bind" maps WORK/d/bind.bin and, in a mount namespace
# of its own, bind-mounts WORK/d on WORK/alias with MS_BIND|MS_PRIVATE (a
# bind mount: the kernel tests MS_BIND before the propagation flags) and
# unlinks WORK/alias/bind.bin; "tree" maps WORK/t/tree.bin, takes a detached
# copy of WORK/t with open_tree(OPEN_TREE_CLONE) and unlinks "tree.bin" in
# it; "magic" (after "bind", in its namespace) mounts a tmpfs on WORK/m, maps
# WORK/m/magic.bin, moves the mount to WORK/malias and unlinks
# WORK/malias/magic.bin, both mounts with the old magic MS_MGC_VAL in their
# flags, whose bits read as MS_SLAVE|MS_PRIVATE (review 25: the kernel strips
# it first); "fs-thread" maps WORK/fa/thread.bin, changes into WORK/fa, and
# a thread of its own cwd (unshare(CLONE_FS)) changes into WORK/fb, then the
# main thread unlinks "thread.bin" (WORK/fa's); "fs-shared" maps
# WORK/sb/shared.bin, changes into WORK/sa, and a child made with
# clone(CLONE_FS), which shares the cwd, changes into WORK/sb, then the
# parent unlinks "shared.bin" (WORK/sb's) (review 25: the engine keeps a cwd
# per process). In the order given. Each mapping is kept to the end. The program's record
# (WORK/truth.json): its pid and what its own /proc/self/maps shows deleted
# after each removal (read through an fd opened before the chroot).
import ctypes, json, mmap, os, struct, sys, threading, time

from deleted_maps import read_again

work, modes = sys.argv[1], sys.argv[2].split(",")
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
maps = os.open("/proc/self/maps", os.O_RDONLY)
record = os.open(os.path.join(work, "truth.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
kept = []
truth = {"pid": os.getpid(), "deleted": {}}


def mapped(path, fd=None):
    # libc's mmap, not Python's mmap module: that one keeps a dup of the fd, whose close would show the file gone.
    if fd is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.ftruncate(fd, 1 << 20)
    kept.append(libc.mmap(None, 1 << 20, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0))
    os.close(fd)


def deleted_now():
    return sorted(line.split()[0] + " " + line.split(None, 5)[5] for line in read_again(maps).splitlines() if line.endswith(" (deleted)"))


def io_uring():
    """Sets up a ring; returns a function that unlinks a path through it."""
    params = ctypes.create_string_buffer(120)
    ring = libc.syscall(425, 4, params)  # io_uring_setup(4, &params)
    if ring < 0:
        sys.exit("io_uring_setup failed: errno %d" % ctypes.get_errno())
    word = lambda offset: struct.unpack_from("I", params.raw, offset)[0]
    sq_entries, cq_entries = word(0), word(4)
    sq_off = struct.unpack_from("IIIIIIII", params.raw, 40)
    cq_off = struct.unpack_from("IIIIIIII", params.raw, 80)
    sq = mmap.mmap(ring, sq_off[6] + sq_entries * 4, offset=0)
    cq = mmap.mmap(ring, cq_off[5] + cq_entries * 16, offset=0x8000000)
    sqes = mmap.mmap(ring, sq_entries * 64, offset=0x10000000)
    return lambda path: unlink_through(ring, sq, cq, sqes, sq_off, cq_off, path)


def polled_ring():
    """Sets up a ring that a kernel thread polls (IORING_SETUP_SQPOLL), maps it
    with libc and closes its fd: only its mappings are left. Returns a function
    that unlinks a path through it with no system call."""
    params = ctypes.create_string_buffer(120)
    struct.pack_into("I", params, 8, 2)  # flags: IORING_SETUP_SQPOLL
    struct.pack_into("I", params, 16, 60000)  # sq_thread_idle: 60 s, so that the thread is awake when the unlink comes
    ring = libc.syscall(425, 4, params)
    if ring < 0:
        sys.exit("io_uring_setup(SQPOLL) failed: errno %d" % ctypes.get_errno())
    word = lambda offset: struct.unpack_from("I", params.raw, offset)[0]
    sq_entries, cq_entries = word(0), word(4)
    sq_off = struct.unpack_from("IIIIIIII", params.raw, 40)
    cq_off = struct.unpack_from("IIIIIIII", params.raw, 80)

    def view(size, offset):
        address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, ring, offset)
        if address in (None, ctypes.c_void_p(-1).value):
            sys.exit("mmap of the ring failed: errno %d" % ctypes.get_errno())
        return (ctypes.c_char * size).from_address(address)

    sq = view(sq_off[6] + sq_entries * 4, 0)
    cq = view(cq_off[5] + cq_entries * 16, 0x8000000)
    sqes = view(sq_entries * 64, 0x10000000)
    os.close(ring)

    def unlink(path):
        name = ctypes.create_string_buffer(path.encode())
        kept.append(name)
        struct.pack_into("64s", sqes, 0, struct.pack("BBHiQQII", 36, 0, 0, -100, 0, ctypes.addressof(name), 0, 0))
        done = struct.unpack_from("I", cq, cq_off[1])[0]
        tail = struct.unpack_from("I", sq, sq_off[1])[0]
        mask = struct.unpack_from("I", sq, sq_off[2])[0]
        struct.pack_into("I", sq, sq_off[6] + 4 * (tail & mask), 0)
        struct.pack_into("I", sq, sq_off[1], tail + 1)
        # The kernel thread takes the entry and posts its completion: no call, only a wait on memory.
        deadline = time.monotonic() + 10
        while struct.unpack_from("I", cq, cq_off[1])[0] == done:
            if time.monotonic() > deadline:
                sys.exit("the polled ring did not complete the unlink")
            time.sleep(0.001)
        result = struct.unpack_from("i", cq, cq_off[5] + 16 * (done & struct.unpack_from("I", cq, cq_off[2])[0]) + 8)[0]
        if result != 0:
            sys.exit("IORING_OP_UNLINKAT failed: %d" % result)

    return unlink


def unlink_through(ring, sq, cq, sqes, sq_off, cq_off, path):
    name = ctypes.create_string_buffer(path.encode())
    # One entry: IORING_OP_UNLINKAT (36) of `path` relative to AT_FDCWD.
    sqes[0:64] = struct.pack("BBHiQQII", 36, 0, 0, -100, 0, ctypes.addressof(name), 0, 0).ljust(64, b"\0")
    tail = struct.unpack_from("I", sq, sq_off[1])[0]
    mask = struct.unpack_from("I", sq, sq_off[2])[0]
    struct.pack_into("I", sq, sq_off[6] + 4 * (tail & mask), 0)
    struct.pack_into("I", sq, sq_off[1], tail + 1)
    if libc.syscall(426, ring, 1, 1, 1, None, 0) != 1:  # io_uring_enter(ring, 1, 1, IORING_ENTER_GETEVENTS)
        sys.exit("io_uring_enter failed: errno %d" % ctypes.get_errno())
    result = struct.unpack_from("i", cq, cq_off[5] + 8)[0]
    if result != 0:
        sys.exit("IORING_OP_UNLINKAT failed: %d" % result)


MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE, CLONE_NEWNS, OPEN_TREE_CLONE = 0x1000, 0x2000, 0x4000, 0x40000, 0x20000, 1
MS_MGC_VAL = 0xC0ED0000
CLONE_FS = 0x200
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]


def check(result, what):
    if result < 0:
        sys.exit("%s failed: errno %d" % (what, ctypes.get_errno()))


status = os.open("/proc/self/status", os.O_RDONLY)
if modes[0] in ("chroot-first", "chroot-leader-gone"):
    # In a root of its own before capture --pid attaches, as a container's process is.
    jail = os.path.join(work, "jail")
    os.makedirs(jail, exist_ok=True)
    os.chroot(jail)
    os.chdir("/")
    opened_first = os.open("/seg.bin", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    print("ready", flush=True)
    if modes[0] == "chroot-first":
        sys.stdin.readline()
if modes[0] in ("ring-first", "ring-closed-first"):
    ring_unlink = io_uring() if modes[0] == "ring-first" else polled_ring()
    print("ready", flush=True)
    sys.stdin.readline()

def run():
    for mode in modes:
        if mode == "uring":
            path = os.path.join(work, "ring.bin")
            mapped(path)
            io_uring()(path)
        elif mode in ("ring-first", "ring-closed-first"):
            # The ring predates the capture (capture --pid after "ready"): only the unlink through it comes after.
            path = os.path.join(work, "ring.bin")
            mapped(path)
            ring_unlink(path)
        elif mode == "bind":
            d, alias = os.path.join(work, "d"), os.path.join(work, "alias")
            os.makedirs(d, exist_ok=True)
            os.makedirs(alias, exist_ok=True)
            mapped(os.path.join(d, "bind.bin"))
            check(libc.unshare(CLONE_NEWNS), "unshare")
            # As unshare -m does: nothing mounted here reaches the host's namespace. A change of propagation, no name moved.
            check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate")
            check(libc.mount(d.encode(), alias.encode(), None, MS_BIND | MS_PRIVATE, None), "mount MS_BIND|MS_PRIVATE")
            os.unlink(os.path.join(alias, "bind.bin"))
        elif mode == "magic":
            m, alias = os.path.join(work, "m"), os.path.join(work, "malias")
            os.makedirs(m, exist_ok=True)
            os.makedirs(alias, exist_ok=True)
            check(libc.mount(b"none", m.encode(), b"tmpfs", MS_MGC_VAL, None), "mount tmpfs MS_MGC_VAL")
            mapped(os.path.join(m, "magic.bin"))
            check(libc.mount(m.encode(), alias.encode(), None, MS_MGC_VAL | MS_MOVE, None), "mount MS_MGC_VAL|MS_MOVE")
            os.unlink(os.path.join(alias, "magic.bin"))
        elif mode == "fs-thread":
            a, b = os.path.join(work, "fa"), os.path.join(work, "fb")
            os.makedirs(a, exist_ok=True)
            os.makedirs(b, exist_ok=True)
            mapped(os.path.join(a, "thread.bin"))
            os.chdir(a)

            def own_cwd():
                check(libc.unshare(CLONE_FS), "unshare(CLONE_FS)")
                os.chdir(b)

            thread = threading.Thread(target=own_cwd)
            thread.start()
            thread.join()
            os.unlink("thread.bin")
            os.chdir(work)
        elif mode == "fs-shared":
            a, b = os.path.join(work, "sa"), os.path.join(work, "sb")
            os.makedirs(a, exist_ok=True)
            os.makedirs(b, exist_ok=True)
            mapped(os.path.join(b, "shared.bin"))
            os.chdir(a)
            child = libc.syscall(56, CLONE_FS | 17, None, None, None, None)  # clone(CLONE_FS|SIGCHLD): fork, the cwd shared
            check(child, "clone(CLONE_FS)")
            if child == 0:
                os.chdir(b)
                os._exit(0)
            os.waitpid(child, 0)
            os.unlink("shared.bin")
            os.chdir(work)
        elif mode == "tree":
            t = os.path.join(work, "t")
            os.makedirs(t, exist_ok=True)
            mapped(os.path.join(t, "tree.bin"))
            tree = libc.syscall(428, -100, t.encode(), OPEN_TREE_CLONE)  # open_tree(AT_FDCWD, t, OPEN_TREE_CLONE)
            check(tree, "open_tree")
            os.unlink("tree.bin", dir_fd=tree)
            os.close(tree)
        elif mode in ("chroot-first", "chroot-leader-gone"):
            mapped("/seg.bin", opened_first)
            os.unlink("/seg.bin")
        elif mode == "chroot":
            jail = os.path.join(work, "jail")
            os.makedirs(jail, exist_ok=True)
            mapped(os.path.join(jail, "seg.bin"))
            os.chroot(jail)
            os.unlink("/seg.bin")
        truth["deleted"][mode] = deleted_now()
    os.write(record, json.dumps(truth).encode())


if modes[0] == "chroot-leader-gone":
    # Its leader thread ends the moment the tracer attaches (SYS_exit: the thread alone; a zombie leader), and another
    # thread does the rest: the leader's own /proc files then read as a process gone (review 33 attack, F6: the capture
    # could not read its root, and said nothing of it).
    def rest():
        sys.stdin.readline()
        run()
        os._exit(0)

    threading.Thread(target=rest).start()
    while "\nTracerPid:\t0\n" in read_again(status):
        time.sleep(0.001)
    libc.syscall(60, 0)
run()


# Programs whose strace -f output on stderr drops the "[pid N] " prefix again
# after the first clone: strace prints it only while more than one tracee is
# alive. Each process writes its own orphaned mappings, read from its own
# /proc/self/maps, to TRUTH as "PID START-END" lines.
#
# USAGE: stderr-prefix.py DIR CASE
#   fork-first    the root runs a short child (subprocess: vfork + exec), alive until the root closes its stdin, then maps and unlinks
#   parent-exits  the root forks and exits; the child, alone, maps and unlinks
#   threads       threads map and unlink; then a forked child does; the root after it exits
#   daemon        the root forks and exits at once; the child, which never printed a prefix, maps and unlinks
#   fork-between  the root maps A and forks; the child maps and unlinks B; the root unlinks A, maps and unlinks C
#   attach-fork   waits for a tracer (strace -p), runs a short child, then maps and unlinks
import mmap, os, subprocess, sys, threading, time

D, CASE = sys.argv[1], sys.argv[2]
os.makedirs(D, exist_ok=True)
keep = []


def orphan(name):
    path = f"{D}/{name}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, 8192)
    keep.append(mmap.mmap(fd, 8192))
    os.close(fd)
    os.unlink(path)


def truth():
    lines = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("(deleted)") and f" {D}/" in line:
                lines.append(f"{os.getpid()} {line.split()[0]}\n")
    with open(f"{D}/truth.txt", "a") as out:
        out.writelines(lines)


if CASE == "fork-first":
    # The child waits for its stdin to close, so it is alive when the vfork
    # resumes and strace prints that line with a prefix: a child that exited
    # first (/bin/true on a loaded machine) left the resume unprefixed.
    child = subprocess.Popen(["/bin/sh", "-c", "read line"], stdin=subprocess.PIPE)
    child.stdin.close()
    child.wait()
    orphan("seg.index")
    truth()
elif CASE == "parent-exits":
    parent = os.getpid()
    ready, go = os.pipe()
    if os.fork() != 0:
        os.read(ready, 1)  # the child has run a call: strace follows it, and prints the parent's exit with a prefix
        os._exit(0)
    os.write(go, b"x")
    while os.getppid() == parent:
        time.sleep(0.01)
    time.sleep(0.05)  # the parent's exit is printed
    orphan("alone.index")
    truth()
elif CASE == "threads":
    threads = [threading.Thread(target=orphan, args=(f"t{i}.index",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    child = os.fork()
    if child == 0:
        orphan("child.index")
        truth()
        os._exit(0)
    os.waitpid(child, 0)
    orphan("root.index")
    truth()
elif CASE == "daemon":
    if os.fork() != 0:
        os._exit(0)
    time.sleep(0.2)  # the parent's exit is printed long before
    orphan("daemon.index")
    truth()
elif CASE == "fork-between":
    path = f"{D}/A.index"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, 8192)
    keep.append(mmap.mmap(fd, 8192))
    os.close(fd)
    child = os.fork()
    if child == 0:
        orphan("B.index")
        truth()
        os._exit(0)
    os.waitpid(child, 0)
    os.unlink(path)
    orphan("C.index")
    truth()
elif CASE == "attach-fork":
    with open(f"{D}/ready", "w"):
        pass
    while True:  # until strace -p is attached
        with open("/proc/self/status") as status:
            if any(line.startswith("TracerPid:") and line.split()[1] != "0" for line in status):
                break
        time.sleep(0.01)
    time.sleep(0.2)
    child = os.fork()
    if child == 0:
        time.sleep(0.05)
        os._exit(0)
    os.waitpid(child, 0)
    orphan("attached.index")
    truth()
else:
    sys.exit(f"unknown case {CASE}")

"""A process whose fork children hold copies of its mappings of files that
lost their names, for test/capture-review23-fork-copies.test.ts: run it
under `orphanmap capture --pid`.

USAGE: python3 fork-copies.py DIR [stay]
  Maps DIR/held (shared, 8 KiB) and says "ready"; then waits for a line (the
  test removes DIR/held, outside the trace, before it sends it). Then:
  - maps DIR/leaky (shared, 8 KiB) and unlinks it while mapped: a leak the
    trace shows; sleeps 1 s;
  - forks a child that writes its own "(deleted)" maps to DIR/out/exec-child.json
    and execs /bin/true at once (it holds the copies for milliseconds, a
    second after the unlink), and waits for it;
  - forks a child that writes its "(deleted)" maps to DIR/out/short-child.json,
    lives 0.3 s and exits, and waits for it;
  - forks a child that writes its "(deleted)" maps to DIR/out/long-child.json
    once this process has exited (its end of a pipe reads EOF), then sleeps
    until killed: it outlives the capture;
  - writes DIR/out/truth.json: its own pid, "(deleted)" maps and children's pids,
    and the time from just before the first fork to just after its wait,
    sleeps 1.5 s (the capture tells a removal before the exit by its
    directory's change, a second or more before it) and exits without
    unmapping, as a JVM does. With "stay", it waits for a second line
    instead of sleeping (a capture with --duration ends while it runs).
"""
import json
import mmap
import os
import sys
import time

from deleted_maps import deleted_mappings

directory = sys.argv[1]
# What the program writes goes to DIR/out: a file made in DIR after the removal would move DIR's change time past it.
os.makedirs(os.path.join(directory, "out"), exist_ok=True)


def map_file(name):
    fd = os.open(os.path.join(directory, name), os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"x" * 8192)
    kept = mmap.mmap(fd, 8192)
    os.close(fd)
    return kept


def write_maps(name):
    with open(os.path.join(directory, "out", name), "w") as out:
        json.dump(deleted_mappings(), out)


held = map_file("held")
print("ready", flush=True)
sys.stdin.readline()

leaky = map_file("leaky")
os.unlink(os.path.join(directory, "leaky"))
time.sleep(1)

before = time.monotonic()
exec_child = os.fork()
if exec_child == 0:
    write_maps("exec-child.json")
    os.execv("/bin/true", ["/bin/true"])
os.waitpid(exec_child, 0)
window = time.monotonic() - before

short_child = os.fork()
if short_child == 0:
    write_maps("short-child.json")
    time.sleep(0.3)
    os._exit(0)
os.waitpid(short_child, 0)

parent_gone_r, parent_gone_w = os.pipe()
long_child = os.fork()
if long_child == 0:
    os.close(parent_gone_w)
    os.read(parent_gone_r, 1)
    write_maps("long-child.json")
    while True:
        time.sleep(60)
os.close(parent_gone_r)

with open(os.path.join(directory, "out", "truth.json"), "w") as out:
    json.dump(
        {
            "pid": os.getpid(),
            "deleted": deleted_mappings(),
            "execChild": exec_child,
            "shortChild": short_child,
            "longChild": long_child,
            "execWindowSeconds": window,
        },
        out,
    )
if sys.argv[2:] == ["stay"]:
    sys.stdin.readline()
else:
    time.sleep(1.5)
os._exit(0)

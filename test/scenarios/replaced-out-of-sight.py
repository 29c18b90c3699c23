# A server whose workers map a table, as Postfix's cleanup maps virtual.cdb,
# while a process outside the capture (the test) renames a new table over
# it, as postmap does. Driven by marker files in WORK:
#   go        (the test, once the capture has attached): fork the workers
#   mapped    (written here): worker "let-go" mapped table.cdb and unmapped
#             it again; then "held" and "unmaps" map it and keep it
#   replaced  (the test, after renaming table.new over table.cdb): each of
#             "held" and "unmaps" records what its /proc/self/maps shows
#             deleted; "held" exits holding it; then (held-gone, written
#             here) "unmaps" unmaps it and closes the fd Python's mmap keeps,
#             as Dovecot or journalctl do once they see the file changed,
#             and exits; then a reader
#             opens table.cdb (the new file) and maps it, and the server
#             writes its record to WORK/truth.json and exits.
import json, mmap, os, sys, time

work = sys.argv[1]
table = os.path.join(work, "table.cdb")


def wait_for(name):
    while not os.path.exists(os.path.join(work, name)):
        time.sleep(0.01)


def mapped_table():
    fd = os.open(table, os.O_RDONLY)
    held = mmap.mmap(fd, 8192, prot=mmap.PROT_READ)
    os.close(fd)
    return held


def worker(unmaps_once):
    """A worker that maps the table, says so on its pipe, and once it is replaced sends what /proc shows deleted;
    then, given a marker's name, unmaps it once that marker is there."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        kept = mapped_table()
        os.write(write_end, b"m")
        wait_for("replaced")
        with open("/proc/self/maps") as maps:
            deleted = [line.split()[0] for line in maps if line.rstrip().endswith(table + " (deleted)")]
        os.write(write_end, (" ".join(deleted) + "\n").encode())
        if unmaps_once is not None:
            wait_for(unmaps_once)
            kept.close()
        os._exit(0)
    os.close(write_end)
    assert os.read(read_end, 1) == b"m"
    return pid, read_end


def record_of(pid, read_end):
    record = b""
    while not record.endswith(b"\n"):
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        record += chunk
    os.waitpid(pid, 0)
    return record.decode().split()


wait_for("go")
let_go = os.fork()
if let_go == 0:
    mapped_table().close()
    os._exit(0)
os.waitpid(let_go, 0)
held, held_r = worker(None)
unmaps, unmaps_r = worker("held-gone")
open(os.path.join(work, "mapped"), "w").close()
deleted = {"held": record_of(held, held_r)}
# "held" has exited: "unmaps" lets go of the table only now, so that no mapping of it is live then.
open(os.path.join(work, "held-gone"), "w").close()
deleted["unmaps"] = record_of(unmaps, unmaps_r)
reader = os.fork()
if reader == 0:
    mapped_table().close()
    os._exit(0)
os.waitpid(reader, 0)
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "held": held, "unmaps": unmaps, "letGo": let_go, "reader": reader, "deleted": deleted}, out)

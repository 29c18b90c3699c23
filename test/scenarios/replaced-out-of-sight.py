# A server whose workers map a table, as Postfix's cleanup maps virtual.cdb,
# while a process outside the capture (the test) renames a new table over
# it, as postmap does. Driven by marker files in WORK:
#   go        (the test, once the capture has attached): fork the workers
#   mapped    (written here): worker "held" maps table.cdb and keeps it;
#             worker "let-go" mapped it and unmapped it again
#   replaced  (the test, after renaming table.new over table.cdb): "held"
#             records what its /proc/self/maps shows deleted, and exits
#             holding the mapping; then a reader opens table.cdb (the new
#             file) and maps it, and the server writes its record to
#             WORK/truth.json and exits.
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


wait_for("go")
let_go = os.fork()
if let_go == 0:
    mapped_table().close()
    os._exit(0)
os.waitpid(let_go, 0)
held_r, held_w = os.pipe()
held = os.fork()
if held == 0:
    kept = mapped_table()
    os.write(held_w, b"m")
    wait_for("replaced")
    with open("/proc/self/maps") as maps:
        deleted = [line.split()[0] for line in maps if line.rstrip().endswith(table + " (deleted)")]
    os.write(held_w, (" ".join(deleted) + "\n").encode())
    os._exit(0)
os.close(held_w)
assert os.read(held_r, 1) == b"m"
open(os.path.join(work, "mapped"), "w").close()
record = b""
while not record.endswith(b"\n"):
    chunk = os.read(held_r, 4096)
    if not chunk:
        break
    record += chunk
os.waitpid(held, 0)
reader = os.fork()
if reader == 0:
    mapped_table().close()
    os._exit(0)
os.waitpid(reader, 0)
with open(os.path.join(work, "truth.json"), "w") as out:
    json.dump({"pid": os.getpid(), "held": held, "letGo": let_go, "reader": reader, "deleted": record.decode().split()}, out)

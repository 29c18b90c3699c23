"""SQLite in WAL mode, through python3's sqlite3 module (the real library),
closing three databases three ways, and writing what its own /proc/self/maps
showed of each DB-shm as its record (argv[1], JSON):

  closed   the connection closes as usual: SQLite unlinks DB-shm, unmaps it
           (two 32 KiB regions here), and deletes DB-wal.
  cleaned  another process (rm) removes DB-shm while the connection is open:
           the mapping stays, "(deleted)", until the connection closes.
  deleted  this program removes DB-shm itself while the connection is open:
           the same, but by the mapping's own process.

USAGE: python3 sqlite-wal-close.py RECORD.json WORKDIR
"""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deleted_maps import deleted_mappings  # noqa: E402

record_path, workdir = sys.argv[1], sys.argv[2]


def shm_mappings(shm):
    """The lines of /proc/self/maps that map this DB-shm, by its name or as deleted."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.rstrip("\n").split(None, 5)
            if len(fields) < 6 or fields[5] not in (shm, shm + " (deleted)"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            found.append({"address": "0x%x" % start, "bytes": end - start, "deleted": fields[5].endswith(" (deleted)")})
    return found


def open_wal(name, pages):
    db = os.path.join(workdir, name)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA page_size=512").fetchone() is None
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    conn.execute("PRAGMA mmap_size=4194304")
    # No checkpoint while writing: every page stays a WAL frame, and the index grows past its first region (4062 frames).
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (v BLOB)")
    with conn:
        conn.executemany("INSERT INTO t (v) VALUES (?)", [(os.urandom(400),)] * pages)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (pages,)
    return conn, db + "-shm"


record = {"pid": os.getpid()}

conn, shm = open_wal("closed.db", 5000)
open_maps = shm_mappings(shm)
conn.close()
record["closed"] = {"shm": shm, "open": open_maps, "afterClose": shm_mappings(shm), "deletedAfterClose": [m for m in deleted_mappings() if m["path"] == shm]}

conn, shm = open_wal("cleaned.db", 100)
rm = subprocess.Popen(["rm", shm])
assert rm.wait() == 0
record["cleaned"] = {"shm": shm, "rmPid": rm.pid, "open": shm_mappings(shm)}
conn.close()
record["cleaned"]["afterClose"] = shm_mappings(shm)

conn, shm = open_wal("deleted.db", 100)
os.unlink(shm)
record["deleted"] = {"shm": shm, "open": shm_mappings(shm)}
conn.close()
record["deleted"]["afterClose"] = shm_mappings(shm)

with open(record_path, "w") as out:
    json.dump(record, out, indent=1)

"""A process whose main thread only waits for a worker, for
test/engine-review22-idle-leader.test.ts (review 22: the leader of a JVM or a
Go program makes no call orphanmap follows, so an attach trace named the
process by a worker's tid).

Usage: idle-leader.py DIR [worker-exits]

Prints "ready" once its worker runs, and waits for DIR/go (made by the
caller once strace has attached). The worker then makes 30,000 getppid
calls (lines nobody follows, enough for the line filter to skip them), maps
DIR/seg.dat (1 MiB, shared), unlinks it, writes its process's own
/proc/self/maps "(deleted)" lines and pid to DIR/truth.json as {"pid",
"deleted": [...]}, and unmaps it. The main thread only joins the worker,
then leaves by os._exit; with worker-exits, the worker leaves by os._exit
instead, the main thread still waiting (a JVM's leader waits in
pthread_join while another thread calls exit_group: review 50, item 6).
"""
import json
import os
import sys
import threading
import time

from deleted_maps import deleted_mappings, map_and_unlink

work = sys.argv[1]


def worker():
    print("ready", flush=True)
    while not os.path.exists(os.path.join(work, "go")):
        time.sleep(0.01)
    for _ in range(30000):
        os.getppid()
    kept = map_and_unlink(os.path.join(work, "seg.dat"), 1 << 20)
    with open(os.path.join(work, "truth.json"), "w") as out:
        json.dump({"pid": os.getpid(), "deleted": deleted_mappings()}, out)
    kept.close()
    if len(sys.argv) > 2 and sys.argv[2] == "worker-exits":
        os._exit(0)


thread = threading.Thread(target=worker)
thread.start()
thread.join()
os._exit(0)

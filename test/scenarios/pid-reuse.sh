#!/bin/sh
# A tid used twice in one strace -ff capture (review 33 exactness, 5). For
# test/strace-review33-ff-pid-reuse.test.ts. Run as root in a pid namespace
# of its own (unshare -p -f --mount-proc), where ns_last_pid picks the next pid.
# USAGE: pid-reuse.sh DIR PYTHON
#   A maps DIR/f; this shell removes f while A maps it (a leak in A: A writes
#   its own "(deleted)" maps lines to DIR/A.json and exits); then B, given
#   A's pid again, reads DIR/g and exits (clean).
set -e
D=$1
head -c 8192 /dev/zero > "$D/f"
head -c 8192 /dev/zero > "$D/g"
"$2" -c '
import json, mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
kept = mmap.mmap(fd, 8192, prot=mmap.PROT_READ)
os.close(fd)
print(os.getpid(), flush=True)
while os.path.exists(sys.argv[1]):
    time.sleep(0.01)
with open("/proc/self/maps") as maps:
    deleted = [line.split()[0] + " " + line.split(None, 5)[5].rstrip("\n") for line in maps if line.rstrip("\n").endswith(" (deleted)")]
with open(sys.argv[2], "w") as out:
    json.dump({"pid": os.getpid(), "deleted": deleted}, out)
' "$D/f" "$D/A.json" > "$D/A.pid" &
while [ ! -s "$D/A.pid" ]; do sleep 0.01; done
rm "$D/f"
wait
A=$(cat "$D/A.pid")
echo $((A - 1)) > /proc/sys/kernel/ns_last_pid
sh -c 'echo $$ > "$1/B.pid"; exec cat "$1/g" > /dev/null' sh "$D"

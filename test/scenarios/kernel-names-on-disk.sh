#!/bin/bash
# kernel-names-on-disk.sh - files on a real disk that /proc prints as the
# kernel's own objects, for test/scan-review22-kernel-names.test.ts (review 22, F2).
#
# USAGE  kernel-names-on-disk.sh DIR [tmpfs]   (as root; DIR on a block device)
#
# With "tmpfs", DIR is first made a tmpfs of its own (review 23: tmpfs is
# major 0 too, as the kernel's internal mounts are).
# In a mount namespace of its own, makes DIR its root (pivot_root), so that
# /proc/PID/maps, read from outside, prints its files' paths from DIR: a
# python3 there creates /memfd:cache, /SYSV00001234 and /dev/zero, 1 MiB
# each, maps them shared and unlinks them, prints its pid and waits for its
# stdin to close. /proc shows three "(deleted)" mappings named as a memfd, a
# SysV segment and /dev/zero, on DIR's device.
set -euo pipefail
root=$1
mkdir -p "$root"
exec unshare -m --propagation private bash -c '
root=$1
if [ "$2" = tmpfs ]; then mount -t tmpfs -o size=16m om-tmpfs "$root"; else mount --bind "$root" "$root"; fi
mkdir -p "$root/old" "$root/dev"
for d in usr lib lib64 etc bin; do
  [ -e "/$d" ] || continue
  if [ -L "/$d" ]; then ln -sfn "$(readlink "/$d")" "$root/$d"; else mkdir -p "$root/$d"; mount --rbind "/$d" "$root/$d"; fi
done
cd "$root"
pivot_root . old
cd /
exec /usr/bin/python3 -c "
import mmap, os, sys
kept = []
for name in [\"/memfd:cache\", \"/SYSV00001234\", \"/dev/zero\"]:
    fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 1 << 20)
    kept.append(mmap.mmap(fd, 1 << 20))
    os.close(fd)
    os.unlink(name)
print(os.getpid(), flush=True)
sys.stdin.read()
"' kernel-names "$root" "${2:-}"

#!/bin/bash
# What a strace capture costs around its trace, build against build: runs of
# `orphanmap capture --out DIR -- /bin/true` (the script's checks, the bundle's
# files, meta.json written at the start and the end, the lookups at the end),
# alternating between the builds so that a busier moment falls on all of them;
# the medians of wall and CPU time (user + system of the whole tree, GNU time).
# Every capture pays this, whatever it traces (bench/results.md, step 25).
#
# USAGE (root, strace installed)
#   bench/capture-cost.sh RUNS ROOT...     ROOT: a directory with dist/ and scripts/
#   bench/capture-cost.sh 9 /tmp/before /work/main
# OUTPUT (one line per ROOT)
#   /work/main capture: wall 1.20 cpu 0.95
# REQUIREMENTS: GNU time (/usr/bin/time), bc, strace.
set -euo pipefail
RUNS=$1; shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A wall cpu
for _ in $(seq "$RUNS"); do
  for root in "$@"; do
    rm -rf "$work/bundle"
    /usr/bin/time -f '%e %U %S' -o "$work/time" node "$root/dist/cli.js" capture --out "$work/bundle" -- /bin/true > /dev/null 2>&1
    read -r elapsed user system < "$work/time"
    wall[$root]+="$elapsed "
    cpu[$root]+="$(echo "$user + $system" | bc) "
  done
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
for root in "$@"; do
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  printf '%s capture: wall %.2f cpu %.2f\n' "$root" "$(med ${wall[$root]})" "$(med ${cpu[$root]})"
done

#!/bin/bash
# One build, one trace, read by one thread and by two (ORPHANMAP_READ_THREAD=never|always), in
# turn: the median wall and CPU time (user + system) and peak RSS of the CLI
# (`analyze FILE --format json --out F`, start and report included) over N runs, against a bare
# split2 line count of the same file; and whether the two reports are byte for byte the same.
#
# USAGE
#   bench/read-thread.sh TRACE RUNS [ROOT]     ROOT: a directory with dist/ (default: this repository)
#   bench/read-thread.sh /tmp/t/u100.txt 5
# OUTPUT
#   split2: wall 0.88 cpu 0.97
#   never:  wall 2.04 (0.431 of split2) cpu 2.71 (0.358) rss 87 MiB
#   always: wall 1.40 (0.629 of split2) cpu 2.80 (0.346) rss 108 MiB
#   reports identical
# REQUIREMENTS: GNU time (/usr/bin/time), jq, bc. Measure on a machine with nothing else running:
# the second thread needs the second core.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TRACE=$1; RUNS=$2; ROOT=${3:-$HERE/..}
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
times=$(mktemp); out=$(mktemp -d)
trap 'rm -rf "$times" "$out"' EXIT
declare -A wall cpu rss
sw=(); sc=()
for _ in $(seq "$RUNS"); do
  o=$(node "$HERE/measure.mjs" split2 "$TRACE"); sw+=("$(jq .seconds <<<"$o")"); sc+=("$(jq .cpuSeconds <<<"$o")")
  for mode in never always; do
    start=$(date +%s.%N)
    ORPHANMAP_READ_THREAD=$mode /usr/bin/time -f '%M %U %S' -o "$times" node "$ROOT/dist/cli.js" analyze "$TRACE" --format json --out "$out/$mode.json"
    wall[$mode]+="$(echo "$(date +%s.%N) - $start" | bc) "
    read -r kb user system < "$times"
    cpu[$mode]+="$(echo "$user + $system" | bc) "; rss[$mode]+="$((kb / 1024)) "
  done
done
SW=$(med "${sw[@]}"); SC=$(med "${sc[@]}")
printf 'split2: wall %.2f cpu %.2f\n' "$SW" "$SC"
for mode in never always; do
  # shellcheck disable=SC2086
  W=$(med ${wall[$mode]}); C=$(med ${cpu[$mode]}); R=$(med ${rss[$mode]})
  printf '%-7s wall %.2f (%.3f of split2) cpu %.2f (%.3f) rss %s MiB\n' "$mode:" "$W" "$(echo "$SW/$W" | bc -l)" "$C" "$(echo "$SC/$C" | bc -l)" "$R"
done
if cmp -s "$out/never.json" "$out/always.json"; then echo 'reports identical'; else echo 'REPORTS DIFFER'; exit 1; fi
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

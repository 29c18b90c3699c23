#!/bin/bash
# Two builds, or more, on one trace, in turn: the medians of N runs of a bare split2 line
# count, analyze() in-process and the CLI (`analyze FILE --format json --out F`), in wall
# and in CPU time (user + system), with peak RSS. For before/after figures on a shared
# machine, where CPU time is the steadier one (bench/results.md, "Steps").
#
# USAGE
#   bench/compare.sh TRACE RUNS ROOT...     ROOT: a directory with dist/ (and package.json)
#   bench/compare.sh /tmp/t/f20.txt 3 /tmp/before /work/main
# OUTPUT (one line per ROOT)
#   /work/main: wall: split2 0.14 analyze 2.69 (0.051) cli 3.57 (0.038) | cpu: split2 0.27 analyze 2.77 (0.097) …
# REQUIREMENTS: GNU time (/usr/bin/time), jq, bc.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TRACE=$1; RUNS=$2; shift 2
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
report=$(mktemp --suffix .json); times=$(mktemp)
trap 'rm -f "$report" "$times"' EXIT
for ROOT in "$@"; do
  s=(); sc=(); a=(); ac=(); ar=(); c=(); cc=(); r=()
  for _ in $(seq "$RUNS"); do
    o=$(node "$HERE/measure.mjs" split2 "$TRACE"); s+=("$(jq .seconds <<<"$o")"); sc+=("$(jq .cpuSeconds <<<"$o")")
    o=$(ORPHANMAP_DIST="$ROOT/dist" node "$HERE/measure.mjs" analyze "$TRACE")
    a+=("$(jq .seconds <<<"$o")"); ac+=("$(jq .cpuSeconds <<<"$o")"); ar+=("$(jq '.maxRssMiB | floor' <<<"$o")")
    start=$(date +%s.%N)
    /usr/bin/time -f '%M %U %S' -o "$times" node "$ROOT/dist/cli.js" analyze "$TRACE" --format json --out "$report"
    c+=("$(echo "$(date +%s.%N) - $start" | bc)")
    read -r kb user system < "$times"; r+=($((kb / 1024))); cc+=("$(echo "$user + $system" | bc)")
  done
  S=$(med "${s[@]}"); SC=$(med "${sc[@]}"); A=$(med "${a[@]}"); AC=$(med "${ac[@]}"); C=$(med "${c[@]}"); CC=$(med "${cc[@]}")
  printf '%s: wall: split2 %.2f analyze %.2f (%.3f) cli %.2f (%.3f) | cpu: split2 %.2f analyze %.2f (%.3f) cli %.2f (%.3f) | peak RSS MiB analyze %s cli %s | load %s\n' \
    "$ROOT" "$S" "$A" "$(echo "$S/$A" | bc -l)" "$C" "$(echo "$S/$C" | bc -l)" "$SC" "$AC" "$(echo "$SC/$AC" | bc -l)" "$CC" "$(echo "$SC/$CC" | bc -l)" "${ar[*]}" "${r[*]}" "$(cut -d' ' -f1 /proc/loadavg)"
done

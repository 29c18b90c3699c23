#!/bin/bash
# What a bpftrace capture costs before and after its trace: bpftrace runs the
# script on a command that does nothing (/bin/true), and this times its header
# line (BEGIN runs once the programs are analysed, compiled and loaded: the
# start a user waits for) and its exit (the probes taken off: the end every
# capture waits for). Runs alternate between the scripts, so that a busier
# moment falls on all of them; medians of both (bench/results.md, step 23).
#
# USAGE (root)
#   bench/bpftrace-start.sh RUNS SCRIPT...
#   git show 861af6c:scripts/orphanmap.bt > /tmp/before.bt
#   bench/bpftrace-start.sh 5 /tmp/before.bt scripts/orphanmap.bt
# OUTPUT (one line per SCRIPT)
#   scripts/orphanmap.bt: start 4.07 s, end 4.52 s after it (medians of 5)
# REQUIREMENTS: bpftrace, tracefs mounted, root.
set -euo pipefail
RUNS=$1; shift
declare -A start stop
for _ in $(seq "$RUNS"); do
  for script in "$@"; do
    began=$(date +%s%N)
    header=''
    while IFS= read -r line; do
      [[ -z $header && $line == *' orphanmap-bt '* ]] && header=$(date +%s%N)
    done < <(BPFTRACE_STRLEN=200 bpftrace -c /bin/true "$script" 0 2>/dev/null)
    ended=$(date +%s%N)
    [[ -n $header ]] || { echo "bpftrace printed no header line for $script" >&2; exit 1; }
    start[$script]+="$(((header - began) / 1000000)) "
    stop[$script]+="$(((ended - header) / 1000000)) "
  done
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "%.2f", v[int((NR+1)/2)] / 1000}'; }
for script in "$@"; do
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  printf '%s: start %s s, end %s s after it (medians of %s)\n' "$script" "$(med ${start[$script]})" "$(med ${stop[$script]})" "$RUNS"
done

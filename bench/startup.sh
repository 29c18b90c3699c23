#!/bin/bash
# The CLI's fixed cost, build against build: runs of `analyze` on a five-line
# trace, `--version` and `analyze --help`, alternating between the builds so
# that a busier moment falls on all of them; the medians of wall and CPU time
# (user + system, GNU time). What every run pays before its input's size
# matters (bench/results.md, step 22).
#
# USAGE
#   bench/startup.sh RUNS ROOT...     ROOT: a directory with dist/ (and package.json)
#   bench/startup.sh 15 /tmp/before /work/main
# OUTPUT (one line per ROOT and command)
#   /work/main analyze: wall 0.22 cpu 0.24
# REQUIREMENTS: GNU time (/usr/bin/time), bc.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=$1; shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -5 "$HERE/../traces/f-o-ttt-T-y/trace.txt" > "$work/five-lines.txt"
declare -A wall cpu
for _ in $(seq "$RUNS"); do
  for root in "$@"; do
    for command in analyze version help; do
      case $command in
        analyze) args=(analyze "$work/five-lines.txt" --format json --out "$work/report.json") ;;
        version) args=(--version) ;;
        help) args=(analyze --help) ;;
      esac
      /usr/bin/time -f '%e %U %S' -o "$work/time" node "$root/dist/cli.js" "${args[@]}" > /dev/null
      read -r elapsed user system < "$work/time"
      wall[$root.$command]+="$elapsed "
      cpu[$root.$command]+="$(echo "$user + $system" | bc) "
    done
  done
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
for root in "$@"; do
  for command in analyze version help; do
    # shellcheck disable=SC2086 # the lists are space-separated numbers
    printf '%s %s: wall %.2f cpu %.2f\n' "$root" "$command" "$(med ${wall[$root.$command]})" "$(med ${cpu[$root.$command]})"
  done
done

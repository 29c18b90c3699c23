#!/usr/bin/env bash
# capture-traces.sh: record IndexLifecycle.java under real strace, one directory
# of traces/ per flag set, each with the ground truth the JVM printed itself.
#
# USAGE
#   bash scripts/repro/capture-traces.sh            # regenerate every trace
#   bash scripts/repro/capture-traces.sh NAME...    # regenerate only these
#   bash scripts/repro/capture-traces.sh --list     # print the names
#
#   Environment: THREADS (2), SEGMENTS (2) size the workload; OUT_ROOT (traces/)
#   and WORK_ROOT (/tmp/orphanmap-repro) move the output and the index files.
#
# EXAMPLE OUTPUT
#   f-o-ttt-T-y  traces/f-o-ttt-T-y       trace.txt         116K  ground truth: 8 deleted index mappings
#   ff-ttt       traces/ff-ttt            trace.<tid> x21   148K  ground truth: 8 deleted index mappings
#   fixed        traces/fixed             trace.txt         112K  ground truth: 0 deleted index mappings
#   wrote 9 trace(s) under /work/main/traces (total 1.4M)
#
# FIELDS (each traces/NAME/)
#   trace.txt | trace.<tid>  what strace wrote (for f-stderr-tt: its stderr,
#                            which also carries the JVM's own stderr)
#   stdout.txt               the reproducer's stdout: pid=, parameters, ground truth
#   ground-truth.txt         the "(deleted)" lines of /proc/self/maps, printed by the
#                            JVM just before exit, without the marker lines
#   stderr.txt               the JVM's stderr, only when it wrote something
#   COMMAND                  the command line (run from inside traces/NAME/), the
#                            workload, and the strace/JDK/kernel versions
#
# OVERHEAD: well under a second per trace on 2 cores (about 4 s for all nine);
#   filtered traces are about 100 KB each, the unfiltered one about 0.5 MB.
#
# REQUIREMENTS: Linux, strace (written against 6.1), JDK 17+ (java and javac on
#   PATH), ptrace allowed on children (the default).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
OUT_ROOT=${OUT_ROOT:-$repo/traces}
WORK_ROOT=${WORK_ROOT:-/tmp/orphanmap-repro}
THREADS=${THREADS:-2}
SEGMENTS=${SEGMENTS:-2}

# Everything orphanmap needs to follow fds, mappings, names and processes
# (docs/trace-formats.md, "Recommended capture"); chdir/fchdir so relative paths can be resolved.
FILTER=open,openat,openat2,creat,close,close_range,dup,dup2,dup3,fcntl,mmap,munmap,mremap,madvise,ftruncate,truncate,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,chdir,fchdir,clone,clone3,fork,vfork,execve,execveat,exit,exit_group

NAMES=(f-o-ttt-T-y f-stderr-tt ff-ttt f-o-tt-yy-Y seccomp unfiltered fixed gc relative-r)

# name -> "strace flags|reproducer flags". The trace goes to trace.txt (or
# trace.<tid>) in traces/NAME/, which is strace's working directory.
spec() {
  case "$1" in
    f-o-ttt-T-y) echo "-f -o trace.txt -ttt -T -y -e trace=$FILTER|--mode leaky" ;;
    f-stderr-tt) echo "-f -tt -e trace=$FILTER|--mode leaky" ;;
    ff-ttt)      echo "-ff -ttt -o trace -e trace=$FILTER|--mode leaky" ;;
    f-o-tt-yy-Y) echo "-f -o trace.txt -tt -yy -Y -e trace=$FILTER|--mode leaky" ;;
    seccomp)     echo "--seccomp-bpf -f -o trace.txt -ttt -T -y -e trace=$FILTER|--mode leaky" ;;
    unfiltered)  echo "-f -o trace.txt -ttt|--mode leaky" ;;
    fixed)       echo "-f -o trace.txt -ttt -T -y -e trace=$FILTER|--mode fixed" ;;
    gc)          echo "-f -o trace.txt -ttt -T -y -e trace=$FILTER|--mode leaky --gc" ;;
    relative-r)  echo "-f -o trace.txt -r -e trace=$FILTER|--mode leaky" ;;
    *) return 1 ;;
  esac
}

die() { echo "capture-traces: $*" >&2; exit 2; }

# Shell-quote only the words that need it, so COMMAND stays readable and pasteable.
quote_words() {
  local w sep=''
  for w in "$@"; do
    if [[ $w =~ ^[A-Za-z0-9_./=,:+%@-]+$ ]]; then printf '%s%s' "$sep" "$w"; else printf '%s%q' "$sep" "$w"; fi
    sep=' '
  done
}

if [[ ${1:-} == --list ]]; then printf '%s\n' "${NAMES[@]}"; exit 0; fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; fi
selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=("${NAMES[@]}")
for n in "${selected[@]}"; do spec "$n" >/dev/null || die "unknown trace name '$n' (try --list)"; done

command -v strace >/dev/null || die "strace not found"
command -v java >/dev/null || die "java not found"
command -v javac >/dev/null || die "javac not found"

# Compile once: the source launcher would run javac inside the traced JVM and
# bury the workload under the compiler's own opens and mmaps.
classes=$WORK_ROOT/classes
rm -rf "$classes"
mkdir -p "$classes"
javac -d "$classes" "$here/IndexLifecycle.java"

strace_version=$(strace -V | head -n1)
java_version=$(java -version 2>&1 | head -n1)
kernel=$(uname -srm)

capture() {
  local name=$1 s strace_flags repro_flags out work
  s=$(spec "$name")
  strace_flags=${s%%|*}
  repro_flags=${s#*|}
  out=$OUT_ROOT/$name
  work=$WORK_ROOT/$name
  rm -rf "$out" "$work"
  mkdir -p "$out"

  # Word splitting is wanted here: the flag strings hold no spaces inside a flag.
  # shellcheck disable=SC2206
  local cmd=(strace $strace_flags java -cp "$classes" IndexLifecycle $repro_flags
             --threads "$THREADS" --segments "$SEGMENTS" --dir "$work")

  if [[ $name == f-stderr-tt ]]; then
    (cd "$out" && "${cmd[@]}" >stdout.txt 2>trace.txt)
  else
    (cd "$out" && "${cmd[@]}" >stdout.txt 2>stderr.txt)
    [[ -s $out/stderr.txt ]] || rm -f "$out/stderr.txt"
  fi
  rm -rf "$work"

  sed -n '/^--- orphanmap ground truth: /,/^--- end ground truth ---$/p' "$out/stdout.txt" |
    sed '1d;$d' >"$out/ground-truth.txt"
  grep -q '^--- end ground truth ---$' "$out/stdout.txt" || die "$name: no ground truth in stdout.txt"

  {
    echo "# Written by scripts/repro/capture-traces.sh; run from inside traces/$name/."
    echo "command: $(quote_words "${cmd[@]}")"
    echo "workload: $repro_flags --threads $THREADS --segments $SEGMENTS --rounds 1"
    echo "pid: $(sed -n 's/^pid=//p' "$out/stdout.txt")"
    echo "strace: $strace_version"
    echo "java: $java_version"
    echo "kernel: $kernel"
    echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$out/COMMAND"

  local leaked expected=$((THREADS * SEGMENTS * 2))
  leaked=$(grep -c 'index\.deleted (deleted)$' "$out/ground-truth.txt" || true)
  case "$repro_flags" in
    *fixed* | *--gc*) expected=0 ;;
  esac
  [[ $leaked -eq $expected ]] ||
    die "$name: ground truth lists $leaked deleted index mappings, expected $expected"

  local files size n
  n=$(cd "$out" && ls -d trace* | wc -l)
  if ((n == 1)); then files=trace.txt; else files="trace.<tid> x$n"; fi
  size=$(du -sh "$out" | cut -f1)
  printf '%-12s %-24s %-16s %5s  ground truth: %d deleted index mappings\n' \
    "$name" "${out#"$repo"/}" "$files" "$size" "$leaked"
}

for n in "${selected[@]}"; do capture "$n"; done
echo "wrote ${#selected[@]} trace(s) under $OUT_ROOT (total $(du -sh "$OUT_ROOT" | cut -f1))"

# shellcheck shell=bash
# bundle-lib.sh — shared functions for orphanmap's capture scripts.
#
# Sourced (never run) by capture-strace.sh and capture-bpftrace.sh. Plain bash
# (>= 4.4), coreutils, sed and awk: brokers often have no python3 and no jq.
#
# A capture BUNDLE is a directory:
#   meta.json       orphanmap/bundle@1 metadata, written at start (endTime null)
#                   and rewritten at the end, always via rename, so a crash at any
#                   moment leaves a complete, parseable file
#   trace.txt       the raw trace
#   maps-start.txt  /proc/PID/maps once the tracer is attached
#   fds-start.txt   "FD<TAB>TARGET" per open fd once the tracer is attached
#   maps-end.txt    /proc/PID/maps at the end, if the process still lives
#   tracer.stderr   the tracer's stderr
#
# The capture script sets the OM_* variables below and calls the om_* functions.

OM_SCHEMA='orphanmap/bundle@1'
OM_BACKEND=''
OM_PID=''
OM_COMM=''
OM_CMDLINE=()
OM_THREADS_JSON='[]'
OM_TRACER_VERSION=''
OM_JVM_VERSION=''
OM_MAP_COUNT_START=''
OM_MAP_COUNT_END=''
OM_START_TIME=''
OM_END_TIME=''
OM_COMMAND=''
OM_LOST_EVENTS=''
OM_TRUNCATED_EVENTS=''
OM_EXIT_REASON=''

om_log() { printf '%s: %s\n' "${OM_PROG:-orphanmap}" "$*" >&2; }
om_die() { om_log "error: $*"; exit "${OM_DIE_STATUS:-1}"; }

# om_json_str STRING -> prints STRING as a JSON string literal, quotes included.
# Escapes backslash, double quote and every control character (U+0000..U+001F);
# bytes that are not valid UTF-8 are dropped (iconv -c) so the file stays valid JSON.
om_json_str() {
  local s=$1 i c
  if [[ $s == *[![:print:]]* ]] && command -v iconv >/dev/null 2>&1; then
    s=$(printf '%s' "$s" | iconv -f UTF-8 -t UTF-8 -c 2>/dev/null; printf x) && s=${s%x}
  fi
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    for ((i = 1; i < 32; i++)); do
      printf -v c "\\x$(printf '%02x' "$i")"
      s=${s//"$c"/$(printf '\\u%04x' "$i")}
    done
  fi
  printf '"%s"' "$s"
}

# om_json_str_or_null STRING -> JSON string, or null when STRING is empty.
om_json_str_or_null() { if [[ -n $1 ]]; then om_json_str "$1"; else printf 'null'; fi; }

# om_json_num_or_null STRING -> the number, or null when STRING is not an integer.
om_json_num_or_null() { if [[ $1 =~ ^-?[0-9]+$ ]]; then printf '%s' "$1"; else printf 'null'; fi; }

# om_json_str_array ARG... -> ["ARG", ...]
om_json_str_array() {
  local sep='' a
  printf '['
  for a in "$@"; do printf '%s' "$sep"; om_json_str "$a"; sep=','; done
  printf ']'
}

# om_shell_quote ARG... -> one line a POSIX shell would split back into ARG...
om_shell_quote() {
  local out='' a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+="$a "
    else out+="'${a//\'/\'\\\'\'}' "; fi
  done
  printf '%s' "${out% }"
}

om_now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

# om_starttime PID -> field 22 of /proc/PID/stat (clock ticks since boot), which
# together with the pid names one process even after the pid is reused.
om_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }              # comm may contain spaces and parentheses
  set -- $stat                   # field 3 (state) is now $1, so starttime is $20
  printf '%s' "${20}"
}

# om_alive PID STARTTIME -> true while that very process exists and is not a zombie.
om_alive() {
  local st state
  st=$(om_starttime "$1") || return 1
  [[ $st == "$2" ]] || return 1
  # Any state letter: a traced process is often in "t (tracing stop)".
  state=$(sed -n 's/^State:[[:space:]]*\([[:alpha:]]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [[ -n $state && $state != Z && $state != X ]]
}

# om_tracer_pid PID -> the TracerPid line of /proc/PID/status (0: not traced).
om_tracer_pid() { sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }

# om_children PID -> the pids of PID's children, one per line.
om_children() {
  local f
  if compgen -G "/proc/$1/task/*/children" >/dev/null; then
    for f in /proc/"$1"/task/*/children; do tr ' ' '\n' < "$f" 2>/dev/null; done | sed '/^$/d'
  else
    for f in /proc/[0-9]*/stat; do
      awk -v want="$1" '{ sub(/^.*\) /, ""); if ($2 == want) { split(FILENAME, p, "/"); print p[3] } }' "$f" 2>/dev/null
    done
  fi
}

# om_descendants PID -> PID's descendants (not PID itself), parents before children.
om_descendants() {
  local c
  for c in $(om_children "$1"); do printf '%s\n' "$c"; om_descendants "$c"; done
}

# om_snapshot_maps PID FILE -> copies /proc/PID/maps; false if the process is gone.
om_snapshot_maps() {
  local tmp="$2.tmp"
  cat "/proc/$1/maps" > "$tmp" 2>/dev/null || { rm -f "$tmp"; return 1; }
  mv -f "$tmp" "$2"
}

# om_snapshot_fds PID FILE -> "FD<TAB>TARGET" per open fd of PID.
om_snapshot_fds() {
  local tmp="$2.tmp" fd target
  [[ -d /proc/$1/fd ]] || return 1
  : > "$tmp"
  for fd in /proc/"$1"/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    printf '%s\t%s\n' "${fd##*/}" "$target" >> "$tmp"
  done
  sort -n "$tmp" > "$2" && rm -f "$tmp"
}

# om_count_lines FILE -> number of lines, or nothing when FILE is missing.
om_count_lines() { [[ -f $1 ]] && wc -l < "$1" | tr -d ' '; }

# om_threads_json PID -> [{"tid":N,"tgid":PID,"comm":"…"}, …] from /proc/PID/task/*/comm.
om_threads_json() {
  local sep='' task tid comm
  printf '['
  for task in /proc/"$1"/task/[0-9]*; do
    tid=${task##*/}
    comm=$(cat "$task/comm" 2>/dev/null) || continue
    printf '%s{"tid":%s,"tgid":%s,"comm":%s}' "$sep" "$tid" "$1" "$(om_json_str "$comm")"
    sep=','
  done
  printf ']'
}

# om_jvm_version PID -> JAVA_VERSION from the release file of the JDK whose
# bin/java the process runs; nothing when it is not a JVM. Reads files only:
# running `java -version` or attaching to the JVM would perturb the target.
om_jvm_version() {
  local exe home v
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 0
  [[ ${exe##*/} == java ]] || return 0
  home=${exe%/bin/java}
  [[ -f $home/release ]] || home=${home%/jre}
  v=$(sed -n 's/^JAVA_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$home/release" 2>/dev/null | head -n 1)
  if [[ -n $v ]]; then printf '%s' "$v"; else printf 'unknown (%s)' "$exe"; fi
}

# om_read_process PID -> fills OM_COMM, OM_CMDLINE, OM_THREADS_JSON, OM_JVM_VERSION.
om_read_process() {
  local v args=()
  v=$(cat "/proc/$1/comm" 2>/dev/null) && OM_COMM=$v
  mapfile -t -d '' args < "/proc/$1/cmdline" 2>/dev/null && ((${#args[@]})) && OM_CMDLINE=("${args[@]}")
  v=$(om_threads_json "$1")
  [[ $v != '[]' ]] && OM_THREADS_JSON=$v
  v=$(om_jvm_version "$1")
  [[ -n $v ]] && OM_JVM_VERSION=$v
  return 0
}

om_hostname() { cat /proc/sys/kernel/hostname 2>/dev/null || hostname 2>/dev/null || true; }

# om_write_meta DIR -> writes DIR/meta.json from the OM_* variables, atomically.
om_write_meta() {
  local dir=$1 tmp="$1/.meta.json.tmp"
  {
    printf '{\n'
    printf '  "schema": %s,\n' "$(om_json_str "$OM_SCHEMA")"
    printf '  "backend": %s,\n' "$(om_json_str "$OM_BACKEND")"
    printf '  "pid": %s,\n' "$(om_json_num_or_null "$OM_PID")"
    # launched: the trace begins before the command's execve, so nothing predates it.
    printf '  "mode": %s,\n' "$(om_json_str "$( ((OM_CMD_MODE)) && echo launched || echo attached)")"
    printf '  "comm": %s,\n' "$(om_json_str "$OM_COMM")"
    printf '  "cmdline": %s,\n' "$(om_json_str_array "${OM_CMDLINE[@]}")"
    printf '  "threads": %s,\n' "$OM_THREADS_JSON"
    printf '  "kernel": %s,\n' "$(om_json_str "$(uname -r)")"
    printf '  "hostname": %s,\n' "$(om_json_str "$(om_hostname)")"
    printf '  "tracerVersion": %s,\n' "$(om_json_str "$OM_TRACER_VERSION")"
    printf '  "jvmVersion": %s,\n' "$(om_json_str_or_null "$OM_JVM_VERSION")"
    printf '  "maxMapCount": %s,\n' "$(om_json_num_or_null "$(cat /proc/sys/vm/max_map_count 2>/dev/null)")"
    printf '  "mapCountStart": %s,\n' "$(om_json_num_or_null "$OM_MAP_COUNT_START")"
    printf '  "mapCountEnd": %s,\n' "$(om_json_num_or_null "$OM_MAP_COUNT_END")"
    printf '  "startTime": %s,\n' "$(om_json_str_or_null "$OM_START_TIME")"
    printf '  "endTime": %s,\n' "$(om_json_str_or_null "$OM_END_TIME")"
    printf '  "command": %s,\n' "$(om_json_str "$OM_COMMAND")"
    printf '  "traceFiles": %s,\n' "$(om_json_str_array trace.txt)"
    printf '  "lostEvents": %s,\n' "$(om_json_num_or_null "$OM_LOST_EVENTS")"
    printf '  "truncatedEvents": %s,\n' "$(om_json_num_or_null "$OM_TRUNCATED_EVENTS")"
    printf '  "exitReason": %s\n' "$(om_json_str_or_null "$OM_EXIT_REASON")"
    printf '}\n'
  } > "$tmp" && mv -f "$tmp" "$dir/meta.json"
}

# om_parse_common_args ARG... -> sets OM_TARGET_PID, OM_OUT, OM_DURATION,
# OM_PARENT_PID and the array OM_CMD; exits 2 with a message on bad usage.
om_parse_common_args() {
  OM_TARGET_PID='' OM_OUT='' OM_DURATION='' OM_PARENT_PID='' OM_CMD=()
  OM_DIE_STATUS=2
  while (($#)); do
    case $1 in
      -p|--pid) (($# >= 2)) || om_die "$1 needs a PID"; OM_TARGET_PID=$2; shift 2 ;;
      -o|--out) (($# >= 2)) || om_die "$1 needs a directory"; OM_OUT=$2; shift 2 ;;
      -d|--duration) (($# >= 2)) || om_die "$1 needs seconds"; OM_DURATION=$2; shift 2 ;;
      --parent-pid) (($# >= 2)) || om_die "$1 needs a PID"; OM_PARENT_PID=$2; shift 2 ;;
      -h|--help) om_usage; exit 0 ;;
      --) shift; OM_CMD=("$@"); break ;;
      *) om_die "unknown argument '$1' (see --help)" ;;
    esac
  done
  [[ -n $OM_TARGET_PID || ${#OM_CMD[@]} -gt 0 ]] || om_die "give -p PID or -- CMD ARGS..."
  [[ -n $OM_TARGET_PID && ${#OM_CMD[@]} -gt 0 ]] && om_die "give -p PID or -- CMD, not both"
  [[ -z $OM_TARGET_PID || $OM_TARGET_PID =~ ^[1-9][0-9]*$ ]] || om_die "-p needs a numeric PID, got '$OM_TARGET_PID'"
  [[ -n $OM_OUT ]] || om_die "-o BUNDLE_DIR is required"
  [[ -z $OM_DURATION || $OM_DURATION =~ ^[0-9]+([.][0-9]+)?$ ]] || om_die "-d needs a number of seconds, got '$OM_DURATION'"
  [[ -z $OM_PARENT_PID || $OM_PARENT_PID =~ ^[1-9][0-9]*$ ]] || om_die "--parent-pid needs a numeric PID, got '$OM_PARENT_PID'"
  if [[ -n $OM_TARGET_PID && ! -d /proc/$OM_TARGET_PID ]]; then om_die "no process with pid $OM_TARGET_PID"; fi
  if [[ -n $OM_PARENT_PID && ! -d /proc/$OM_PARENT_PID ]]; then om_die "--parent-pid $OM_PARENT_PID is not running"; fi
  OM_DIE_STATUS=1
  return 0
}

# om_prepare_bundle -> creates OM_OUT (must be empty or new), makes it absolute.
om_prepare_bundle() {
  mkdir -p -- "$OM_OUT" || om_die "cannot create bundle directory $OM_OUT"
  OM_OUT=$(cd -- "$OM_OUT" && pwd) || om_die "cannot enter $OM_OUT"
  if [[ -e $OM_OUT/trace.txt || -e $OM_OUT/meta.json ]]; then
    OM_DIE_STATUS=2 om_die "$OM_OUT already holds a bundle; give an empty or new directory"
  fi
}

# om_deadline_reached START_EPOCH_NS SECONDS -> true once SECONDS have passed.
om_deadline_reached() {
  [[ -n $2 ]] || return 1
  local now elapsed_ms limit_ms
  now=$(date +%s%N)
  elapsed_ms=$(( (now - $1) / 1000000 ))
  limit_ms=$(awk -v s="$2" 'BEGIN { printf "%d", s * 1000 }')
  (( elapsed_ms >= limit_ms ))
}

# om_kill_tree PIDS_WITH_STARTTIMES SIGNAL -> signals each "pid:starttime" that is
# still that same process.
om_kill_tree() {
  local entry pid st
  for entry in $1; do
    pid=${entry%%:*} st=${entry##*:}
    om_alive "$pid" "$st" && kill "-$2" "$pid" 2>/dev/null
  done
  return 0
}

# om_tree_of PID -> "pid:starttime" for PID and its descendants, space separated.
om_tree_of() {
  local p st out=''
  for p in "$1" $(om_descendants "$1"); do
    st=$(om_starttime "$p") && out+="$p:$st "
  done
  printf '%s' "$out"
}

# ---------------------------------------------------------------------------
# Supervision, shared by both capture scripts. The script defines:
#   om_backend_check          requirements; sets OM_TRACER_VERSION
#   om_backend_argv           fills OM_TRACER_ARGV for OM_TARGET_PID or OM_CMD
#   om_backend_attached       true once the tracer has attached to OM_PID (-p)
#   om_backend_counts         sets OM_LOST_EVENTS and OM_TRUNCATED_EVENTS
#   om_backend_first_pid      the first pid in trace.txt (for a command too
#                             short-lived to be seen in /proc)
#   OM_TRACER_STDOUT          file the tracer's stdout goes to; empty: our stderr
# and then calls om_run_capture "$@".
#
# Stopping, in every case (duration, SIGINT/SIGTERM/SIGHUP, parent death):
#   -p PID  the tracer gets SIGINT, which makes strace detach (PTRACE_DETACH) and
#           bpftrace unload its probes; SIGTERM then SIGKILL follow if it hangs.
#           A SIGKILLed tracer is still safe here: the kernel detaches ptrace
#           tracees when their tracer exits.
#   -- CMD  the command and its descendants get SIGTERM (SIGKILL after a grace
#           period) before the tracer is stopped, because with --seccomp-bpf a
#           process left without its tracer has every traced syscall fail with
#           ENOSYS (the filter's SECCOMP_RET_TRACE outlives strace; strace >= 6.6
#           does the same, --kill-on-exit). The command never outlives the capture.
# A watchdog process, separate from this script, polls every 0.25 s: when the
# --parent-pid process (orphanmap) dies, even by SIGKILL, it asks this script to
# stop; when this script itself dies, the watchdog stops the tracer and finishes
# meta.json on its own.
# ---------------------------------------------------------------------------

OM_TRACER_ARGV=()
OM_TRACER_PID='' OM_TRACER_ST=''
OM_PID_ST=''
OM_STOP_REASON=''
OM_CMD_MODE=0

om_on_signal() { [[ -n $OM_STOP_REASON ]] || OM_STOP_REASON=$1; }

# om_wait_gone PID STARTTIME SECONDS -> true if the process ends within SECONDS.
om_wait_gone() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    om_alive "$1" "$2" || return 0
    sleep 0.1
  done
  ! om_alive "$1" "$2"
}

# om_stop_tracer -> ends the capture as described above. Callable from the
# script or from the watchdog.
om_stop_tracer() {
  local tree
  if ((OM_CMD_MODE)) && [[ -z $OM_PID ]]; then
    OM_PID=$(om_find_cmd_pid)
    [[ -n $OM_PID ]] && { OM_PID_ST=$(om_starttime "$OM_PID") || OM_PID_ST=gone; }
  fi
  if ((OM_CMD_MODE)) && [[ -n $OM_PID ]]; then
    if om_alive "$OM_PID" "$OM_PID_ST"; then
      om_snapshot_maps "$OM_PID" "$OM_OUT/maps-end.txt" || true
      tree=$(om_tree_of "$OM_PID")
      om_kill_tree "$tree" TERM
      om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 3 && return 0
      om_kill_tree "$tree" KILL
      om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 2 && return 0
    fi
  fi
  om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || return 0
  kill -INT "$OM_TRACER_PID" 2>/dev/null
  om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 5 && return 0
  om_log "tracer $OM_TRACER_PID ignored SIGINT; sending SIGTERM"
  kill -TERM "$OM_TRACER_PID" 2>/dev/null
  om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 2 && return 0
  om_log "tracer $OM_TRACER_PID ignored SIGTERM; sending SIGKILL (the kernel detaches its tracees)"
  kill -KILL "$OM_TRACER_PID" 2>/dev/null
  om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 2
}

# om_finish REASON -> end snapshot, counts, final meta.json.
om_finish() {
  OM_EXIT_REASON=$1
  if [[ -n $OM_PID ]] && om_alive "$OM_PID" "$OM_PID_ST"; then
    if ! ((OM_CMD_MODE)) || [[ ! -f $OM_OUT/maps-end.txt ]]; then
      om_snapshot_maps "$OM_PID" "$OM_OUT/maps-end.txt" || true
    fi
    [[ $OM_THREADS_JSON != '[]' ]] || om_read_process "$OM_PID"
    [[ -n $OM_JVM_VERSION ]] || OM_JVM_VERSION=$(om_jvm_version "$OM_PID")
  fi
  OM_MAP_COUNT_END=$(om_count_lines "$OM_OUT/maps-end.txt")
  om_backend_counts
  OM_END_TIME=$(om_now_iso)
  om_write_meta "$OM_OUT"
}

# om_watchdog SCRIPT_PID SCRIPT_ST -> runs in its own process until the tracer ends.
om_watchdog() {
  local script_pid=$1 script_st=$2 parent_st='' told=0
  # PIPE too: once orphanmap is gone, our stderr is a broken pipe, and dying of
  # SIGPIPE on the next log line would leave the target traced.
  trap '' INT TERM HUP PIPE
  if [[ -n $OM_PARENT_PID ]]; then
    parent_st=$(om_starttime "$OM_PARENT_PID") || parent_st=gone
  fi
  while om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; do
    if ! om_alive "$script_pid" "$script_st"; then
      om_log "capture script $script_pid died; watchdog stops the tracer"
      if [[ -z $OM_PID && -n $OM_TARGET_PID ]]; then
        OM_PID=$OM_TARGET_PID
        OM_PID_ST=$(om_starttime "$OM_PID") || OM_PID_ST=gone
      fi
      om_stop_tracer
      om_finish interrupted
      return 0
    fi
    if ((!told)) && [[ -n $OM_PARENT_PID ]] && ! om_alive "$OM_PARENT_PID" "$parent_st"; then
      om_log "parent $OM_PARENT_PID died; stopping the capture"
      kill -USR1 "$script_pid" 2>/dev/null
      told=1
    fi
    sleep 0.25
  done
}

# om_find_cmd_pid -> the pid of the command the tracer launched: its child once
# the child has exec'd (its exe differs from the tracer's), else empty.
om_find_cmd_pid() {
  local tracer_exe c exe
  tracer_exe=$(readlink "/proc/$OM_TRACER_PID/exe" 2>/dev/null) || return 0
  for c in $(om_children "$OM_TRACER_PID"); do
    # strace forks short-lived probes at startup whose exe cannot be read yet:
    # an unreadable exe is not the command.
    exe=$(readlink "/proc/$c/exe" 2>/dev/null) || continue
    [[ -n $exe && $exe != "$tracer_exe" ]] && { printf '%s' "$c"; return 0; }
  done
}

om_run_capture() {
  local i start_ns status=0
  om_parse_common_args "$@"
  if ((${#OM_CMD[@]})); then
    # Until /proc says otherwise (a command may exit before it is seen there).
    OM_CMD_MODE=1 OM_CMDLINE=("${OM_CMD[@]}") OM_COMM=${OM_CMD[0]##*/}
    OM_COMM=${OM_COMM:0:15}
  fi
  om_backend_check
  om_prepare_bundle
  om_backend_argv
  OM_COMMAND=$(om_shell_quote "${OM_TRACER_ARGV[@]}")
  OM_START_TIME=$(om_now_iso)
  start_ns=$(date +%s%N)

  trap 'om_on_signal interrupted' INT TERM HUP
  trap 'om_on_signal parent-died' USR1
  # orphanmap reads our stdout and stderr; if it is killed, writing to them must
  # fail quietly rather than kill this script before it has detached the tracer.
  trap '' PIPE

  # The traced command's stdout goes to our stderr: stdout carries only the bundle path.
  # With -- CMD the command's stderr is shown and kept in tracer.stderr as well
  # (strace cannot keep them apart). fd 3 reaches capture-bpftrace.sh's wrapper.
  # The tee reads a FIFO rather than a process substitution: a process
  # substitution would become the tracer's child and keep strace waiting.
  exec 3>&2
  if ((OM_CMD_MODE)); then
    local fifo="$OM_OUT/.stderr.fifo"
    mkfifo -- "$fifo" || om_die "cannot create $fifo"
    tee -- "$OM_OUT/tracer.stderr" < "$fifo" >&3 2>/dev/null &
    if [[ -z $OM_TRACER_STDOUT ]]; then
      "${OM_TRACER_ARGV[@]}" 0<&0 1>&3 2> "$fifo" &
    else
      "${OM_TRACER_ARGV[@]}" 0<&0 > "$OM_TRACER_STDOUT" 2> "$fifo" &
    fi
    OM_TRACER_PID=$!
  else
    "${OM_TRACER_ARGV[@]}" < /dev/null > "${OM_TRACER_STDOUT:-/dev/null}" 2> "$OM_OUT/tracer.stderr" 3>&- &
    OM_TRACER_PID=$!
  fi
  OM_TRACER_ST=$(om_starttime "$OM_TRACER_PID") || OM_TRACER_ST=gone
  om_watchdog "$$" "$(om_starttime $$)" 3>&- &

  # Wait for the attach (-p) or for the launched command to exec (-- CMD).
  for ((i = 0; i < 600; i++)); do
    if ((OM_CMD_MODE)); then
      OM_PID=$(om_find_cmd_pid)
    elif om_backend_attached; then
      OM_PID=$OM_TARGET_PID
    fi
    [[ -n $OM_PID || -n $OM_STOP_REASON ]] && break
    om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || break
    sleep 0.05
  done
  # By now the tracer has opened the FIFO (or died), so its name can go.
  rm -f -- "$OM_OUT/.stderr.fifo"
  if [[ -z $OM_PID ]] && ((!OM_CMD_MODE)); then
    OM_PID=$OM_TARGET_PID
    if om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" && [[ -z $OM_STOP_REASON ]]; then
      om_log "tracer did not attach to $OM_TARGET_PID within 30 s"
      OM_STOP_REASON=attach-timeout
    fi
  fi
  if [[ -n $OM_PID ]]; then
    OM_PID_ST=$(om_starttime "$OM_PID") || OM_PID_ST=gone
    om_snapshot_maps "$OM_PID" "$OM_OUT/maps-start.txt" || true
    om_snapshot_fds "$OM_PID" "$OM_OUT/fds-start.txt" || true
    om_read_process "$OM_PID"
    OM_MAP_COUNT_START=$(om_count_lines "$OM_OUT/maps-start.txt")
  fi
  om_write_meta "$OM_OUT"

  while om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; do
    if [[ -z $OM_STOP_REASON ]] && om_deadline_reached "$start_ns" "$OM_DURATION"; then
      OM_STOP_REASON=duration
    fi
    if [[ -z $OM_STOP_REASON && -n $OM_PID ]] && ! om_alive "$OM_PID" "$OM_PID_ST"; then
      # strace ends by itself when its tracees are gone; bpftrace -p does not.
      sleep 0.5
      om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || break
      OM_STOP_REASON=target-exited
    fi
    if [[ -n $OM_STOP_REASON ]]; then
      om_stop_tracer
      break
    fi
    sleep 0.2 &
    wait $! 2>/dev/null
  done
  wait "$OM_TRACER_PID" 2>/dev/null
  status=$?

  # A command too short-lived to be seen running: take its pid from the trace.
  if [[ -z $OM_PID ]] && ((OM_CMD_MODE)); then
    OM_PID=$(om_backend_first_pid)
    om_write_meta "$OM_OUT"
  fi

  case $OM_STOP_REASON in
    '') om_finish target-exited ;;
    attach-timeout) om_finish target-exited ;;
    *) om_finish "$OM_STOP_REASON" ;;
  esac
  exec 3>&-

  # Failed: never attached, or ended by itself with an error and no trace.
  # (strace with a command exits with the command's status, so a status alone
  # says nothing.)
  if [[ $OM_STOP_REASON == attach-timeout ]] || { [[ -z $OM_STOP_REASON && ! -s $OM_OUT/trace.txt ]] && ((status != 0)); }; then
    om_log "the tracer failed (exit status $status); its stderr is in $OM_OUT/tracer.stderr:"
    tail -n 5 "$OM_OUT/tracer.stderr" >&2
    printf '%s\n' "$OM_OUT"
    return 1
  fi
  printf '%s\n' "$OM_OUT"
  return 0
}

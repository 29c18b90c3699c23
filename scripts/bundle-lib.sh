# shellcheck shell=bash
# bundle-lib.sh — shared functions for orphanmap's capture scripts.
#
# Sourced (never run) by capture-strace.sh and capture-bpftrace.sh. Plain bash
# (>= 4.4), coreutils, sed and awk: brokers often have no python3 and no jq.
#
# A capture BUNDLE is a directory:
#   meta.json       orphanmap/bundle@1 metadata, written at start (endTime null,
#                   "complete": false) and rewritten at the end, always via
#                   rename, so a crash at any moment leaves a parseable file
#                   ("cwd": the traced process's working directory at the
#                   start, om_read_cwd; docs/report.md lists every field)
#   trace.txt       the raw trace
#   maps-start.txt  /proc/PID/maps once the tracer is attached
#   maps-before.txt --pid: /proc/PID/maps just before the tracer starts; what
#                   it holds and maps-start.txt no longer does went in between
#                   (maybe under the trace: review 32's attach race)
#   fds-start.txt   "FD<TAB>TARGET" per open fd once the tracer is attached
#   fds-inherited.txt  -- CMD: the same line of fd 0, the stdin the command
#                   inherits, read before the tracer starts it (om_stdin_to)
#   maps-end.txt    /proc/PID/maps at the end, if the process still lives and
#                   the tracer attached (a tracer that never did takes neither
#                   snapshot, and meta.json says "attached": false)
#   maps-end.N.txt  /proc/N/maps at the same moment, for each other traced
#                   process N still alive then: the target's descendants (and,
#                   for strace, every process it still traces; for --pid, its
#                   descendants at the attach, even once it has exited); at most
#                   OM_MAX_END_PROCESSES of them, OM_MAX_END_BYTES together (om_snapshot_others)
#   maps-start.linked, maps-end.linked, maps-end.N.linked  beside each maps
#                   snapshot, the ranges of its lines that print " (deleted)"
#                   whose file still had a link when asked (om_note_linked);
#                   none when there are none
#   maps-start.nlink  --pid: "START-END N INODE DEV FSTYPE" for maps-start.txt's mappings
#                   whose file has N links beyond what its line tells: N >= 2,
#                   or any N, 0 included, for a line printed "(deleted)" (om_note_nlink)
#   maps-before.nlink  --pid: the same of maps-before.txt's, counted before the
#                   tracer starts (none the trace shows made); there even when
#                   empty
#   maps-before.dontfork  --pid: the same as maps-start.dontfork, read before
#                   the tracer starts; there even when empty
#   maps-end.nlink  the same of maps-end.txt's, when it prints a line
#                   "(deleted)": whether such a file still had a name; there
#                   even when empty
#   maps-start.dontfork  --pid: the ranges of maps-start.txt's mappings that
#                   madvise(MADV_DONTFORK) marked ("dc" in /proc/PID/smaps'
#                   VmFlags), which a fork does not copy (om_note_dontfork);
#                   none when there are none
#   maps-start-gone.txt  when the process exited during the capture (so no
#                   maps-end.txt): the lines of maps-start.txt whose file was no
#                   longer at its name right after, its directory changed
#                   before the exit (om_gone_from_start); maps-start-gone-late.txt:
#                   those whose directory changed about the exit or after, and
#                   those whose names could not be looked up or lead elsewhere now
#   mapped-gone.txt  the names the trace shows files mapped by (or renamed to)
#                   that lead to no file once it ended (om_gone_mapped); not
#                   there when none does
#   mapped-named.txt  the others, each with the file it leads to: "BIRTH
#                   DEVICE INODE FSTYPE DIRECT NAME" (stat's %.9W %d %i, stat
#                   -f's %t; BIRTH 0 where the file system keeps none; DIRECT
#                   1 when reached through no symbolic link, else 0)
#   tracer.stderr   the tracer's stderr
#   .meta-reserve   128 KiB held while the capture runs and freed just before the
#                   final meta.json, so a full disk still gets a final meta.json
#
# These scripts run as root on production hosts, so the bundle directory is one
# they create themselves (or an empty one the caller owns that no one else can
# write to), opened once as fd 9: every bundle file is then created through
# /proc/PID/fd/9/NAME, which names that directory by inode and never walks the
# --out path again. A link planted in --out, or a directory of --out's path
# swapped for a link mid-capture, cannot redirect a write. noclobber (set -C)
# makes every `>` fail on an existing file as a second line of defence.
#
# The capture script sets the OM_* variables below and calls the om_* functions.

set -C

OM_SCHEMA='orphanmap/bundle@1'
OM_BACKEND=''
OM_PID=''
OM_COMM=''
OM_CMDLINE=()
OM_CWD=''              # the traced process's working directory at the start (om_read_cwd)
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
OM_STOP_AFTER_BYTE=''
OM_LEFT_RUNNING=''     # launched: processes it started still running when the command exited
OM_EXIT_REASON=''
OM_NO_DETACH=''        # why a launched command cannot be left running untraced (set by the backend)
OM_LOG_COMMAND=0       # --log-command: the command's stdout and stderr go to command.log in the bundle
OM_PRINT_ID=0          # --print-id: "id DEV:INODE" of the bundle directory before its path (see om_run_capture)
OM_OUT_PARENT_FD=''    # --out-parent-fd N: the directory that holds -o, open as fd N (om_prepare_bundle)
OM_CONTROL_FD=''       # --control-fd N: orphanmap's requests, a byte each, read on fd 7 (om_take_requests)
OM_COMPLETE=0          # 1 once the trace is known to hold everything to the end
OM_ATTACHED=''         # 1 once the tracer attached (-p) or traced the command it started; 0 if it never did; empty: not known yet
OM_D=''                # /proc/PID/fd/9: the bundle directory, by inode
OM_DIR_FD=9
OM_RESERVE_BYTES=131072
OM_MAX_END_PROCESSES=1000  # maps-end.N.txt files at most (om_snapshot_others)
OM_MAX_END_BYTES=268435456 # and 256 MiB of them together at most: one process's maps can be 1 GB
OM_MAX_TREE_PROCESSES=20000 # a process tree is listed up to this many processes (om_tree_of)
OM_TREE_SECONDS=10     # and for this long at most
OM_END_CUT=''          # set when a stop is asked for while the end snapshots are taken (om_with_late_stop)
OM_OTHERS_DONE=0       # 1 once om_snapshot_others ran: one end snapshot per capture
OM_JVM_SECONDS=3       # the most om_jvm_version may take (see om_bounded)
OM_FDS_SECONDS=30      # the most the fds-start.txt snapshot may take
OM_START_MAPS_SECONDS=300 # and the maps-start.txt one: 1 GB of maps take 25 s to read, more on a loaded host
OM_THREADS_SECONDS=10  # the most listing the target's threads may take
OM_START_NS=''         # when the tracer attached (date +%s%N)
OM_THREADS_UNWRITTEN=0 # times the thread list could not be written (said once)

# Messages name paths that others may choose (a bundle renamed mid-capture, a
# target's command): control characters in them are shown as \n, \xHH, never
# sent to the terminal raw.
om_log() { local m; om_escape_ctl m "$*"; printf '%s: %s\n' "${OM_PROG:-orphanmap}" "$m" >&2; }

# The characters the CLI escapes (src/report/sanitize.ts) beyond C0 and DEL,
# as their UTF-8 bytes and their escapes: the C1 controls (U+009B alone is a
# CSI) and the bidi, zero-width and separator characters that make a name
# read as something it is not. Matched as bytes (LC_ALL=C in om_escape_ctl),
# whatever the locale.
OM_WIDE_BYTES=() OM_WIDE_ESCAPES=()
om_wide_init() {
  local code e c
  # C1, then Unicode's format (Cf) and default-ignorable characters, as
  # src/report/sanitize.ts escapes them (the tag block U+E0000..U+E0FFF apart:
  # om_escape_tags).
  # Ranges by brace expansion, not $(seq ...): no process each.
  for code in {128..159} 173 847 {1536..1541} 1564 1757 1807 2192 2193 2274 4447 4448 6068 6069 {6155..6159} \
    {8203..8207} {8232..8238} {8288..8303} 12644 {65024..65039} 65279 65440 {65520..65531} \
    69821 69837 {78896..78911} {113824..113827} {119155..119162}; do
    if ((code < 0x800)); then
      printf -v e '\\x%02x\\x%02x' $((0xc0 | code >> 6)) $((0x80 | (code & 0x3f)))
    elif ((code < 0x10000)); then
      printf -v e '\\x%02x\\x%02x\\x%02x' $((0xe0 | code >> 12)) $((0x80 | (code >> 6 & 0x3f))) $((0x80 | (code & 0x3f)))
    else
      printf -v e '\\x%02x\\x%02x\\x%02x\\x%02x' $((0xf0 | code >> 18)) $((0x80 | (code >> 12 & 0x3f))) $((0x80 | (code >> 6 & 0x3f))) $((0x80 | (code & 0x3f)))
    fi
    printf -v c "$e"
    OM_WIDE_BYTES+=("$c")
    if ((code <= 0xff)); then printf -v e '\\x%02x' "$code"; elif ((code <= 0xffff)); then printf -v e '\\u%04x' "$code"; else printf -v e '\\u{%x}' "$code"; fi
    OM_WIDE_ESCAPES+=("$e")
  done
}

# om_escape_tags VAR -> each character of U+E0000..U+E0FFF in VAR (tag
# characters, which spell hidden ASCII, and other default-ignorables: UTF-8
# F3 A0 xx yy) shown as \u{e0xxx}; 4,096 of them would not fit OM_WIDE_BYTES.
om_escape_tags() {
  local -n text=$1
  local tag=$'\xf3\xa0' rest out='' hi lo e LC_ALL=C
  while [[ $text == *"$tag"* ]]; do
    out+=${text%%"$tag"*}
    rest=${text#*"$tag"}
    hi=-1 lo=-1
    [[ -n ${rest:0:1} ]] && printf -v hi '%d' "'${rest:0:1}"
    [[ -n ${rest:1:1} ]] && printf -v lo '%d' "'${rest:1:1}"
    if ((hi >= 0x80 && hi <= 0xbf && lo >= 0x80 && lo <= 0xbf)); then
      printf -v e '\\u{%x}' $((0xe0000 | (hi & 0x3f) << 6 | (lo & 0x3f)))
      out+=$e
      text=${rest:2}
    else
      # Not UTF-8: the two bytes as bytes, what follows them kept.
      out+='\xf3\xa0'
      text=$rest
    fi
  done
  text=$out$text
}
om_wide_init

# om_escape_ctl VAR STRING -> VAR=STRING with each control character
# (U+0001..U+001F, DEL) shown as \n, \t, \r or \xHH, and each of OM_WIDE_BYTES
# as \xHH or \uHHHH, as the CLI shows them; in such a string each backslash
# is doubled too, so that the text reads back unambiguously.
om_escape_ctl() {
  local s=$2 i c e wide=-1 LC_ALL=C
  for ((i = 0; i < ${#OM_WIDE_BYTES[@]}; i++)); do
    [[ $s == *"${OM_WIDE_BYTES[i]}"* ]] && { wide=$i; break; }
  done
  ((wide < 0)) && [[ $s == *$'\xf3\xa0'* ]] && wide=${#OM_WIDE_BYTES[@]}
  if [[ $s == *[[:cntrl:]]* ]] || ((wide >= 0)); then
    s=${s//\\/\\\\}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\r'/\\r}
    for ((i = 1; i < 128; i++)); do
      ((i < 32 || i == 127)) || continue
      printf -v e '\\x%02x' "$i"
      printf -v c "$e"
      [[ $s == *"$c"* ]] && s=${s//"$c"/"$e"}
    done
    for ((i = (wide < 0 ? ${#OM_WIDE_BYTES[@]} : wide); i < ${#OM_WIDE_BYTES[@]}; i++)); do
      c=${OM_WIDE_BYTES[i]}
      [[ $s == *"$c"* ]] && s=${s//"$c"/"${OM_WIDE_ESCAPES[i]}"}
    done
    om_escape_tags s
  fi
  printf -v "$1" '%s' "$s"
}
om_die() { om_log "error: $*"; exit "${OM_DIE_STATUS:-1}"; }

# A Ctrl-C in a terminal kills whatever child this script runs at that instant
# (see om_stat below), leaving a cut or empty result. The two functions below
# run a child again when a signal killed it (status above 128): the first stop
# signal makes the script ignore further ones (om_on_signal), so its children
# from then on ignore them too and a second run completes.

# om_retry COMMAND ARG... -> runs COMMAND again (up to 3 runs) while a signal kills it.
om_retry() {
  local try status=0
  for try in 1 2 3; do
    om_immune "$@"
    status=$?
    ((status > 128)) || break
  done
  return "$status"
}

# om_out VAR COMMAND ARG... -> VAR=$(COMMAND ARG...), run again while a signal
# kills it, without a $(...): see om_no_command_substitution. For short text
# with no NUL byte (a number, a name): `read` takes a byte a system call, and
# stops at a NUL (the rest then kills COMMAND with SIGPIPE).
om_out() {
  local om_out_var=$1 om_out_text='' try status=0 lastpipe_was=0
  shift
  shopt -q lastpipe && lastpipe_was=1
  # The `read` at the pipeline's end runs in this shell (no job control here).
  shopt -s lastpipe
  for try in 1 2 3; do
    om_out_text=''
    # SIGPIPE as it comes by default: this script ignores it, and a helper writing here once a kill -9 ended
    # the script would get EPIPE and say so on orphanmap's stderr ("awk: close failed ... Broken pipe").
    # `read -d ''` ends at the end of the output (status 1 then, with everything read).
    if ((OM_LATE)); then
      (trap '' INT TERM HUP; trap - PIPE; "$@") | IFS= read -r -d '' om_out_text
    else
      (trap - PIPE; "$@") | IFS= read -r -d '' om_out_text
    fi
    status=${PIPESTATUS[0]}
    ((status > 128)) || break
  done
  ((lastpipe_was)) || shopt -u lastpipe
  # As $(...) does: trailing newlines go.
  while [[ $om_out_text == *$'\n' ]]; do om_out_text=${om_out_text%$'\n'}; done
  printf -v "$om_out_var" '%s' "$om_out_text"
  return "$status"
}

# om_immune COMMAND ARG... -> COMMAND; while the end snapshots take a stop
# request (OM_LATE, om_with_late_stop), in a subshell that ignores SIGINT,
# SIGTERM and SIGHUP, so that COMMAND's helpers ignore them as they do once a
# stop is under way: the script then traps them, and a trap leaves its
# children the default, which a repeated Ctrl-C (sent to the whole process
# group) would kill. A signal that lands before the subshell ignores it
# kills it, and om_retry runs it again.
OM_LATE=0
om_immune() {
  if ((OM_LATE)); then (trap '' INT TERM HUP; "$@"); else "$@"; fi
}

# om_bounded SECONDS VAR COMMAND ARG... -> VAR=$(COMMAND ARG...) and its
# status, or, when it has not ended within SECONDS or a stop is asked for
# meanwhile (a signal, --duration, the parent's death) while the tracer is
# attached, VAR empty and status 124, COMMAND and whatever it started killed;
# status 2 and VAR empty when its files in the bundle could not be written.
# For what may block on things the target controls: a trap cannot run while
# the script waits for a $(...), but runs between the short sleeps here (the
# child is in the background). Its output and its exit status go through
# files in the bundle: see om_no_wait_builtin for why it is never `wait`ed for.
om_bounded() {
  local limit=$1 var=$2 out pid st i status=0 text=''
  shift 2
  out=$OM_D/.bounded.$BASHPID
  rm -f -- "$out" "$out.status"
  # Whatever fails in the child is said by its status, never by bash on our
  # stderr: a full file system made every write here print "line N: printf:
  # write error: No space left on device", and a $(...) inside COMMAND whose
  # reader was killed at a stop, "write error: Broken pipe" (review 5).
  {
    exec 2>/dev/null
    if : > "$out"; then "$@" >> "$out"; printf '%s' "$?" > "$out.status"; fi
  } &
  pid=$!
  om_identify "$pid" st
  for ((i = 0; ; i++)); do
    om_alive "$pid" "$st" || break
    # A stop asked for is heard at every look, the first too: one already waiting when the capture began ends
    # the read of maps-before.txt, and no tracer is started (a look skipped there started strace all the same).
    if ((i >= limit * 20 + 4)) || om_stop_due; then status=124; break; fi
    om_say_refused
    # Most commands end within milliseconds: the first looks 5 ms apart, not a whole nap each (a capture makes a
    # dozen of these calls; 50 ms each before any second look cost half a second a capture).
    if ((i < 4)); then om_nap 0.005; else om_nap 0.05; fi
  done
  if ((status == 124)); then
    # Out of the job table first: bash would say "Killed" on our stderr.
    disown "$pid" 2>/dev/null
    # One pass, the whole tree taken first (each "pid:starttime"): once the
    # child is gone its pid may be another process's, and its own children
    # are no longer under it.
    om_tree_of "$pid"
    [[ ${OM_TREE%% *} == "$pid:$st" ]] && om_kill_tree "$OM_TREE" KILL
  else
    # No status in the file: it could not be written (a full disk), nor perhaps the output.
    status=''
    IFS= read -r status 2>/dev/null < "$out.status"
    if [[ $status =~ ^[0-9]+$ ]]; then
      IFS= read -r -d '' text 2>/dev/null < "$out"
      while [[ $text == *$'\n' ]]; do text=${text%$'\n'}; done
    else
      status=2
    fi
  fi
  rm -f -- "$out" "$out.status"
  printf -v "$var" '%s' "$text"
  return "$status"
}

# om_drop_gone_children: OM_CHILDREN_BEFORE_TREE without the processes gone
# since (each "pid:starttime"). Called while the tracer has not yet attached
# (bpftrace compiles for 8-40 s): a child listed before the tracer started and
# gone by the attach would otherwise be taken for one at the attach, and every
# removal of a file the target mapped before the trace a doubt of it (code
# review 89, M2: a clean git or a server recycling workers, exit 2).
om_drop_gone_children() {
  local entry kept=''
  [[ -n $OM_CHILDREN_BEFORE_TREE ]] || return 0
  for entry in $OM_CHILDREN_BEFORE_TREE; do
    om_alive "${entry%%:*}" "${entry#*:}" && kept+="$entry "
  done
  OM_CHILDREN_BEFORE_TREE=$kept
}

# om_stop_due -> true when a stop is asked for and the tracer is not yet
# stopped; sets OM_STOP_REASON=duration once --duration has passed since the
# attach (OM_START_NS).
om_stop_due() {
  om_take_requests
  if [[ -z $OM_TRACER_PID ]]; then
    # Before the tracer starts (maps-before.txt, review 32): a stop asked for ends the read at once.
    [[ -n $OM_STOP_REASON ]] && return 0
    om_parent_gone && { OM_STOP_REASON=parent-died; return 0; }
    return 1
  fi
  om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || return 1
  [[ -n $OM_STOP_REASON ]] && { ((OM_STOPPED)) && return 1; return 0; }
  om_parent_gone && { OM_STOP_REASON=parent-died; return 0; }
  [[ -n $OM_START_NS && -n $OM_DURATION ]] || return 1
  om_deadline_reached "$OM_START_NS" "$OM_DURATION" || return 1
  OM_STOP_REASON=duration
}

# om_parent_gone -> true once the --parent-pid process (orphanmap) has died.
# The watchdog asks for the stop too (SIGUSR1), but it is a process of its own,
# and `pkill -9 -f capture-strace.sh` kills it with this script's helpers:
# the script then looks for itself (review 5).
om_parent_gone() { [[ -n $OM_PARENT_PID ]] && ! om_alive "$OM_PARENT_PID" "$OM_PARENT_ST"; }

# om_json_str STRING -> prints STRING as a JSON string literal, quotes included.
# Escapes backslash, double quote and every control character (U+0000..U+001F);
# bytes that are not valid UTF-8 are dropped (iconv -c) so the file stays valid JSON.
# bash's ${s//x/y} costs time quadratic in the length of s: 100,000 backslashes
# in a target's argv took 6.4 s, and four of them held the target traced for
# a minute past --duration (review 2, F8). Short strings (names, times, a
# thread's comm) stay in bash, where they cost no process; longer ones go
# through one linear sed pass.
om_json_str() {
  local s=$1 i c
  if ((${#s} > OM_JSON_BASH_MAX)); then
    printf '%s\0' "$s" | om_json_escape_nul
    return 0
  fi
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

# Longest string om_json_str escapes in bash: 4 KiB cost about 10 ms.
OM_JSON_BASH_MAX=4096

# The sed program of om_json_escape_nul: the escapes of om_json_str, then quotes.
OM_JSON_SED='s/\\/\\\\/g; s/"/\\"/g; s/\n/\\n/g; s/\r/\\r/g; s/\t/\\t/g;'
# printf -v, not $(...): each $(...) is a fork, some 5 ms of CPU on a virtual machine.
for ((om_i = 1; om_i < 32; om_i++)); do
  ((om_i == 9 || om_i == 10 || om_i == 13)) && continue
  printf -v om_s ' s/\\x%02x/\\\\u%04x/g;' "$om_i" "$om_i"
  OM_JSON_SED+=$om_s
done
OM_JSON_SED+=' s/^/"/; s/$/"/'
unset om_i om_s

# om_json_escape_nul -> reads strings ending in NUL on stdin and prints them as
# JSON string literals separated by commas: one iconv and one sed, each linear
# in the input's length however the strings are made.
om_json_escape_nul() {
  local out
  if command -v iconv >/dev/null 2>&1; then
    out=$(iconv -f UTF-8 -t UTF-8 -c 2>/dev/null | LC_ALL=C sed -z -e "$OM_JSON_SED" | tr '\0' ','; printf x)
  else
    out=$(LC_ALL=C sed -z -e "$OM_JSON_SED" | tr '\0' ','; printf x)
  fi
  out=${out%x}
  printf '%s' "${out%,}"
}

# om_json_str_or_null STRING -> JSON string, or null when STRING is empty.
om_json_str_or_null() { if [[ -n $1 ]]; then om_json_str "$1"; else printf 'null'; fi; }

# om_json_num_or_null STRING -> the number, or null when STRING is not an integer.
om_json_num_or_null() { if [[ $1 =~ ^-?[0-9]+$ ]]; then printf '%s' "$1"; else printf 'null'; fi; }

# om_json_str_array ARG... -> ["ARG", ...]. The target chooses its argv (up to
# 128 KiB an argument, some 6 MiB in all): a long one goes through one linear
# pass (om_json_escape_nul); a short one, as most are, is escaped in bash,
# which costs no process.
om_json_str_array() {
  local a chars=0 sep=''
  printf '['
  for a in "$@"; do chars=$((chars + ${#a})); done
  if (($# <= 64 && chars <= OM_JSON_BASH_MAX)); then
    for a in "$@"; do
      printf '%s' "$sep"
      om_json_str "$a"
      sep=,
    done
  else
    printf '%s\0' "$@" | om_json_escape_nul
  fi
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

# Supervision reads /proc with builtins only. A terminal's Ctrl-C is a SIGINT to
# its whole foreground process group: orphanmap, this script, the tracer, the
# command, and whatever child this script is running at that instant (a $(...)
# subshell, a cat, a sed), which dies of it. A dead child's answer is no
# answer: a killed $(cat /proc/PID/stat) once read as "the tracer is gone",
# ended the supervision loop without stopping anything and left the script
# waiting forever on a tracer that ignores SIGINT, its command still traced.
# So whether a process lives, which process a pid is, which pid is the launched
# command and which processes to end are decided without any child process.

# om_stat PID -> sets OM_STATE (the state letter) and OM_ST (field 22 of
# /proc/PID/stat, clock ticks since boot, which together with the pid names one
# process even after the pid is reused); false when PID is gone.
om_stat() {
  local stat=''
  IFS= read -r -d '' stat 2>/dev/null < "/proc/$1/stat"
  OM_STATE='' OM_ST=''
  [[ $stat == *') '* ]] || return 1
  stat=${stat##*) }              # comm may contain spaces, parentheses, newlines
  set -- $stat                   # field 3 (state) is now $1, so starttime is $20
  OM_STATE=$1 OM_ST=${20:-}
  [[ -n $OM_ST ]]
}

# om_trace_clock VAR SIDE -> VAR = now, in seconds on the clock the trace's
# times are on: strace -ttt's, the epoch (to the microsecond); bpftrace's, the
# time since boot (CLOCK_BOOTTIME, which /proc/uptime gives to the
# hundredth: SIDE - or + takes a hundredth off or adds one, so that the time
# is before, or after, the moment asked about). False when not known.
om_trace_clock() {
  local now='' rest
  if [[ $OM_BACKEND == strace ]]; then
    now=${EPOCHREALTIME/,/.}
  else
    IFS=' ' read -r now rest 2>/dev/null < /proc/uptime || now=''
    [[ $now =~ ^([0-9]+)\.([0-9]{2})$ ]] || return 1
    now=$((10#${BASH_REMATCH[1]}${BASH_REMATCH[2]} ${2}1))
    printf -v now '%d.%02d' $((now / 100)) $((now % 100))
  fi
  [[ $now =~ ^[0-9]+\.[0-9]+$ ]] || return 1
  printf -v "$1" '%s' "$now"
}

# om_identify PID VAR -> VAR=PID's starttime, or "gone", which no process matches.
om_identify() {
  if om_stat "$1"; then printf -v "$2" '%s' "$OM_ST"; else printf -v "$2" '%s' gone; fi
}

# om_starttime PID -> prints PID's starttime (see om_stat); status 1 when PID is gone.
om_starttime() { om_stat "$1" && printf '%s' "$OM_ST"; }

# om_alive PID STARTTIME -> true while that very process exists and is not a zombie.
# Any other state letter: a traced process is often in "t (tracing stop)".
om_alive() {
  om_stat "$1" && [[ $OM_ST == "$2" && $OM_STATE != [ZX] ]]
}

# om_group_gone PID STARTTIME -> true when that process has ended: no process
# of that starttime, or its leader a zombie with no other thread left. A
# leader that called pthread_exit is a zombie while its threads run on (and
# strace cannot attach to it: that is the tracer's failure to say, not an exit).
om_group_gone() {
  om_alive "$1" "$2" && return 1
  om_stat "$1" && [[ $OM_ST == "$2" && $OM_STATE == Z ]] || return 0
  local tasks=("/proc/$1/task/"*)
  ((${#tasks[@]} <= 1))
}

# om_running PID STARTTIME -> true while that process has a thread left: alive,
# or its leader a zombie while its other threads run on (main() calling
# pthread_exit). Taken for gone, such a command was never signalled at the
# stop and outlived the capture, untraced (review 23, F5).
om_running() { ! om_group_gone "$1" "$2"; }

# om_live_dir PID -> OM_LIVE_DIR=/proc/PID, or /proc/PID/task/TID of one of its
# threads when its leader is a zombie while they run on: the leader has let go
# of the address space and the fd table the process still has, so its own maps
# and fd read empty, and a thread's show them.
om_live_dir() {
  local task
  OM_LIVE_DIR=/proc/$1
  om_stat "$1" && [[ $OM_STATE == Z ]] || return 0
  for task in "/proc/$1/task/"*; do
    [[ ${task##*/} == "$1" ]] && continue
    [[ -e $task/maps ]] && { OM_LIVE_DIR=$task; return 0; }
  done
}

# om_tracer_of PID -> sets OM_TRACER_OF to the TracerPid of PID (0: not traced);
# false, OM_TRACER_OF empty, when PID is gone.
om_tracer_of() {
  local key value
  OM_TRACER_OF=''
  while read -r key value; do
    [[ $key == TracerPid: ]] && { OM_TRACER_OF=$value; return 0; }
  done 2>/dev/null < "/proc/$1/status"
  return 1
}

# om_ignores PID SIGNUM -> true when PID ignores that signal (its SigIgn mask).
om_ignores() {
  local key value
  while read -r key value; do
    [[ $key == SigIgn: ]] || continue
    (((16#$value >> ($2 - 1)) & 1)) && return 0
    return 1
  done 2>/dev/null < "/proc/$1/status"
  return 1
}

# om_tracees_of TRACER [STOP_VAR] -> sets OM_TREE to "pid:starttime " for
# every process whose TracerPid is TRACER (none more once the variable named
# STOP_VAR is set): strace -f follows a command's descendants
# wherever they go, a daemon that double-forked to init among them, which
# the command's own tree (om_tree_of) no longer holds.
om_tracees_of() {
  local f pid key value stop=${2:-}
  OM_TREE=''
  for f in /proc/[0-9]*/status; do
    [[ -n $stop && -n ${!stop} ]] && break
    while read -r key value; do
      [[ $key == TracerPid: ]] || continue
      if [[ $value == "$1" ]]; then
        pid=${f#/proc/}
        pid=${pid%/status}
        om_stat "$pid" && OM_TREE+="$pid:$OM_ST "
      fi
      break
    done 2>/dev/null < "$f"
  done
}

# om_kill_tracees -> SIGKILL to every process strace still traces, listed
# again until none is left (at most OM_KILL_ROUNDS lists), once a stopped
# launched command's listed tree has had its SIGKILL. Processes forked after
# that list was made are not in it, and a forker's children outlive it,
# reparented to init: a command forking every half millisecond left hundreds
# running, untraced once strace had to be killed (it waits for its tracees,
# and ignores SIGINT and SIGTERM). strace -f traces each of them, wherever it
# went; the forkers die in the first round, so the rounds end.
OM_KILL_ROUNDS=20
om_kill_tracees() {
  local round
  [[ $OM_BACKEND == strace ]] || return 0
  for ((round = 0; round < OM_KILL_ROUNDS; round++)); do
    om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || return 0
    om_tracees_of "$OM_TRACER_PID"
    [[ -n $OM_TREE ]] || return 0
    om_kill_tree "$OM_TREE" KILL
    om_nap 0.1
  done
  om_log "strace still traces processes after $OM_KILL_ROUNDS rounds of SIGKILL to all it traced (a command forking faster than they are listed)"
}

# om_note_left_running -> OM_LEFT_RUNNING: how many processes strace still
# traces when the launched command has exited: what the command started and
# left running (a daemon: `kafka-server-start.sh -daemon`, `nohup java … &`).
# They run on untraced once the capture ends, so the trace holds what they did
# until then only: said on stderr and in meta.json (leftRunning), and the
# analysis warns, rather than let "no mapping outlived its file" stand for them.
om_note_left_running() {
  local entry pids=''
  om_tracees_of "$OM_TRACER_PID"
  OM_LEFT_RUNNING=0
  for entry in $OM_TREE; do
    OM_LEFT_RUNNING=$((OM_LEFT_RUNNING + 1))
    ((OM_LEFT_RUNNING <= 5)) && pids+=" ${entry%%:*}"
  done
  om_say_left_running "$pids"
}

# om_say_left_running PIDS -> says that OM_LEFT_RUNNING processes (PIDS: the
# first five, each after a blank) still run untraced once the command exited.
om_say_left_running() {
  local pids=$1
  ((OM_LEFT_RUNNING)) || return 0
  ((OM_LEFT_RUNNING <= 5)) || pids+=' …'
  om_log "the command exited, but $OM_LEFT_RUNNING process(es) it started still run (pids${pids}): the capture ends now and they run on untraced; what they do from now on is not in the trace (to trace a daemon, start it, then: orphanmap capture --pid PID)"
}

# om_tracer_pid PID -> prints the TracerPid of PID (for messages).
om_tracer_pid() { om_tracer_of "$1"; printf '%s' "$OM_TRACER_OF"; }

# om_children PID -> sets the array OM_KIDS to the pids of PID's children.
om_children() {
  local f kids=()
  OM_KIDS=()
  if compgen -G "/proc/$1/task/*/children" >/dev/null; then
    for f in /proc/"$1"/task/*/children; do
      kids=()
      read -r -d '' -a kids 2>/dev/null < "$f"
      OM_KIDS+=("${kids[@]}")
    done
  else
    # Kernels without CONFIG_PROC_CHILDREN: the parent of every process, as om_kids_init reads them.
    om_kids_init "$1"
    read -r -a OM_KIDS <<< "${OM_KIDS_OF[$1]:-}"
  fi
  return 0
}

# om_snapshot_maps PID FILE [MAX] -> copies /proc/PID/maps; status 1 if the
# process is gone, 2 if FILE could not be written. Without MAX, through a
# temporary file and a rename; with MAX, into FILE itself (a staged file of
# om_snapshot_others), and status 3, no FILE, when the maps hold more than
# MAX bytes: a cut file would hide mappings. OM_SNAP_BYTES: FILE's size, with MAX.
om_snapshot_maps() {
  local tmp="$2.tmp" status maps
  om_live_dir "$1"
  maps=$OM_LIVE_DIR/maps
  OM_SNAP_BYTES='' OM_SNAP_DELETED=''
  if [[ -n ${3:-} ]]; then
    om_copy_upto "$maps" "$2" "$3"
    status=$?
    ((status == 0 || status == 3)) && return "$status"
    tmp=$2
  elif om_retry om_copy "$maps" "$tmp" && om_retry mv -f -- "$tmp" "$2"; then
    return 0
  fi
  om_retry rm -f -- "$tmp"
  # Readable, so not gone: a byte tells, where the whole maps may be 1 GB.
  om_retry head -c 1 -- "$maps" > /dev/null 2>&1 && return 2
  return 1
}

# om_note_dontfork PID -> maps-start.dontfork: the ranges, as maps prints
# them, of PID's mappings marked MADV_DONTFORK, which maps does not say and
# smaps' VmFlags do ("dc"). A fork copies none of them: without it a child
# forked after the attach was charged with its parent's mapping of a file
# the parent then removed (review 31, F-1: QEMU, DPDK and RDMA buffers). No
# file when there is none, or when smaps took over OM_START_MAPS_SECONDS.
#
# om_note_dontfork PID maps-before.txt -> maps-before.dontfork, the same read
# before the tracer starts (written even when empty): maps-start.dontfork's
# marks may have been set under the trace, after a fork that copied the
# mapping (review 33 attack, F7: marked 1.3 ms after a traced fork, the
# child's real copy was dropped), and only a range marked in both holds.
om_note_dontfork() {
  local out=$OM_D/maps-start.dontfork ranges='' seconds=$OM_START_MAPS_SECONDS
  # Before the tracer starts, every second is one the attach waits: smaps walks each mapping's pages (review 33's
  # code review, 9); left out past OM_LINKED_SECONDS, maps-start.dontfork's marks are taken as they are.
  [[ ${2:-} == */maps-before.txt ]] && out=$OM_D/maps-before.dontfork seconds=$OM_LINKED_SECONDS
  if [[ -e $out || -L $out ]]; then om_retry rm -f -- "$out" || return 0; fi
  om_live_dir "$1"
  if ! om_bounded "$seconds" ranges om_dontfork_ranges "$OM_LIVE_DIR/smaps"; then
    [[ -n $OM_STOP_REASON ]] || om_log "${out##*/} left out: the marks madvise(MADV_DONTFORK) set on pid $1's mappings were not read (a child it forks is taken to copy them all)"
    return 0
  fi
  [[ -n $ranges || $out == */maps-before.dontfork ]] || return 0
  { { [[ -z $ranges ]] || printf '%s\n' "$ranges"; } > "$out"; } 2>/dev/null || OM_WRITE_FAILED+=" ${out##*/}"
}

# om_note_nlink PID SNAPSHOT -> SNAPSHOT's twin (maps-start.txt:
# maps-start.nlink, maps-before.txt: maps-before.nlink): "START-END N INODE DEV FSTYPE"
# for each mapping of SNAPSHOT whose file has names its printed one does not
# tell: N links, two or more, or any, 0 included, for a line printed "(deleted)" (a hard
# link made before the attach keeps it). The trace shows no name made before
# it, and the unlink of the printed one read as the last (review 32: a false
# error under either tracer). /proc/PID/map_files/START-END leads to the
# mapped file itself, for root: one find stats them all. Within the time
# maps-start.txt may take (a file system that hangs); past it, the file is
# left out. maps-start.nlink, counted once the tracer has attached, holds
# links the trace may show made (review 33 attack, F2: a target that saw its
# TracerPid linked a second name then, and that name, counted twice, kept
# its file once both were unlinked): maps-before.nlink, counted before the
# tracer starts, holds none, and the analysis takes the lower count. It is
# written even when it lists nothing, for that is a count too.
#
# maps-end.txt's (within OM_LINKED_SECONDS, and only when it prints a line
# "(deleted)") says whether a file printed so still had a name at the end: a
# name the trace never knew, or one it saw made, may have gone out of its
# sight (review 33 attack, F9: another process removed a hard link made
# before the trace, and the leak read as a file kept by that link). Written
# even when empty, as maps-before.nlink is.
om_note_nlink() {
  local out=${2%.txt}.nlink counts='' seconds=$OM_START_MAPS_SECONDS
  if [[ -e $out || -L $out ]]; then om_retry rm -f -- "$out" || return 0; fi
  if [[ $out == */maps-end.nlink ]]; then
    ((OM_LINKED_STUCK)) || [[ ${OM_SNAP_DELETED:-} == 0 ]] && return 0
    seconds=$OM_LINKED_SECONDS
  fi
  # Before the tracer starts, every second is one the attach waits (review 33's code review, 9).
  [[ $out == */maps-before.nlink ]] && seconds=$OM_LINKED_SECONDS
  om_live_dir "$1"
  if ! om_bounded "$seconds" counts om_link_counts "$OM_LIVE_DIR/map_files" "$2"; then
    if [[ $out == */maps-end.nlink ]]; then
      # A process that exited just after the read leaves nothing to count: nothing to say.
      [[ -d $OM_LIVE_DIR/map_files ]] && om_log "maps-end.nlink left out: the links of pid $1's mapped files were not counted at the end (a file maps-end.txt prints \"(deleted)\" that a hard link keeps is not known)"
    else
      [[ -n $OM_STOP_REASON ]] || om_log "${out##*/} left out: the links of pid $1's mapped files were not counted (a hard link made before the attach is not known)"
    fi
    return 0
  fi
  [[ -n $counts || $out != */maps-start.nlink ]] || return 0
  { { [[ -z $counts ]] || printf '%s\n' "$counts"; } > "$out"; } 2>/dev/null || OM_WRITE_FAILED+=" ${out##*/}"
}

# om_link_counts MAP_FILES MAPS -> "START-END N INODE DEV FSTYPE" of each
# entry of MAP_FILES whose file (inode INODE on device DEV, st_dev in
# decimal, of a file system of type FSTYPE) has N links, N >= 2, or any N, 0
# included, where MAPS prints it "(deleted)": a line of those missing was not
# counted (its mapping gone by the count, review 33's code review, 3), not
# counted none. The device too: inode numbers repeat across file systems
# (review 34 attack, F4: another tmpfs's inode 2 mapped at the range while
# the count ran); and the type, as btrfs's st_dev (its subvolume's) is never
# the device the maps print (its superblock's). The type by statfs through
# the same link (find's %F looks the device up among this namespace's
# mounts: "unknown" for btrfs, and for a mount of the target's own), the
# first word of it ("UNKNOWN" for a type stat does not name). MAPS pads
# addresses to 8 digits, map_files does not (0fff0000-… is fff0000-…): both
# are compared without leading zeros.
om_link_counts() {
  local counts
  counts=$(find -L "$1" -mindepth 1 -maxdepth 1 -printf '%f %n %i %D\n' 2> /dev/null |
    LC_ALL=C awk 'function bare(range, parts) { split(range, parts, "-"); sub(/^0+/, "", parts[1]); sub(/^0+/, "", parts[2]); return parts[1] "-" parts[2] }
      NR == FNR { if (/ \(deleted\)$/) deleted[bare($1)] = 1; next }
      $1 ~ /^[0-9a-f]+-[0-9a-f]+$/ && ($2 >= 2 || (bare($1) in deleted))' "$2" -)
  [[ -n $counts ]] || return 0
  printf '%s\n' "$counts" | LC_ALL=C awk -v dir="$1" '{ print dir "/" $1 }' | xargs -r -d '\n' stat -f -L -c '%n %T' -- 2> /dev/null |
    LC_ALL=C awk 'NR == FNR { name = $1; sub(/.*\//, "", name); type[name] = $2; next }
      { print $0 " " (($1 in type) ? type[$1] : "unknown") }' - <(printf '%s\n' "$counts")
}

# om_dontfork_ranges SMAPS -> the START-END of each mapping whose VmFlags hold "dc".
om_dontfork_ranges() {
  LC_ALL=C awk '/^[0-9a-f]+-[0-9a-f]+ / { range = $1; next } /^VmFlags:/ { for (i = 2; i <= NF; i++) if ($i == "dc") { print range; break } }' "$1"
}

# om_note_linked PID SNAPSHOT [DEADLINE] -> SNAPSHOT's twin (maps-end.txt: maps-end.linked,
# maps-end.N.txt: maps-end.N.linked): the ranges, as SNAPSHOT prints them, of
# its lines that end in " (deleted)" because their file's name does. The
# kernel puts " (deleted)" after the name of an unlinked file, and any user
# can name a file "seg (deleted)": mapped, it prints as a deleted seg does,
# and the analysis took it for a leak (review 26, F2). The name as printed,
# suffix and all, tells them apart (om_linked_ranges), asked right after the
# read: a file unlinked never gets its link back. No twin when there is no
# such line, or when the stats did not end within OM_LINKED_SECONDS (a file
# system that hangs), after which no other snapshot asks: every such line
# then reads as deleted, as before.
OM_LINKED_SECONDS=10
OM_LINKED_STUCK=0
OM_LINKED_OTHERS_SECONDS=5 # the most om_note_linked may take over all maps-end.N.txt together
OM_LINKED_SKIPPED=0
om_note_linked() {
  local twin=${2%.txt}.linked work=$OM_D/.linked.$BASHPID ranges='' status
  if [[ -e $twin || -L $twin ]]; then om_retry rm -f -- "$twin" || return 0; fi
  ((OM_LINKED_STUCK)) || [[ ${OM_SNAP_DELETED:-} == 0 ]] && return 0
  # A deadline (DEADLINE, $EPOCHREALTIME's microseconds) for the others' snapshots together: each ask
  # takes 50 ms at least, and after a library upgrade every one of 1,000 workers maps a deleted file.
  if [[ -n ${3:-} ]] && ((${EPOCHREALTIME//[.,]/} > $3)); then OM_LINKED_SKIPPED=$((OM_LINKED_SKIPPED + 1)); return 0; fi
  om_live_dir "$1"
  om_bounded "$OM_LINKED_SECONDS" ranges om_linked_ranges "$2" "$OM_LIVE_DIR" "$work"
  status=$?
  rm -f -- "$work" "$work.stat"
  if ((status == 124)); then
    # A stop asked for cuts this one short, not the asks at the end (the tracer gone, om_finish asks again): only a stat
    # that hung stops them all (review 33: a Ctrl-C at the start left maps-end.txt's lines unasked).
    if [[ -n $OM_STOP_REASON ]] && ((!OM_STOPPED)); then
      om_log "maps: whether lines of ${2##*/} that print \" (deleted)\" name files called so was not asked: a stop was asked for (such lines read as deleted files)"
      return 0
    fi
    OM_LINKED_STUCK=1
    om_log "maps: whether lines that print \" (deleted)\" name files called so was not asked from ${2##*/} on: a stat did not answer within $OM_LINKED_SECONDS s (such lines read as deleted files)"
    return 0
  fi
  [[ -n $ranges ]] || return 0
  { printf '%s\n' "$ranges" > "$twin"; } 2>/dev/null || OM_WRITE_FAILED+=" ${twin##*/}"
}

# om_linked_ranges SNAPSHOT DIR WORK -> om_note_linked's ranges: each line of
# SNAPSHOT ending in " (deleted)" whose printed name, " (deleted)" and all,
# is the mapped file itself: an lstat of it gives the line's device and
# inode, and a link. Not followed (lstat): a symlink of that name is no file
# named so. A file unlinked but linked by another name prints " (deleted)"
# too; its printed name reaches nothing, or another file, so it reads as
# deleted, as a file whose name went does. WORK: a scratch file (and
# WORK.stat). One stat process for all lines: a leaking broker has tens of
# thousands.
om_linked_ranges() {
  local LC_ALL=C
  # "7f00-7f10 r--s 00000000 fe:00 1234     /d/seg (deleted)": fields 1, 4
  # and 5 never hold a space; the name follows the padding, to the line's end
  # (the kernel prints a newline in it as \012).
  # The name is the capture's spelling (d_path from its own root: a chrooted
  # target's file prints its whole host path), or, for a target in another
  # mount namespace, one from that namespace's root: each is asked, and
  # either that reaches the mapped file counts (review 29).
  awk -v root="$2/root" 'substr($0, length($0) - 9) == " (deleted)" && $5 != "0" {
      name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ +/, "", name)
      if (substr(name, 1, 1) == "/") { print $1, $4, $5, name; print $1, $4, $5, root name } }' "$1" > "$3" || return 1
  [[ -s $3 ]] || return 0
  # Each name once (a file mapped 3,000 times is one stat, not 3,000: review 29
  # made that quadratic). A name that reaches nothing: stat says so and goes on.
  awk '{ sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); if (!seen[$0]++) print }' "$3" | tr '\n' '\0' | xargs -0 -r stat -c '%h %D %i %n' -- > "$3.stat" 2> /dev/null
  # stat prints st_dev in hex; the maps line MAJOR:MINOR, made into one as glibc's makedev does.
  awk 'function hex(s,   i, n) { n = 0; for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return n }
    function dev(mm,   p, ma, mi) { split(mm, p, ":"); ma = hex(p[1]); mi = hex(p[2]); return (mi % 256) + (ma % 4096) * 256 + int(mi / 256) * 1048576 + int(ma / 4096) * 4096 * 4294967296 }
    function rest(line) { sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", line); return line }
    NR == FNR { n = rest($0); k = ++count[n]; range[n, k] = $1; key[n, k] = $2 " " $3; next }
    $1 > 0 && (n = rest($0)) in count {
      for (k = 1; k <= count[n]; k++) { split(key[n, k], f, " "); if (hex($2) == dev(f[1]) && $3 == f[2]) print range[n, k] }
      delete count[n]
    }' "$3" "$3.stat"
}

# om_copy_upto FROM TO MAX -> a new file TO with FROM's content; status 3,
# and no TO, when FROM holds more than MAX bytes (at most MAX + 1 are read).
# OM_SNAP_BYTES: TO's size; OM_SNAP_DELETED: 0 when it was copied here and no
# line ends in " (deleted)" (om_note_linked then has nothing to ask). Up to
# 1,024 lines are copied by builtins: a process or three per file (head,
# stat, mv) made 1,000 snapshots take 16 s on a loaded host. Longer files go
# through head, which reads them faster.
om_copy_upto() {
  local LC_ALL=C lines=() text=''
  OM_SNAP_BYTES='' OM_SNAP_DELETED=''
  { mapfile -n 1025 lines < "$1"; } 2>/dev/null || return 1
  if ((${#lines[@]} > 1024)); then
    om_retry om_copy "$1" "$2" $(($3 + 1)) || return 1
    om_fits "$2" "$3" && return 0
    om_retry rm -f -- "$2"
    return 3
  fi
  printf -v text '%s' "${lines[@]}"
  OM_SNAP_BYTES=${#text}
  if [[ $text == *' (deleted)'$'\n'* ]]; then OM_SNAP_DELETED=1; else OM_SNAP_DELETED=0; fi
  ((OM_SNAP_BYTES <= $3)) || return 3
  if [[ -e $2 || -L $2 ]]; then om_retry rm -f -- "$2" || return 1; fi
  { printf '%s' "$text" > "$2"; } 2>/dev/null
}

# om_fits FILE MAX -> true when FILE holds at most MAX bytes; OM_SNAP_BYTES=its size.
om_fits() {
  local size=''
  om_out size stat -c %s -- "$1" 2>/dev/null
  [[ $size =~ ^[0-9]+$ ]] || return 1
  OM_SNAP_BYTES=$size
  ((size <= $2))
}

# om_snapshot_others TREE -> maps-end.N.txt, by om_snapshot_maps, for each
# process N of TREE ("pid:starttime " entries, as om_tree_of and
# om_tracees_of give them) other than the target that is still that very
# process: the traced processes alive at the end besides the target (a
# server's workers, a launched wrapper's program). Once per capture. The
# target decides how many there are and how big their maps are (one can be
# 1 GB), so at most OM_MAX_END_PROCESSES files and OM_MAX_END_BYTES bytes of
# them together are taken, and none more once a stop is asked for meanwhile
# (OM_END_CUT); a log line says how many were left out and why. A process
# that ends while it is read leaves no file: alive at the end is what the
# file says, and its pid could name another process by then.
om_snapshot_others() {
  local entries=() pid st i count=0 bytes=0 left=0 over=0 status stage=$OM_D/.maps-end staged=0
  local linked_until=$((${EPOCHREALTIME//[.,]/} + OM_LINKED_OTHERS_SECONDS * 1000000))
  local -A seen=()
  ((OM_OTHERS_DONE)) && return 0
  OM_OTHERS_DONE=1
  # "pid:starttime" words: digits and a colon, which neither split nor glob.
  entries=($1)
  for ((i = 0; i < ${#entries[@]}; i++)); do
    [[ -z $OM_END_CUT ]] || break
    pid=${entries[i]%%:*} st=${entries[i]##*:}
    [[ $pid =~ ^[1-9][0-9]*$ && $pid != "$OM_PID" && -z ${seen[$pid]:-} ]] || continue
    seen[$pid]=1
    om_alive "$pid" "$st" || continue
    if ((count >= OM_MAX_END_PROCESSES)); then left=$((left + 1)); continue; fi
    # Past the byte budget: counted, never read.
    if ((over)); then over=$((over + 1)); continue; fi
    # Made for the first file only: with no other process, nothing is written (a full disk has nothing to say of it).
    if ((!staged)); then
      om_stage_open "$stage" || { OM_WRITE_FAILED+=' maps-end.N.txt'; break; }
      staged=1
    fi
    om_snapshot_maps "$pid" "$stage/maps-end.$pid.txt" $((OM_MAX_END_BYTES - bytes))
    status=$?
    if ((status == 2)); then OM_WRITE_FAILED+=" maps-end.$pid.txt"; continue; fi
    if ((status == 3)); then over=1; continue; fi
    ((status == 0)) || continue
    if om_alive "$pid" "$st"; then
      count=$((count + 1)) bytes=$((bytes + OM_SNAP_BYTES))
      om_note_linked "$pid" "$stage/maps-end.$pid.txt" "$linked_until"
    else
      om_retry rm -f -- "$stage/maps-end.$pid.txt"
    fi
  done
  # maps-end.N.txt and their twins (om_note_linked).
  ((count == 0)) || om_retry mv -f -t "$OM_D" -- "$stage"/maps-end.* || OM_WRITE_FAILED+=' maps-end.N.txt'
  ((!staged)) || om_retry rm -rf -- "$stage"
  ((OM_LINKED_SKIPPED == 0)) || om_log "maps at the end: whether lines that print \" (deleted)\" name files called so was not asked for $OM_LINKED_SKIPPED traced process(es) past the first ${OM_LINKED_OTHERS_SECONDS} s of asking (such lines read as deleted files)"
  om_note_others_left "$left" "$over" "$bytes" $((${#entries[@]} - i))
}

# om_stage_open DIR -> a new, empty DIR in the bundle for om_snapshot_others:
# each maps-end.N.txt is written there, then all are renamed into the bundle
# at once (a rename each, a process each, made 1,000 of them take 11 s on a
# loaded host), so that the bundle never holds a partial one. One left by a
# script that died is removed first (the watchdog takes the snapshots again).
om_stage_open() {
  if [[ -e $1 || -L $1 ]]; then om_retry rm -rf -- "$1"; fi
  om_retry mkdir -m 0700 -- "$1" 2>/dev/null
}

# om_note_others_left LEFT OVER BYTES UNREAD -> the log lines of
# om_snapshot_others: LEFT processes beyond the count, OVER beyond the byte
# budget (BYTES taken), UNREAD entries not looked at once a stop was asked for.
om_note_others_left() {
  local why='no maps-end.N.txt for them: their deleted files'"'"' mappings are not checked'
  (($1 == 0)) || om_log "maps at the end: $1 more traced process(es) alive beyond the first $OM_MAX_END_PROCESSES left out ($why)"
  (($2 == 0)) || om_log "maps at the end: $2 more traced process(es) alive left out: their maps-end.N.txt files would have passed $((OM_MAX_END_BYTES / 1048576)) MiB together ($3 bytes taken) ($why)"
  [[ -n $OM_END_CUT ]] && (($4 > 0)) && om_log "maps at the end: a stop was asked for (SIGINT, SIGTERM or SIGHUP) while they were taken: $4 more listed process(es) left out ($why)"
  return 0
}

# om_others_now -> om_snapshot_others for the target's descendants and, for
# strace while it runs, every process it traces (bpftrace, the target gone:
# those the trace shows forked and never ending), and (--pid) the processes
# that were its descendants at the attach, untraced, wherever they are now:
# they may hold what it mapped, and outlive it (review 59, M5: a child that
# mapped a file the traced target then removed, the target gone first: no
# maps-end.N.txt, and the leak read clean, exit 0). The descendants are
# listed up to twice as many as are taken, enough to tell how many more there are.
om_others_now() {
  local tree=''
  ((OM_OTHERS_DONE)) && return 0
  [[ -n $OM_PID ]] || return 0
  # Only while the target is that very process: a pid reused since would lead to another's descendants.
  if om_running "$OM_PID" "$OM_PID_ST"; then
    om_tree_of "$OM_PID" $((2 * OM_MAX_END_PROCESSES)) OM_END_CUT
    tree=$OM_TREE
    if [[ -n $OM_TREE_CUT && -z $OM_END_CUT ]]; then
      om_log "maps at the end: pid $OM_PID's descendants were listed only in part ($OM_TREE_CUT): those not listed are left out (no maps-end.N.txt for them: their deleted files' mappings are not checked)"
    fi
  fi
  if [[ $OM_BACKEND == strace && -n ${OM_TRACER_PID:-} ]] && om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; then
    om_tracees_of "$OM_TRACER_PID" OM_END_CUT
    tree+=$OM_TREE
  elif [[ $OM_BACKEND == bpftrace && -z $tree ]] && declare -F om_backend_tracees > /dev/null; then
    # The target gone (no tree listed), what the trace shows it forked may live on, reparented: bpftrace lists no
    # tracee, the trace does.
    om_backend_tracees
    tree+=$OM_TREE
  fi
  # The children at the attach that are not among them (listed once: the count of those left out counts each once).
  local entry
  for entry in $OM_CHILDREN_AT_ATTACH_TREE; do
    [[ " $tree " == *" ${entry%%:*}:"* ]] || tree+=" $entry"
  done
  om_snapshot_others "$tree"
}

# om_with_late_stop COMMAND ARG... -> runs COMMAND with SIGINT, SIGTERM and
# SIGHUP setting OM_END_CUT, then ignores them again. Once a stop is under
# way they are ignored (om_on_signal), but the end snapshots it takes can
# last (a forking target: 1,000 maps files): a Ctrl-C, or orphanmap's
# SIGTERM, now cuts them short instead of going unheard (review 7). Called
# only where they are ignored. Every helper runs through om_retry or om_out
# meanwhile, which keep it ignoring them (om_immune, OM_LATE).
om_with_late_stop() {
  OM_LATE=1
  trap 'OM_END_CUT=signal' INT TERM HUP
  "$@"
  trap '' INT TERM HUP
  OM_LATE=0
}

# om_end_snapshots -> maps-end.txt of the target, then the others'
# (om_others_now), a stop asked for meanwhile cutting the others short.
om_end_snapshots() { om_with_late_stop om_end_snapshots_now; }
om_end_snapshots_now() {
  om_snapshot_maps "$OM_PID" "$OM_D/maps-end.txt"
  case $? in
    0)
      om_note_linked "$OM_PID" "$OM_D/maps-end.txt"
      om_note_nlink "$OM_PID" "$OM_D/maps-end.txt" ;;
    2) OM_WRITE_FAILED+=' maps-end.txt' ;;
  esac
  om_others_now
}

# om_copy FROM TO [MAX] -> a new file TO with FROM's content, its first MAX
# bytes with MAX (noclobber: a TO left by an earlier try is removed first).
om_copy() {
  if [[ -e $2 || -L $2 ]]; then rm -f -- "$2" || return; fi
  if [[ -n ${3:-} ]]; then
    { head -c "$3" -- "$1" > "$2"; } 2>/dev/null
  else
    { cat -- "$1" > "$2"; } 2>/dev/null
  fi
}

# om_snapshot_fds PID FILE -> "FD<TAB>TARGET" per open fd of PID, in fd
# order; status 1 if the process is gone, 2 if FILE could not be written. A
# path can hold any byte but NUL: each backslash is written as \\ and each
# newline as \n, so that a name cannot end its line and forge the next fd's.
# A fixed number of processes however many fds there are (a broker has 10^5):
# find reads every link, sed escapes, sort orders; find's complaint about an
# fd closed between its listing and its reading leaves that fd out.
om_snapshot_fds() {
  local tmp="$2.tmp" dir
  om_live_dir "$1"
  dir=$OM_LIVE_DIR
  [[ -d $dir/fd ]] || return 1
  if om_retry om_fds_to "$dir" "$tmp" && om_retry mv -f -- "$tmp" "$2"; then return 0; fi
  rm -f -- "$tmp"
  [[ -d $dir/fd ]] || return 1
  return 2
}

# om_fds_to DIR FILE [FD] -> a new FILE with the "FD<TAB>TARGET" lines of DIR/fd (/proc/PID, or a thread's: om_live_dir; see
# om_snapshot_fds), or of fd FD alone.
om_fds_to() {
  local only=()
  [[ -n ${3-} ]] && only=(-name "$3")
  rm -f -- "$2" || return
  {
    { find "$1/fd/" -mindepth 1 -maxdepth 1 "${only[@]}" -printf '%f\t%l\0' 2>/dev/null || [[ -d $1/fd ]]; } |
      LC_ALL=C sed -z 's/\\/\\\\/g; s/\n/\\n/g' | tr '\0' '\n' | LC_ALL=C sort -n > "$2"
  } 2>/dev/null
}

# om_stdin_to FILE -> a new FILE with the "FD<TAB>TARGET" line of this
# script's fd 0, as om_fds_to writes them: the stdin a launched command
# inherits (`orphanmap capture -- prog < FILE`), read before it runs. It is
# the only fd the command gets from whoever ran the capture (the tracer gets
# 0<&0; fd 1 and 2 are the capture's), and bpftrace prints no path with an
# fd: without it, the file's mmap and its unlink by name do not meet.
# Not written (a full disk): no FILE, and no FILE.tmp left in the bundle.
om_stdin_to() {
  om_fds_to "/proc/$$" "$1.tmp" 0 && mv -f -- "$1.tmp" "$1" && return 0
  om_retry rm -f -- "$1.tmp"
  return 1
}

# om_count_lines FILE -> number of lines, or nothing when FILE is missing.
om_count_lines() { [[ -f $1 ]] && wc -l < "$1" | tr -d ' '; }

# om_threads_json PID -> [{"tid":N,"tgid":PID,"comm":"…"}, …] from /proc/PID/task/*/comm,
# read without a process per thread (a JVM has thousands).
om_threads_json() {
  local sep='' task tid comm
  printf '['
  for task in /proc/"$1"/task/[0-9]*; do
    tid=${task##*/}
    comm=''
    IFS= read -r comm 2>/dev/null < "$task/comm" || [[ -n $comm ]] || continue
    printf '%s{"tid":%s,"tgid":%s,"comm":%s}' "$sep" "$tid" "$1" "$(om_json_str "$comm")"
    sep=','
  done
  printf ']'
}

# om_gone_from_start -> maps-start-gone.txt: the lines of maps-start.txt
# whose file is no longer at its name (gone, or another file there now: the
# inode differs on the same device), looked up once, right after the target
# exited. Its maps at the end cannot be read then, and a file it mapped that
# a process the trace does not follow removed (git repack under git cat-file)
# would go unseen: the trace shows neither the removal nor an munmap, only
# the exit. The analysis makes findings of those the trace shows living until
# that exit.
#
# Removed before the exit or just after it (a supervisor cleaning up after
# the worker it reaped)? The file's directory tells: when it last changed
# OM_GONE_MARGIN seconds or more before the exit was seen, every change to it,
# that removal among them, came before the exit. The others go to
# maps-start-gone-late.txt, whose mappings the analysis holds in doubt; so
# are those whose names could not be looked up (a name the kernel escaped, a
# FUSE mount root may not enter, a stale NFS handle, a directory swapped for
# a symlink loop): gone or not, the capture cannot tell (review 25); and
# those whose names lead elsewhere now, so that what answers there says
# nothing of the file: through a symlink among their directories, or to
# another device (review 26, F6: a directory swapped for a symlink to
# /dev/shm, where a file had the removed one's inode number, read as still
# there). A file is still there only when its name, by the same directories,
# reaches the same device and inode, or another name in that directory does,
# the file born before the read of maps-start.txt (om_renamed_within: renamed
# out of sight, review 82, E1). A directory gone too (rm -rf) went after
# its files: the nearest directory above it that is left changed then.
#
# Only where the target sees the files as this script does (OM_SAME_VIEW:
# the same mount namespace and root; a container's or a chroot's names mean
# other files here). One stat of all the files, one of their directories
# (a broker maps 10^5 files), each within OM_GONE_SECONDS (a mount that does
# not answer). Names the kernel escaped (a backslash: \012 for a newline) are
# not looked up (their spelling may not be the name): in doubt.
#
# The lookup runs in a child (om_bounded) that a stop request cuts short (a
# signal, --duration, orphanmap's death): it can take seconds (a 1 GB
# maps-start.txt took 9.9 s to sort, then each stat up to OM_GONE_SECONDS),
# and the script, waiting on it in the foreground, heard no stop meanwhile
# while the tracer still held what the target left running: its child stayed
# traced 15.6 s after orphanmap's SIGKILL (review 10, R10-1). Cut so, it runs
# again once the tracer is gone (the second call, after the capture's loop),
# nothing traced then: the exit's moment (OM_GONE_SEEN_S) still tells the
# removals before it from those after.
#
# A file is gone only when stat said so of its name (om_gone_lookup), never
# because its name has no answer: a file system filled for a moment (another
# user's, shared with the bundle) cut the temporary list of names, and every
# name cut from it read as gone: 4,249 of 5,000 files still at their names in
# maps-start-gone.txt, in a bundle that said "complete": true (review 10,
# R10-2). A lookup that failed, or was cut short, writes neither file, which
# the analysis reads as nothing found: a log line says so, and one that could
# not write its files counts as a bundle file not written.
OM_GONE_SECONDS=10
OM_GONE_MARGIN=1
OM_GONE_CHECKED=0
OM_GONE_SEEN_S=''      # when the target was first seen gone (epoch seconds, to the microsecond)
OM_SAME_VIEW=0
OM_CHILDREN_AT_ATTACH=''  # --pid: the target's descendants at the attach, untraced ("pid,pid"; om_tree_of)
OM_CHILDREN_AT_ATTACH_TREE=''  # the same as "pid:starttime " entries, for their maps at the end (om_others_now)
OM_CHILDREN_BEFORE_TREE=''  # --pid: the target and its descendants before the tracer started ("pid:starttime "; om_tree_of)
OM_WATCHDOG_PID='' OM_WATCHDOG_ST=''  # the watchdog this script started (om_watchdog), ended once the bundle is finished
OM_MAX_CHILDREN_NAMED=100
OM_VIEW_UNREAD=1       # 0 once the target's mount namespace was read: meta.json's sameView is null until then (review 31, F3)
om_gone_from_start() {
  local stage=$OM_D/.maps-start-gone status v
  ((OM_GONE_CHECKED)) && return 0
  OM_GONE_CHECKED=1
  [[ -s $OM_D/maps-start.txt && ! -e $OM_D/maps-end.txt ]] || return 0
  if ((OM_VIEW_UNREAD)); then
    om_log "maps-start-gone.txt left out: pid $OM_PID's mount namespace was not read (it was gone, or the capture stopped first), so whether its file names mean here what they meant to it is not known"
    return 0
  elif ((!OM_SAME_VIEW)); then
    om_log "maps-start-gone.txt left out: pid $OM_PID sees another mount namespace or root than the capture, so its file names cannot be looked up here"
    return 0
  fi
  if [[ -z $OM_GONE_SEEN_S ]]; then
    # In fractions of a second, as the directories' times below: whole seconds made the 1 s margin
    # anything from 1 to 2 s, and a removal 1.6 s before the exit read as one about it (review 23, D11).
    OM_GONE_SEEN_S=${EPOCHREALTIME/,/.}
    [[ $OM_GONE_SEEN_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || om_out OM_GONE_SEEN_S date +%s.%N
  fi
  # Its two stats within OM_GONE_SECONDS each, the list of names (9.9 s for 1 GB) within as much, and the
  # directories of names gone listed within half as much (om_renamed_within).
  om_bounded $((4 * OM_GONE_SECONDS)) v om_gone_lookup "$stage" "$OM_GONE_SEEN_S"
  status=$?
  if ((status == 124)) && [[ -n $OM_STOP_REASON ]] && ((!OM_STOPPED)) && om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; then
    # Cut by a stop: again once the tracer has let go.
    rm -f -- "$stage" "$stage".*
    OM_GONE_CHECKED=0
    return 0
  fi
  case $status in
    0)
      [[ ! -s $stage ]] || om_retry mv -f -- "$stage" "$OM_D/maps-start-gone.txt" || OM_WRITE_FAILED+=' maps-start-gone.txt'
      [[ ! -s $stage.late ]] || om_retry mv -f -- "$stage.late" "$OM_D/maps-start-gone-late.txt" || OM_WRITE_FAILED+=' maps-start-gone-late.txt' ;;
    2)
      OM_WRITE_FAILED+=' maps-start-gone.txt'
      om_log "maps-start-gone.txt left out: the lookup of the files of maps-start.txt could not write its lists into $OM_OUT (is its file system full?)" ;;
    4) om_log "maps-start-gone.txt left out: the lookup of the files of maps-start.txt did not answer for every name" ;;
    *) om_log "maps-start-gone.txt left out: looking up the files of maps-start.txt failed or took over $OM_GONE_SECONDS s" ;;
  esac
  rm -f -- "$stage" "$stage".*
  return 0
}

# Awk functions of both capture scripts' om_backend_mapped_names, put before
# their own: a path as the engine spells it, with no "." or ".." component and
# no trailing "/" ("/d/./b/" is "/d/b": code review 63, F3); the directory a
# path is in; and directories as a tree (node 0 is "/", child[node, component]
# its children, up[] and comp[] the way back), so that a rename of a directory
# moves one node, whatever lies under it (code review 63, F6: a chain of 200
# renames of a directory of 20,000 mapped names moved every name at each, 21 s).
# node_of gives the node of a path (-1: none, unless create), path_of the path
# of a node ("" under a directory renamed to a name no list can hold), and
# moved(from, to, exchange) the rename of a directory from "from" to "to"
# (each to where the other was, with exchange; to "" when the new name cannot
# be spelled). Each is linear in the length of a name: a target that maps
# thousands of names 2,000 directories deep must not hold the lookup past its
# bound (review 66, A-3: 15,000 such names took 15 s of awk alone).
# shellcheck disable=SC2016
OM_AWK_PATHS='
    function normal(name,  parts, n, i, out, depth, kept) {
      if (!index(name "/", "//") && !index(name "/", "/./") && !index(name "/", "/../")) return name
      n = split(name, parts, "/")
      depth = 0
      for (i = 2; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (depth > 0) depth--; continue }
        kept[++depth] = parts[i]
      }
      if (depth == 0) return "/"
      # Joined in halves, not one component at a time: each join copies what it joins once per level.
      return joined(kept, 1, depth)
    }
    function joined(part, from, to,  middle) {
      if (from == to) return "/" part[from]
      middle = int((from + to) / 2)
      return joined(part, from, middle) joined(part, middle + 1, to)
    }
    function parent(name,  at) {
      for (at = length(name); at > 1; at--) if (substr(name, at, 1) == "/") return substr(name, 1, at - 1)
      return ""
    }
    # Kept by path until the next move: mapped names share a few directories, and a deep one costs a lookup a component.
    function node_of(path, create,  parts, n, i, at, made) {
      if ((path in node_at) && node_moves[path] == moves) return node_at[path]
      n = split(path, parts, "/")
      at = 0
      for (i = 2; i <= n; i++) {
        if (parts[i] == "") continue
        if ((at, parts[i]) in child) { at = child[at, parts[i]]; continue }
        if (!create) return -1
        made = ++nodes
        child[at, parts[i]] = made
        up[made] = at
        comp[made] = parts[i]
        at = made
      }
      node_at[path] = at
      node_moves[path] = moves
      return at
    }
    # Once every move is made (the END rule): the path of each node is kept, so a deep tree costs the length of its names.
    function path_of(node,  n, chain, i, at, above) {
      if (node == 0) return ""
      n = 0
      for (at = node; at != 0 && !(at in path_at); at = up[at]) chain[++n] = at
      for (i = n; i >= 1; i--) {
        at = chain[i]
        above = up[at] == 0 ? "" : path_at[up[at]]
        path_at[at] = (at in lost) || (up[at] != 0 && above == "") ? "" : above "/" comp[at]
      }
      return path_at[node]
    }
    function moved(from, to, exchange,  a, b, to_dir, from_dir) {
      a = under(from)
      b = exchange && to != "" ? under(to) : -1
      if (a <= 0 && b <= 0) return
      moves++
      if (a > 0) delete child[up[a], comp[a]]
      if (b > 0) delete child[up[b], comp[b]]
      if (to == "") { lost[a] = 1; return }
      to_dir = parent(to)
      from_dir = parent(from)
      if (a > 0) attach(a, node_of(to_dir, 1), substr(to, length(to_dir) + 2))
      if (b > 0) attach(b, node_of(from_dir, 1), substr(from, length(from_dir) + 2))
    }
    function attach(node, dir, name) {
      child[dir, name] = node
      up[node] = dir
      comp[node] = name
    }
    # The node of a path, through the node of its directory (kept), or -1.
    function under(path,  dir, at) {
      dir = parent(path)
      at = dir == "" ? 0 : node_of(dir, 0)
      if (at < 0 || !((at, substr(path, length(dir) + 2)) in child)) return -1
      return child[at, substr(path, length(dir) + 2)]
    }
'

# om_gone_mapped -> mapped-gone.txt: of the names the trace shows files
# mapped by, or renamed to since (om_backend_mapped_names), those that lead
# to no file once the trace has ended. A process the trace does not follow
# removed each, or the trace shows it removed or renamed (the engine tells
# which): a mapping of such a file still live when its process exited during
# the capture is then in doubt, which neither maps-end.txt (read only of a
# process alive at the end) nor maps-start-gone.txt (only of maps-start.txt's
# files) could tell (review 50: git cat-file mapped packs an untraced `git
# repack` removed, then exited: clean, --fail-on exit 0). A name leading to
# another file is not gone here: the file may keep another name (a hard link,
# a symlink swapped: review 52, R3). It goes into mapped-named.txt with the
# file it leads to (om_mapped_named): the engine tells a file born after a
# mapping, or of another inode than the trace's, from the one mapped (review
# 70, F1: fc-cache replaced the caches a traced program held, gdbm's
# reorganize renamed a new file over the one a reader held: clean, exit 0).
# Only where the names are ours (OM_SAME_VIEW; a launched command's are).
# Nothing is written when no name is gone, or none leads to a file.
om_gone_mapped() {
  local stage=$OM_D/.mapped-gone v status
  [[ -s $OM_D/trace.txt ]] || return 0
  if ! ((OM_CMD_MODE)) && ((OM_VIEW_UNREAD || !OM_SAME_VIEW)); then
    om_log "mapped-gone.txt left out: pid $OM_PID sees another mount namespace or root than the capture (or it was not read), so the names of the files the trace shows mapped cannot be looked up here"
    return 0
  fi
  # Reading the trace (under a second for 600 MB with mawk) and the stat of its names, within 3 × OM_GONE_SECONDS.
  om_bounded $((3 * OM_GONE_SECONDS)) v om_mapped_lookup "$stage"
  status=$?
  case $status in
    0)
      [[ ! -s $stage ]] || om_retry mv -f -- "$stage" "$OM_D/mapped-gone.txt" || OM_WRITE_FAILED+=' mapped-gone.txt'
      [[ ! -s $stage.named ]] || om_retry mv -f -- "$stage.named" "$OM_D/mapped-named.txt" || OM_WRITE_FAILED+=' mapped-named.txt'
      # Said in meta.json, as the other lookups' losses: without the list, a mapped file a process the trace does not
      # follow replaced at its name reads clean (review 73, F3: realpath took a minute for names 1,900 directories deep).
      if [[ -e $stage.named-failed ]]; then
        OM_MAPPED_UNCHECKED="which file each name the trace shows mapped leads to could not be looked up (a step failed or took over $OM_GONE_SECONDS s)"
        om_log "mapped-named.txt left out: $OM_MAPPED_UNCHECKED"
      fi
      # The names the trace gave mapped files that no list can hold (a control character), or that cannot be spelled
      # whole (bpftrace: a relative name whose real path is not known): said in meta.json.
      v=''
      [[ ! -s $stage.unchecked ]] || read -r v < "$stage.unchecked" 2>/dev/null
      if [[ $v =~ ^[1-9][0-9]*$ ]]; then
        v="$v names the trace gave mapped files were not looked up (a control character, which no list can hold, or a relative name whose real path is not known)"
        OM_MAPPED_UNCHECKED="${OM_MAPPED_UNCHECKED:+$OM_MAPPED_UNCHECKED; }$v"
        om_log "mapped-gone.txt: $v"
      fi ;;
    2)
      OM_WRITE_FAILED+=' mapped-gone.txt'
      om_log "mapped-gone.txt left out: the lookup of the files the trace shows mapped could not write its lists into $OM_OUT (is its file system full?)" ;;
    *)
      # Said in meta.json too: without the list, a mapped file an untraced process removed reads clean (review 66, A-3).
      OM_MAPPED_UNCHECKED="reading the trace or looking up the files it shows mapped failed or took over $((3 * OM_GONE_SECONDS)) s"
      om_log "mapped-gone.txt left out: $OM_MAPPED_UNCHECKED" ;;
  esac
  rm -f -- "$stage" "$stage".*
  return 0
}

# om_mapped_lookup STAGE -> STAGE: the names om_gone_mapped keeps, one a
# line, and STAGE.named: stat's answer for each of the others; status 0, 2
# when a list could not be written whole, 3 when a step failed. As
# om_gone_lookup: stat's answers and complaints one line a name, a name
# absent only when stat said so of the name as it was given.
om_mapped_lookup() {
  local stage=$1 statuses
  {
    OM_UNCHECKED_FILE=$stage.unchecked om_backend_mapped_names | LC_ALL=C sort -u > "$stage.names"
    statuses=${PIPESTATUS[*]}
    [[ $statuses == '0 0' ]] || return 3
    [[ -s $stage.names ]] || return 0
    # -L: a name an open gave may be a symlink's (ld.so opens libz.so.1): gone only when it leads nowhere.
    LC_ALL=C.UTF-8 timeout -k 1 "$OM_GONE_SECONDS" xargs -d '\n' -r stat -L --printf '%.9W %d %i %n\n' -- < "$stage.names" 2>&1 | cat > "$stage.answers"
    statuses=${PIPESTATUS[*]}
    [[ $statuses =~ ^(0|123)\ 0$ ]] || { [[ $statuses == *\ 0 ]] && return 3; return 2; }
    # The names that lead to a file, with that file: "BIRTH DEVICE INODE NAME".
    LC_ALL=C awk '/^[0-9]+([.][0-9]+)? [0-9]+ [0-9]+ \// && !seen[$0]++' "$stage.answers" > "$stage.led" || return 2
    # A name stat quotes with single quotes, or (one holding a single quote, review 53, S9) with double quotes and no
    # backslash; one quoted otherwise is never read as absent.
    # shellcheck disable=SC2016
    LC_ALL=C awk -v q="'" '
      BEGIN {
        tail = ": (No such file or directory|Not a directory)$"
        single = "^stat: cannot statx? " q "[^" q "]*" q tail
        double = "^stat: cannot statx? \"[^\"\\\\]*\"" tail
      }
      $0 ~ single { name = substr($0, index($0, q) + 1); print substr(name, 1, index(name, q) - 1); next }
      $0 ~ double { name = substr($0, index($0, "\"") + 1); print substr(name, 1, index(name, "\"") - 1) }' "$stage.answers" | LC_ALL=C sort -u > "$stage"
    statuses=${PIPESTATUS[*]}
    [[ $statuses == '0 0' ]] || return 2
    # Last: the list of names gone is whole by then.
    om_mapped_named "$stage" || { rm -f -- "$stage.named"; : > "$stage.named-failed"; }
  } 2>/dev/null
}

# om_mapped_named STAGE -> STAGE.named: the names in STAGE.led ("BIRTH
# DEVICE INODE NAME") as "BIRTH DEVICE INODE FSTYPE DIRECT NAME" (FSTYPE: the
# file system's magic number in hex, as stat -f prints it; DIRECT: 1 when the
# name reaches its file through no symbolic link, else 0); false when a step
# failed. A name through a link says nothing of the file mapped: the link may
# have been repointed to another file while the mapped one kept its name
# (code review 71, F2: a deploy's current -> releases/v2); it still tells
# which file a name the trace shows made leads to (review 73, F1: an atomic
# save through a symlinked directory). Which file systems keep a birth or an
# inode number the engine can trust is the engine's to decide (code review
# 71, F3: overlayfs gives a file copied up a new birth, the same inode).
om_mapped_named() {
  local stage=$1 statuses
  [[ -s $stage.led ]] || return 0
  LC_ALL=C cut -d ' ' -f 4- "$stage.led" > "$stage.led-names" || return 1
  # realpath -m answers every name in order, one a line (the names hold no control character), whether or not it
  # is still there. stat -f names each name it answers: one gone since the stat above (sqlite removes its -shm file
  # as it ends) is not there, and that name alone is left out (review 74, F7: the whole list dropped, at random).
  LC_ALL=C.UTF-8 timeout -k 1 "$OM_GONE_SECONDS" xargs -d '\n' -r realpath -m -- < "$stage.led-names" 2> /dev/null | cat > "$stage.led-real"
  statuses=${PIPESTATUS[*]}
  [[ $statuses == '0 0' ]] || return 1
  LC_ALL=C.UTF-8 timeout -k 1 "$OM_GONE_SECONDS" xargs -d '\n' -r stat -f -L --printf '%t %n\n' -- < "$stage.led-names" 2> /dev/null | cat > "$stage.led-fs"
  statuses=${PIPESTATUS[*]}
  [[ $statuses =~ ^(0|123)\ 0$ ]] || return 1
  (($(wc -l < "$stage.led") == $(wc -l < "$stage.led-real"))) || return 1
  # The list's path through the environment: awk -v would take a backslash in it (the bundle's name) for an escape.
  LC_ALL=C paste -d '\t' "$stage.led" "$stage.led-real" | OM_TYPES=$stage.led-fs LC_ALL=C awk -F '\t' '
    BEGIN {
      types = ENVIRON["OM_TYPES"]
      while ((getline line < types) > 0) {
        if (line !~ /^[0-9a-f]+ \//) { bad = 1; exit }
        type[substr(line, index(line, " ") + 1)] = substr(line, 1, index(line, " ") - 1)
      }
    }
    NF != 2 { bad = 1; exit }
    {
      split($1, f, " ")
      name = substr($1, length(f[1]) + length(f[2]) + length(f[3]) + 4)
      if (name in type) print f[1] " " f[2] " " f[3] " " type[name] " " (name == $2 ? 1 : 0) " " name
    }
    END { exit bad }' > "$stage.named"
  statuses=${PIPESTATUS[*]}
  [[ $statuses == '0 0' ]]
}

# om_renamed_within STAGE START -> STAGE.moved: for each directory of a name of
# START (maps-start.txt) that STAGE.answers shows gone or leading to another
# file, a line "D DIR", then "DEVICE INODE LINKS BIRTH MODE" of each name in
# it (stat: %d %i %h %.9W %f), so that om_gone_lookup can tell a file renamed
# within its directory out of sight (review 82, E1) from one removed. Names
# are not printed: one may hold a newline, and only the file matters. Not a
# directory with a symlink on its way now (STAGE.dirs: what answers there is
# another directory's; om_gone_lookup holds such names in doubt), nor more
# than OM_GONE_SECONDS / 2 in all, each directory within 2 s (a /dev/shm of
# 10^5 files, a FUSE mount that does not answer): a directory not listed, or
# listed in part, leaves its files looked at as before (gone), as does a
# bundle with no time of the read of maps-start.txt, or a capture during
# which the realtime clock went back against the boot clock (an NTP step, a
# VM's clock set right): a file made after the read would then pass for one
# born before it (code review 89, L2).
om_renamed_within() {
  local stage=$1 start=$2 dir deadline
  : >| "$stage.moved" || return 0
  [[ $OM_START_MAPS_EPOCH =~ ^[0-9]+[.,][0-9]{6}$ && $OM_START_MAPS_UPTIME =~ ^[0-9]+$ ]] || return 0
  local now_cs
  om_uptime_cs now_cs
  [[ -n $now_cs ]] || return 0
  local boot_us=$(((now_cs - OM_START_MAPS_UPTIME) * 10000))
  local real_us=$((${EPOCHREALTIME//[.,]/} - 10#${OM_START_MAPS_EPOCH//[.,]/}))
  # Half a second for /proc/uptime's hundredths and the two reads' distance.
  ((real_us >= boot_us - 500000)) || return 0
  # shellcheck disable=SC2016
  LC_ALL=C awk '
    FILENAME == ARGV[1] { if (match($0, /^[0-9]+ [0-9]+ [0-9]+ \//)) inode[substr($0, RLENGTH)] = $2 ""; next }
    # "CHANGED MODE /dir" (om_gone_lookup): a symlink mode in hex starts with a.
    FILENAME == ARGV[2] { if (match($0, /^[^ ]+ [0-9a-f]+ \//) && $2 ~ /^a...$/) link[substr($0, RLENGTH)] = 1; next }
    match($0, /^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [0-9]+ +/) {
      path = substr($0, RLENGTH + 1)
      if ($5 == 0 || path !~ /^\// || path ~ / \(deleted\)$/ || index(path, "\\")) next
      if ((path in inode) && inode[path] == $5 "") next
      dir = path; sub(/\/[^\/]*$/, "", dir); if (dir == "") dir = "/"
      if (dir in listed) next
      listed[dir]
      up = dir
      while (up != "") { if (up in link) next; sub(/\/[^\/]*$/, "", up) }
      print dir
    }' "$stage.answers" "$stage.dirs" "$start" >| "$stage.movedirs" || return 0
  [[ -s $stage.movedirs ]] || return 0
  deadline=$((${EPOCHREALTIME//[.,]/} + OM_GONE_SECONDS * 500000))
  {
    while IFS= read -r dir; do
      ((${EPOCHREALTIME//[.,]/} < deadline)) || break
      printf 'D %s\n' "$dir"
      # No symlink followed (-P, and stat without -L). A line cut by the timeout lacks its mode: not read.
      timeout -k 1 2 find -P "$dir" -mindepth 1 -maxdepth 1 -exec stat --printf '%d %i %h %.9W %f\n' -- {} + 2> /dev/null
    done < "$stage.movedirs" >| "$stage.moved"
  } 2> /dev/null || : >| "$stage.moved"
  return 0
}

# om_gone_lookup STAGE SEEN_S -> STAGE (and STAGE.late): the lines of
# maps-start.txt gone before (and about or after) SEEN_S, as om_gone_from_start
# describes; status 0, or 2 when a list could not be written whole, 3 when a
# step failed or took over OM_GONE_SECONDS, 4 when a name got no answer. Its
# lists go through files in the bundle (STAGE.*), and each write of them is
# checked: stat writes through cat, whose status says whether its output was
# written whole (stat's own says 1 for a name not there and for a write
# error alike). stat's complaints go with its answers, one line a name (it
# flushes its output before each), so that every name is known to have its
# answer: "DEVICE INODE LINKS NAME", or "stat: cannot statx 'NAME': No such
# file or directory" (LC_ALL=C.UTF-8, where it is installed: names in UTF-8 are then
# quoted as they are; a name quoted otherwise, one holding a quote, is never
# read as gone).
om_gone_lookup() {
  local stage=$1 seen_s=$2 start=$OM_D/maps-start.txt statuses
  {
    # shellcheck disable=SC2016
    LC_ALL=C awk '
      match($0, /^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [0-9]+ +/) {
        path = substr($0, RLENGTH + 1)
        if ($5 != 0 && path ~ /^\// && path !~ / \(deleted\)$/ && !index(path, "\\")) print path
      }' "$start" | LC_ALL=C sort -u > "$stage.names"
    statuses=${PIPESTATUS[*]}
    [[ $statuses == '0 0' ]] || return 2
    # Its device (st_dev, decimal) with its inode: an inode number alone is no file's, a fresh tmpfs numbers
    # its inodes 1, 2, 3… and /dev/shm's can be run up to any number in seconds (review 26, F6). Its links: a
    # file with none was removed, though a name reaches it (a /proc magic link does).
    LC_ALL=C.UTF-8 timeout -k 1 "$OM_GONE_SECONDS" xargs -d '\n' -r stat --printf '%d %i %h %n\n' -- < "$stage.names" 2>&1 | cat > "$stage.answers"
    statuses=${PIPESTATUS[*]}
    [[ $statuses =~ ^(0|123)\ 0$ ]] || { [[ $statuses == *\ 0 ]] && return 3; return 2; }
    # Their directories as they are, and the directories above them: of each, when it last changed. A directory
    # gone too (rm -rf of it) went after its files, from the nearest one left, whose change time says when
    # (review 25: such files were left out, and a leak read as clean). The change time (%Z), not the modification
    # time, which the traced program may set to any time with utime and so move a removal past the exit (review
    # 24); utime itself sets the change time to now. And what each is now (its mode in hex, %f; stat follows no
    # last symlink): a name in maps-start.txt has none on its way (the kernel prints the path it resolved), so a
    # symlink among its directories now leads elsewhere, where a file of the same device and inode proves nothing.
    # Each directory printed once, its walk up ended at the first one printed before (whose own walk printed those
    # above it): the names of one deep directory would otherwise print its whole chain each, depth times its length.
    LC_ALL=C awk '{ while (sub(/\/[^\/]*$/, "")) { dir = ($0 == "" ? "/" : $0); if (dir in done) break; done[dir]; print dir; if ($0 == "") break } }' "$stage.names" | LC_ALL=C sort -u |
      LC_ALL=C timeout -k 1 "$OM_GONE_SECONDS" xargs -d '\n' -r stat --printf '%.9Z %f %n\n' -- 2> /dev/null | cat > "$stage.dirs"
    statuses=${PIPESTATUS[*]}
    [[ $statuses =~ ^0\ 0\ (0|123)\ 0$ ]] || { [[ $statuses =~ ^0\ 0\ [0-9]+\ 0$ ]] && return 3; return 2; }
    om_renamed_within "$stage" "$start"
    # Inodes compared as text: awk's numbers are doubles, and an overlayfs inode can pass 2^53.
    LC_ALL=C awk -v seen="$seen_s" -v margin="$OM_GONE_MARGIN" -v late="$stage.late" -v q="'" -v read_began="$OM_START_MAPS_EPOCH" '
      # st_dev as a maps line prints the device, major:minor in hex: glibc puts the major in bits 8-19 (and 44-63),
      # the minor in bits 0-7 and 20-43. (Seen alike in maps and stat on ext4, tmpfs and overlayfs under Linux 6.18;
      # older kernels printed an overlayfs file with the device of the layer below, so there its name is in doubt.)
      function major_minor(st_dev) {
        return sprintf("%02x:%02x", int(st_dev / 256) % 4096 + int(st_dev / 2^44) * 4096, st_dev % 256 + int(st_dev / 2^20) % 2^24 * 256)
      }
      # btrfs gives each subvolume a device of its own in stat, one no mount shows, where maps give the device
      # of the whole file system: a device no mount has counts as that of the btrfs in maps. Any other file
      # system a name can reach (a tmpfs, a FUSE mount its user made) is mounted, and its device shown.
      function same_device(answered, mapped) { return answered == mapped || (mapped in btrfs && !(answered in mounted)) }
      # Whether a symlink is among the directories of PATH now. Kept for each directory (up: it or one above it is a
      # symlink), so that the names of one deep directory walk its chain once between them, not once each.
      function crooked(path,  dir, n, i, chain, found) {
        dir = path; n = 0; found = 0
        do {
          sub(/\/[^\/]*$/, "", dir); if (dir == "") dir = "/"
          if (dir in up) { found = up[dir]; break }
          chain[++n] = dir
          if (dir in link) { found = 1; break }
        } while (dir != "/")
        for (i = 1; i <= n; i++) up[chain[i]] = found
        return found
      }
      # Whether the file PATH named (DEVICE, INODE) keeps another name in the same directory (a rename within
      # it: a log or a database rotated out of sight, review 82, E1: an error, exit 3, for a file never removed).
      # Only on a local file system whose renames the lookup sees as they are: an NFS client renames a file removed
      # while held open or mapped to .nfsXXXX in its directory, FUSE (libfuse) to .fuse_hidden, each kept until let go.
      function renamed(path, mapped, number,  dir, devices, n, i) {
        if (!(mapped in renames_kept)) return 0
        dir = path; sub(/\/[^\/]*$/, "", dir); if (dir == "") dir = "/"
        if (!((dir, number) in moved)) return 0
        n = split(moved[dir, number], devices, " ")
        for (i = 1; i <= n; i++) if (same_device(devices[i], mapped)) return 1
        return 0
      }
      BEGIN { before = seen - margin; born_before = (read_began == "" ? 0 : read_began - margin); said_absent = "^stat: cannot statx? " q "[^" q "]*" q ": (No such file or directory|Not a directory)$" }
      FILENAME == ARGV[1] { names++; next }
      FILENAME == ARGV[2] {
        if (match($0, /^[0-9]+ [0-9]+ [0-9]+ \//)) {
          name = substr($0, RLENGTH)
          device[name] = major_minor($1); inode[name] = $2 ""; links[name] = $3 + 0; answers++
          next
        }
        if (!/^stat: cannot statx? /) { strange++; next }
        answers++
        # The name, when stat quoted it as it is: a name holding a quote was quoted otherwise.
        if ($0 ~ said_absent) {
          name = substr($0, index($0, q) + 1)
          absent[substr(name, 1, index(name, q) - 1)] = 1
        }
        next
      }
      FILENAME == ARGV[3] {
        if (!match($0, /^[^ ]+ [0-9a-f]+ \//)) next
        name = substr($0, RLENGTH); changed[name] = $1 + 0
        # S_IFLNK, 0xa000: a symlink mode in hex starts with a.
        if ($2 ~ /^a...$/) link[name] = 1
        next
      }
      # "36 35 0:39 / /srv rw,relatime shared:1 - btrfs /dev/vdb rw": the device in decimal, the type after "-".
      FILENAME == ARGV[4] {
        split($3, number, ":"); mounted[dev = sprintf("%02x:%02x", number[1], number[2])] = 1
        for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "btrfs") btrfs[dev] = 1; if ($(i + 1) ~ /^(ext[234]|xfs|btrfs|tmpfs|f2fs)$/) renames_kept[dev] = 1; break }
        next
      }
      # "D /dir", then "DEVICE INODE LINKS BIRTH MODE" of each file in it (om_renamed_within).
      FILENAME == ARGV[5] {
        if (substr($0, 1, 2) == "D ") { listed = substr($0, 3); next }
        # A regular file (mode 8xxx in hex), linked, born a margin before the read of maps-start.txt began (file
        # times come from a coarse kernel clock, a tick behind). Both it and the mapped file lived then, on the
        # same device by the same number: the same file, renamed. One born since (ext4 gives a freed number to
        # the next file made at once: the mapped one freed at the exit) is not it, nor one of unknown birth (0).
        if (NF == 5 && $3 > 0 && $4 > 0 && $4 < born_before && $5 ~ /^8...$/) moved[listed, $2 ""] = moved[listed, $2 ""] " " major_minor($1)
        next
      }
      !checked { checked = 1; if (strange || answers != names) exit 4 }
      match($0, /^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [0-9]+ +/) {
        path = substr($0, RLENGTH + 1)
        if ($5 == 0 || path !~ /^\// || path ~ / \(deleted\)$/) next
        # A name the kernel escaped (\012 for a newline; a backslash of its own is printed as it is) was not looked
        # up, and one stat answered with another error (ELOOP, EACCES) or quoted otherwise says nothing: gone or
        # not, the capture cannot tell, so in doubt with the late ones (review 25: left out, a leak read as clean).
        if (index(path, "\\")) { print > late; next }
        # Still there only when the same device and inode answer by the same way, linked. A symlink on the way now,
        # another device, or the file with no link left: in doubt, never still there (review 26, F6: /dev/shm/x/seg
        # with the same inode number as the ext4 file removed, behind a symlinked directory, read as still there).
        # Gone: another file at its name on the same device, or stat said there is none.
        if (crooked(path)) { print > late; next }
        if (path in inode) {
          if (!same_device(device[path], $4) || (inode[path] == $5 "" && links[path] == 0)) { print > late; next }
          if (inode[path] == $5 "") next
        } else if (!(path in absent)) { print > late; next }
        if (renamed(path, $4, $5 "")) next
        dir = path
        do { sub(/\/[^\/]*$/, "", dir); if (dir == "") dir = "/" } while (!(dir in changed) && dir != "/")
        if (!(dir in changed)) { print > late; next }
        if (changed[dir] < before) print; else print > late
      }' "$stage.names" "$stage.answers" "$stage.dirs" /proc/self/mountinfo "$stage.moved" "$start" > "$stage"
    statuses=$?
    ((statuses == 4)) && return 4
    ((statuses == 0)) || return 2
  } 2>/dev/null
  return 0
}

# om_jvm_version PID -> JAVA_VERSION from the release file of the JDK whose
# bin/java the process runs; nothing when it is not a JVM. Reads files only:
# running `java -version` or attaching to the JVM would perturb the target.
# The path comes from the target's executable, so whoever owns the target
# chooses it: `release` may be a link to /proc/kmsg (a read that waits for
# the next kernel message, and takes it from syslog), a FIFO, a file on a
# FUSE mount that never answers. So it is resolved first (readlink -e), and
# read only if that is a regular file of 1 byte to 64 KiB (the files of
# /proc and tracefs that wait, such as kmsg and trace_pipe, say 0 bytes),
# opened without following a link (a swap after the check) and without
# waiting (O_NONBLOCK: a FIFO swapped in), at most 8 KiB, and, for a target
# that does not run as root, with its user's rights (setpriv), so that it
# reads nothing that user could not read. The caller runs this under
# om_bounded, which ends it after a few seconds or at a stop.
om_jvm_version() {
  local exe home release real size text line key uid gid as=()
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 0
  [[ ${exe##*/} == java ]] || return 0
  home=${exe%/bin/java}
  while read -r key uid _ && [[ $key != Uid: ]]; do :; done 2>/dev/null < "/proc/$1/status"
  while read -r key gid _ && [[ $key != Gid: ]]; do :; done 2>/dev/null < "/proc/$1/status"
  [[ $uid =~ ^[0-9]+$ && $gid =~ ^[0-9]+$ ]] || { printf 'unknown (%s)' "$exe"; return 0; }
  if ((uid != 0)); then
    # Without setpriv the file would be read as root: not read at all.
    command -v setpriv > /dev/null 2>&1 || { printf 'unknown (%s)' "$exe"; return 0; }
    as=(setpriv "--reuid=$uid" "--regid=$gid" --clear-groups --)
  fi
  for release in "$home/release" "${home%/jre}/release"; do
    real=$(readlink -e -- "$release" 2>/dev/null) || continue
    [[ -f $real && ! -L $real ]] || continue
    size=$(stat -c %s -- "$real" 2>/dev/null) || continue
    [[ $size =~ ^[0-9]+$ ]] && ((size > 0 && size <= 65536)) || break
    # (bash would warn about a NUL byte in the text.) Run as the target's user, whose processes may look into it
    # (ptrace, pidfd_getfd): nothing of the script's goes with it, not orphanmap's stderr (3), its requests (7,
    # om_take_requests) or the bundle (9) (review 37, F4).
    { text=$("${as[@]}" dd if="$real" iflag=nofollow,nonblock bs=8192 count=1 status=none 3>&- 7<&- 9<&-); } 2>/dev/null || break
    while [[ -n $text ]]; do
      line=${text%%$'\n'*}
      if [[ $line =~ ^JAVA_VERSION=\"?([^\"]*)\"?$ ]]; then
        printf '%s' "${BASH_REMATCH[1]}"
        return 0
      fi
      [[ $text == *$'\n'* ]] && text=${text#*$'\n'} || text=''
    done
    break
  done
  printf 'unknown (%s)' "$exe"
}

# om_read_process PID -> fills OM_COMM, OM_CMDLINE, OM_THREADS_JSON, OM_JVM_VERSION.
om_read_process() {
  local v args=()
  IFS= read -r v 2>/dev/null < "/proc/$1/comm" && OM_COMM=$v
  # 2>/dev/null first: redirections apply in order, and a process already gone
  # would have bash say so on our stderr.
  mapfile -t -d '' args 2>/dev/null < "/proc/$1/cmdline" && ((${#args[@]})) && OM_CMDLINE=("${args[@]}")
  # The target decides how many threads it has (a process each, ~1 ms): bounded,
  # and cut short by a stop, like everything the target controls while traced.
  om_bounded "$OM_THREADS_SECONDS" v om_threads_json "$1"
  case $? in
    0) [[ $v != '[]' ]] && OM_THREADS_JSON=$v ;;
    2)
      ((OM_THREADS_UNWRITTEN++)) || om_log "error: could not write into $OM_OUT (is its file system full?): meta.json lacks the thread list of pid $1" ;;
  esac
  om_bounded "$OM_JVM_SECONDS" v om_jvm_version "$1" && [[ -n $v ]] && OM_JVM_VERSION=$v
  return 0
}

# om_read_cwd PID -> OM_CWD=PID's working directory as the kernel spells it:
# readlink /proc/PID/cwd reads the link and never follows it (nothing on the
# target's file systems is touched, so it cannot wait), ending " (deleted)"
# when the directory was removed. Empty when it cannot be read, is not
# absolute, or is not valid UTF-8 (meta.json could not carry it unchanged, and
# a path changed is a wrong path). The target chose it: it is only ever
# written as a JSON string (om_json_str), never used as a path here.
om_readlink_x() { readlink -- "$1" 2>/dev/null && printf x; }
om_read_cwd() {
  local v
  OM_CWD=''
  # The x keeps a name's own trailing newlines from om_out, which drops them.
  om_out v om_readlink_x "/proc/$1/cwd" || return 0
  v=${v%x}
  v=${v%$'\n'}
  if [[ $v == *[![:print:]]* ]]; then
    command -v iconv >/dev/null 2>&1 || return 0
    printf '%s' "$v" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 || return 0
  fi
  [[ $v == /* ]] && OM_CWD=$v
  return 0
}

# om_meta_json -> the meta.json text from the OM_* variables. Each value is
# printed where it stands, not through a $(...): a meta.json of 30 fields took
# 30 forks, 0.2 to 0.6 s of every capture's start and end (three writes a
# capture) on a loaded machine. om_meta_field KEY PRINTER ARG... prints one
# "KEY": value line, the value by the PRINTER (om_json_str and the like).
om_meta_field() {
  local key=$1
  shift
  printf '  "%s": ' "$key"
  "$@"
  printf ',\n'
}
om_meta_raw() { printf '%s' "$1"; }
om_meta_bool() { if (($1)); then printf true; else printf false; fi; }
# om_json_first FILE -> FILE's first line (/proc/sys/...) as a JSON string,
# read by bash; om_num_first FILE -> likewise as a number, or null.
om_json_first() { local v=''; IFS= read -r v 2>/dev/null < "$1"; om_json_str "$v"; }
om_num_first() { local v=''; IFS= read -r v 2>/dev/null < "$1"; om_json_num_or_null "$v"; }
# om_json_hostname -> the host's name as a JSON string (hostname(1) where /proc does not say it).
om_json_hostname() {
  local v=''
  IFS= read -r v 2>/dev/null < /proc/sys/kernel/hostname || v=$(hostname 2>/dev/null)
  om_json_str "$v"
}
om_meta_json() {
  local attached=null same_view=true can_detach=true no_detach=''
  case $OM_ATTACHED in 1) attached=true ;; 0) attached=false ;; esac
  if ((!OM_CMD_MODE)); then
    if ((OM_VIEW_UNREAD)); then same_view=null; elif ((!OM_SAME_VIEW)); then same_view=false; fi
  else
    [[ -z $OM_NO_DETACH ]] || can_detach=false
    no_detach=$OM_NO_DETACH
  fi
  printf '{\n'
  om_meta_field schema om_json_str "$OM_SCHEMA"
  om_meta_field backend om_json_str "$OM_BACKEND"
  om_meta_field pid om_json_num_or_null "$OM_PID"
  # launched: the trace begins before the command's execve, so nothing predates it.
  if ((OM_CMD_MODE)); then om_meta_field mode om_json_str launched; else om_meta_field mode om_json_str attached; fi
  # false: the tracer never attached (-p) or never traced the command, so
  # nothing of it is in the bundle, whatever stopped the capture.
  om_meta_field attached om_meta_raw "$attached"
  om_meta_field comm om_json_str "$OM_COMM"
  om_meta_field cmdline om_json_str_array "${OM_CMDLINE[@]}"
  om_meta_field cwd om_json_str_or_null "$OM_CWD"
  # attached: whether the target saw the capture's mount namespace and root
  # (om_gone_from_start reads them); null when not read. A launched command
  # starts in the capture's, and its changes of them are in the trace.
  om_meta_field sameView om_meta_raw "$same_view"
  om_meta_field threads om_meta_raw "$OM_THREADS_JSON"
  om_meta_field childrenAtAttach om_meta_raw "[$OM_CHILDREN_AT_ATTACH]"
  # The release uname -r prints.
  om_meta_field kernel om_json_first /proc/sys/kernel/osrelease
  om_meta_field hostname om_json_hostname
  om_meta_field tracerVersion om_json_str "$OM_TRACER_VERSION"
  om_meta_field jvmVersion om_json_str_or_null "$OM_JVM_VERSION"
  om_meta_field maxMapCount om_num_first /proc/sys/vm/max_map_count
  om_meta_field mapCountStart om_json_num_or_null "$OM_MAP_COUNT_START"
  om_meta_field mapCountEnd om_json_num_or_null "$OM_MAP_COUNT_END"
  om_meta_field startTime om_json_str_or_null "$OM_START_TIME"
  om_meta_field endTime om_json_str_or_null "$OM_END_TIME"
  om_meta_field command om_json_str "$OM_COMMAND"
  om_meta_field traceFiles om_meta_raw '["trace.txt"]'
  om_meta_field lostEvents om_json_num_or_null "$OM_LOST_EVENTS"
  om_meta_field truncatedEvents om_json_num_or_null "$OM_TRUNCATED_EVENTS"
  om_meta_field stopAfterByte om_json_num_or_null "$OM_STOP_AFTER_BYTE"
  om_meta_field leftRunning om_json_num_or_null "$OM_LEFT_RUNNING"
  om_meta_field exitReason om_json_str_or_null "$OM_EXIT_REASON"
  # SIGUSR2 ends the capture and leaves the target running, untraced: always
  # for -p; for -- CMD only where the tracer can let go of its command.
  om_meta_field canDetach om_meta_raw "$can_detach"
  om_meta_field noDetachReason om_json_str_or_null "$no_detach"
  # Why names of mapped files were not looked up at the end (om_gone_mapped), or null.
  om_meta_field mappedGoneUnchecked om_json_str_or_null "$OM_MAPPED_UNCHECKED"
  # --pid: from when to when maps-start.txt was read, in seconds on the trace's clock (om_trace_clock), or null.
  om_meta_field mapsStartRead om_meta_raw "${OM_START_MAPS_READ:-null}"
  # false while the capture runs, and at the end when the trace may lack events
  # (the tracer died, the disk filled up, a bundle file could not be written).
  printf '  "complete": '
  om_meta_bool "$OM_COMPLETE"
  printf '\n}'
}

# om_write_meta -> writes meta.json into the bundle, atomically (temporary file,
# then rename); false, leaving the previous meta.json, when it cannot be written.
# Written by a subshell straight to the file: its $(...)s then run in a child
# (om_no_command_substitution), and its text (half a megabyte with a long
# argv) is not read back through om_out, whose `read` takes a byte a call.
om_write_meta() {
  local tmp="$OM_D/.meta.json.tmp" try status=0
  for try in 1 2 3; do
    rm -f -- "$tmp"
    # (A helper of its pipelines killed by a Ctrl-C would have bash say "Broken pipe": it is run again.)
    if ((OM_LATE)); then
      { (trap '' INT TERM HUP; trap - PIPE; om_meta_json && printf '\n') > "$tmp"; } 2>/dev/null
    else
      { (trap - PIPE; om_meta_json && printf '\n') > "$tmp"; } 2>/dev/null
    fi
    status=$?
    ((status > 128)) || break
  done
  if ((status == 0)) && mv -f -- "$tmp" "$OM_D/meta.json"; then return 0; fi
  rm -f -- "$tmp"
  return 1
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
      --log-command) OM_LOG_COMMAND=1; shift ;;
      --print-id) OM_PRINT_ID=1; shift ;;
      --out-parent-fd) (($# >= 2)) || om_die "$1 needs a file descriptor"; OM_OUT_PARENT_FD=$2; shift 2 ;;
      --control-fd) (($# >= 2)) || om_die "$1 needs a file descriptor"; OM_CONTROL_FD=$2; shift 2 ;;
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
  om_resolve_thread_id
  if [[ -n $OM_TARGET_PID ]] && om_is_kernel_thread "$OM_TARGET_PID"; then
    om_die "pid $OM_TARGET_PID ($(cat "/proc/$OM_TARGET_PID/comm" 2>/dev/null)) is a kernel thread: it makes no system calls to trace; give the pid of a user-space process"
  fi
  if [[ -n $OM_PARENT_PID && ! -d /proc/$OM_PARENT_PID ]]; then om_die "--parent-pid $OM_PARENT_PID is not running"; fi
  OM_DIE_STATUS=1
  return 0
}

# om_resolve_thread_id -> OM_TARGET_PID=the process (thread group) that thread
# OM_TARGET_PID belongs to, said on stderr. top -H, ps -eLf, pidstat -t and a
# jstack nid give thread ids, and /proc/TID exists for them though ls /proc
# hides it. A thread's id is never what a capture wants: bpftrace filters on
# the thread group id, so -p TID recorded nothing; strace attaches the whole
# group either way, but meta.json and every finding named the thread as the
# process (review 1, D0). The mappings are the process's, shared by all its
# threads: capturing the process is what was meant, so it is done, not refused.
om_resolve_thread_id() {
  local key value tgid=''
  [[ -n $OM_TARGET_PID ]] || return 0
  while IFS=$': \t' read -r key value; do
    if [[ $key == Tgid ]]; then tgid=$value; break; fi
  done 2>/dev/null < "/proc/$OM_TARGET_PID/status"
  [[ $tgid =~ ^[1-9][0-9]*$ && $tgid != "$OM_TARGET_PID" ]] || return 0
  om_log "$OM_TARGET_PID is a thread of process $tgid: capturing process $tgid"
  OM_TARGET_PID=$tgid
}

# om_is_kernel_thread PID -> true for a kernel thread (PF_KTHREAD in field 9 of
# /proc/PID/stat): no user space, so nothing for strace or orphanmap.bt to see.
om_is_kernel_thread() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  set -- $stat                   # field 3 (state) is $1, so flags (field 9) is $7
  [[ ${7:-} =~ ^[0-9]+$ ]] && (( $7 & 0x00200000 ))
}

# om_prepare_bundle -> makes OM_OUT the bundle directory, opens it as fd 9 and
# sets OM_D=/proc/$$/fd/9 (every bundle file is created through it) and OM_OUT
# to its absolute physical path. OM_OUT must be new (created here with mkdir,
# never -p, mode 0700) or an empty directory owned by this user that no one else
# can write to. Anything else (a link, a directory of another user, one others
# may write to, one with files in it) is refused with exit status 2.
om_prepare_bundle() {
  local out=$OM_OUT parent base at created=0 seen='' now mode uid
  while [[ $out == */ && $out != / ]]; do out=${out%/}; done
  base=${out##*/}
  if [[ $out == */* ]]; then parent=${out%/*}; parent=${parent:-/}; else parent=.; fi
  if [[ $out == / || -z $base || $base == . || $base == .. ]]; then
    OM_DIE_STATUS=2 om_die "-o needs the name of a new directory, got '$OM_OUT'"
  fi
  # The parent is opened once; mkdir and the checks below go through that fd,
  # so the parent's own path may change under us without effect. Opened as
  # "$parent/.", which only a directory has: a FIFO there (planted, or swapped
  # in) fails at once with ENOTDIR instead of blocking in open(2) until someone
  # writes to it (review 2, F3).
  # --out-parent-fd: orphanmap walked to the parent itself, a link on the way followed only if it
  # is root's or the user's own (src/commands/safe-path.ts), and hands it over open.
  if [[ -n $OM_OUT_PARENT_FD ]]; then
    [[ $OM_OUT_PARENT_FD =~ ^[0-9]+$ && -d /proc/$$/fd/$OM_OUT_PARENT_FD/ ]] ||
      OM_DIE_STATUS=2 om_die "--out-parent-fd $OM_OUT_PARENT_FD is not an open directory"
    if ((OM_OUT_PARENT_FD != 8)); then
      exec 8<&"$OM_OUT_PARENT_FD"
      exec {OM_OUT_PARENT_FD}<&-
    fi
  elif ! { exec 8< "$parent/."; } 2>/dev/null; then
    [[ -e $parent && ! -d $parent ]] && OM_DIE_STATUS=2 om_die "$parent is not a directory, so it cannot hold $OM_OUT"
    OM_DIE_STATUS=2 om_die "cannot open $parent, the directory that would hold $OM_OUT (it must exist: capture creates only the last component)"
  fi
  at=/proc/$$/fd/8
  [[ -d $at/ ]] || OM_DIE_STATUS=2 om_die "$parent is not a directory"
  if mkdir -m 0700 -- "$at/$base" 2>/dev/null; then
    created=1
  elif [[ -L $at/$base ]]; then
    OM_DIE_STATUS=2 om_die "$OM_OUT is a symbolic link; give a new path (capture creates the directory itself)"
  elif [[ -e $at/$base ]]; then
    [[ -d $at/$base ]] || OM_DIE_STATUS=2 om_die "$OM_OUT exists and is not a directory"
    seen=$(stat -c '%d:%i' -- "$at/$base") || om_die "cannot stat $OM_OUT"
  else
    om_die "cannot create $OM_OUT: $(mkdir -m 0700 -- "$at/$base" 2>&1 | sed 's/^mkdir: //')"
  fi
  # "/." for the same reason: a FIFO swapped in after mkdir fails, never blocks.
  { exec 9< "$at/$base/."; } 2>/dev/null || om_die "cannot open $OM_OUT as a directory (was it replaced while it was being created?)"
  OM_D=/proc/$$/fd/9
  # Still the directory that was checked (existing) or made (new): a swap of the
  # name for a link between the two steps lands elsewhere and is caught here.
  if ((created)); then
    [[ $(stat -L -c '%d:%i' -- "$OM_D/..") == "$(stat -L -c '%d:%i' -- "$at")" ]] ||
      om_die "$OM_OUT was replaced while it was being created; nothing was written"
  else
    [[ $(stat -L -c '%d:%i' -- "$OM_D") == "$seen" ]] ||
      om_die "$OM_OUT was replaced while it was being checked; nothing was written"
  fi
  exec 8<&-
  read -r uid mode < <(stat -L -c '%u %a' -- "$OM_D")
  if [[ $uid != "$EUID" ]]; then
    OM_DIE_STATUS=2 om_die "$OM_OUT exists and belongs to uid $uid, not to this user (uid $EUID); give a new path (capture creates the directory itself)"
  fi
  if (( 8#$mode & 8#022 )); then
    OM_DIE_STATUS=2 om_die "$OM_OUT exists and others may write to it (mode $mode); give a new path (capture creates the directory itself)"
  fi
  now=$(find "$OM_D/" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | head -n 3 | tr '\n' ' ')
  if [[ -n $now ]]; then
    [[ -e $OM_D/meta.json || -e $OM_D/trace.txt ]] && OM_DIE_STATUS=2 om_die "$OM_OUT already holds a bundle; give a new path"
    OM_DIE_STATUS=2 om_die "$OM_OUT is not empty (${now% }); give a new path (capture creates the directory itself)"
  fi
  om_where || om_die "cannot resolve $OM_OUT"
  # Room for the final meta.json however full the disk gets (om_finish frees it).
  if ! { head -c "$OM_RESERVE_BYTES" /dev/zero > "$OM_D/.meta-reserve"; } 2>/dev/null; then
    rm -f -- "$OM_D/.meta-reserve"
    om_die "cannot write into $OM_OUT (is its file system full?)"
  fi
}

# om_where -> OM_OUT=the bundle directory's path now (see om_prepare_bundle).
om_where() {
  local path
  path=$(readlink -- "$OM_D" && printf x) || return 1
  path=${path%x}
  OM_OUT=${path%$'\n'}
}

# om_disk_full -> true when the file system holding the bundle has no free block
# left for this user: the tracer's writes to trace.txt are failing.
om_disk_full() {
  local blocks
  om_out blocks stat -f -L -c '%f %a' -- "$OM_D" 2>/dev/null || return 1
  set -- $blocks                 # free blocks, blocks free for non-root
  [[ ${2:-} =~ ^[0-9]+$ ]] || return 1
  if ((EUID == 0)); then (($1 == 0)); else (($2 == 0)); fi
}

# om_deadline_reached START_EPOCH_NS SECONDS -> true once SECONDS (digits, a
# fraction allowed: -d's form) have passed. Counted in bash, on
# $EPOCHREALTIME: it is asked at every look of every wait while attached, and
# a `date` and an `awk` each time were two processes a look on a loaded host.
om_deadline_reached() {
  # Leading zeros not counted as digits (-d 0000000000005 is 5 s: code review 92, 5).
  [[ $1 =~ ^[0-9]+$ && $2 =~ ^0*([0-9]+)([.]([0-9]+))?$ ]] || return 1
  local whole=${BASH_REMATCH[1]} fraction="${BASH_REMATCH[3]}000000"
  # More than a dozen digits of seconds is never (and would overflow below); 10# keeps "08" decimal.
  ((${#whole} <= 12)) || return 1
  local limit_us=$((10#$whole * 1000000 + 10#${fraction:0:6}))
  local now_us=${EPOCHREALTIME//[.,]/}
  [[ $now_us =~ ^[0-9]+$ ]] || return 1
  ((now_us - $1 / 1000 >= limit_us))
}

# om_kill_tree PIDS_WITH_STARTTIMES SIGNAL -> signals each "pid:starttime" that is
# still that same process.
om_kill_tree() {
  local entry pid st
  for entry in $1; do
    pid=${entry%%:*} st=${entry##*:}
    om_running "$pid" "$st" && kill "-$2" "$pid" 2>/dev/null
  done
  return 0
}

# om_tree_of PID [MAX [STOP_VAR]] -> sets OM_TREE to "pid:starttime " for PID
# and its descendants, parents first. The target decides how many there are,
# so the walk ends after MAX of them (OM_MAX_TREE_PROCESSES), after
# OM_TREE_SECONDS, or once the variable named STOP_VAR is set; OM_TREE_CUT
# then says why the list is short (empty when it is whole). The queue is read
# by index: taking its head by copying the rest of it cost time quadratic in
# the number of descendants (9,000 children: 95 s, every signal ignored meanwhile; review 7).
om_tree_of() {
  local max=${2:-$OM_MAX_TREE_PROCESSES} stop=${3:-} queue=("$1") i=0 n=0 p now deadline
  OM_TREE='' OM_TREE_CUT=''
  printf -v deadline '%(%s)T' -1
  deadline=$((deadline + OM_TREE_SECONDS))
  om_kids_init "$1"
  while ((i < ${#queue[@]})); do
    if ((n >= max)); then OM_TREE_CUT="it has over $max processes"; break; fi
    if [[ -n $stop && -n ${!stop} ]]; then OM_TREE_CUT='a stop was asked for'; break; fi
    # The clock is a builtin, but a cheap one only when read now and then.
    if ((i % 64 == 63)); then
      printf -v now '%(%s)T' -1
      ((now < deadline)) || { OM_TREE_CUT="listing it took over $OM_TREE_SECONDS s"; break; }
    fi
    p=${queue[i]}
    i=$((i + 1))
    om_stat "$p" || continue
    OM_TREE+="$p:$OM_ST "
    n=$((n + 1))
    om_tree_kids "$p"
    queue+=("${OM_KIDS[@]}")
  done
}

# om_kids_init PID -> OM_KIDS_OF empty where /proc/PID/task/TID/children
# exists; else, for kernels without CONFIG_PROC_CHILDREN, OM_KIDS_OF[PPID] =
# "PID PID ..." for every process, from one pass over /proc. om_children
# reads every /proc/PID/stat there for each process it is asked about: a
# tree walk with it would be quadratic too.
declare -gA OM_KIDS_OF=()
OM_KIDS_FROM_MAP=0
om_kids_init() {
  local f stat
  OM_KIDS_OF=() OM_KIDS_FROM_MAP=0
  compgen -G "/proc/$1/task/*/children" >/dev/null && return 0
  [[ -d /proc/$1 ]] || return 0
  OM_KIDS_FROM_MAP=1
  for f in /proc/[0-9]*/stat; do
    stat=''
    IFS= read -r -d '' stat 2>/dev/null < "$f"
    [[ $stat == *') '* ]] || continue
    stat=${stat##*) }
    set -- $stat
    [[ ${2:-} =~ ^[0-9]+$ ]] && OM_KIDS_OF[$2]+="${f//[!0-9]/} "
  done
}

# om_tree_kids PID -> OM_KIDS: PID's children, as om_kids_init prepared.
om_tree_kids() {
  if ((OM_KIDS_FROM_MAP)); then
    read -r -a OM_KIDS <<< "${OM_KIDS_OF[$1]:-}"
  else
    om_children "$1"
  fi
}

# ---------------------------------------------------------------------------
# Supervision, shared by both capture scripts. The script defines:
#   om_backend_check          requirements; sets OM_TRACER_VERSION
#   om_backend_argv           fills OM_TRACER_ARGV for OM_TARGET_PID or OM_CMD
#   om_backend_attached       true once the tracer has attached to OM_PID (-p)
#   om_backend_counts         sets OM_LOST_EVENTS and OM_TRUNCATED_EVENTS
#   om_backend_first_pid      the first pid in trace.txt (for a command too
#                             short-lived to be seen in /proc)
#   om_backend_traced         true when the tracer traced at all (a launched
#                             command's capture that did not is a failure,
#                             whatever the tracer's exit status)
#   om_backend_exit_seen PID  true when trace.txt shows PID's exit (a tracer
#                             that cannot tell always says true)
#   om_backend_saw_pid PID    true when trace.txt holds any record of process
#                             PID (read only when PID was gone at the attach)
#   om_backend_attach_seen    true when the bundle shows the tracer attached
#                             to OM_TARGET_PID, or traced the launched command
#                             (read once the tracer is gone, where this script
#                             did not see it: the watchdog, a short command)
#   OM_TRACER_STDOUT          bundle file the tracer's stdout goes to (a name in
#                             OM_D); empty: our stderr
#   om_backend_cmd_pid        optional: sets OM_FOUND to the launched command's
#                             pid once it runs (default: the tracer's child
#                             whose exe is not the tracer's, om_find_cmd_pid)
#   om_backend_detach_command makes the tracer let go of a launched command
#                             and leave it running (only called when
#                             OM_NO_DETACH, set by om_backend_argv, is empty)
# and then calls om_run_capture "$@".
#
# Stopping, in every case (duration, SIGINT/SIGTERM/SIGHUP, parent death, full disk):
#   -p PID  the tracer gets SIGINT, which makes strace detach (PTRACE_DETACH) and
#           bpftrace unload its probes; SIGTERM then SIGKILL follow if it hangs
#           (opens or closes no file for 5 s, then 2 s; see om_wait_stopping).
#           A SIGKILLed tracer is still safe here: the kernel detaches ptrace
#           tracees when their tracer exits.
#   -- CMD  the command and its descendants get SIGTERM (SIGKILL after a grace
#           period) before the tracer is stopped: the command never outlives a
#           capture that stops. capture-strace.sh uses --seccomp-bpf only
#           together with --kill-on-exit (strace >= 6.6), because a process left
#           under strace's seccomp filter without its tracer has every traced
#           syscall fail with ENOSYS (SECCOMP_RET_TRACE with no tracer); with
#           --kill-on-exit the kernel SIGKILLs the command when strace exits, so
#           no syscall ever returns that ENOSYS. Without it, a command whose
#           tracer is killed is detached by the kernel and runs on normally.
# Detaching (SIGUSR2; `orphanmap live` asks for it when the user chooses to
# leave a launched command running): -p PID as above. -- CMD: the end snapshot
# is taken, nothing is signalled, and the backend makes the tracer let go
# (om_backend_detach_command); the command runs on, untraced, and the bundle
# is complete up to then (exitReason "detached", exit status 0). Refused, with
# a message, where the tracer cannot let go without ending the command
# (OM_NO_DETACH: strace --kill-on-exit, bpftrace -c); meta.json says so from
# the start ("canDetach", "noDetachReason").
# A tracer that ends while its target still runs (killed, crashed) is reported:
# exitReason "tracer-died", exit status 1; the target is left running untraced.
# When the --parent-pid process (orphanmap) dies, even by SIGKILL, the script
# stops (it looks every 0.2 s), and a watchdog process, separate from this
# script, polling every 0.25 s, asks it to as well. When this script itself
# dies, the tracer dies with it (PR_SET_PDEATHSIG, see om_run_capture), and
# the watchdog ends a launched command and finishes meta.json on its own.
# ---------------------------------------------------------------------------

OM_TRACER_ARGV=()
OM_TRACER_PID='' OM_TRACER_ST=''
OM_PID_ST=''
OM_STOP_REASON=''
OM_CMD_MODE=0
OM_WRITE_FAILED=''
OM_MAPPED_UNCHECKED=''
OM_START_MAPS_READ=''  # "[FROM, TO]": when maps-start.txt was read, on the trace's clock (om_trace_clock)
OM_START_MAPS_EPOCH=''  # when the read of maps-start.txt began, epoch seconds ($EPOCHREALTIME): a file born before it is the one mapped (om_gone_lookup)
OM_START_MAPS_UPTIME='' # and then, the boot clock in hundredths (/proc/uptime): was the realtime clock stepped back since? (om_renamed_within)
OM_STOPPED=0           # 1 once om_stop_tracer has run
OM_TARGET_ST=''        # -p: the target's starttime when the tracer was started
OM_PARENT_ST=''        # --parent-pid: its starttime when the capture began (om_parent_gone)
OM_GONE_AT_ATTACH=0    # -p: 1 when the target was gone by the end of the wait for the attach
OM_GONE_AFTER=''       # seconds from the tracer's start to the end of that wait
OM_SLOW_ATTACH_SECONDS=3

# A stop signal. The capture stops from here on, so a further SIGINT, SIGTERM
# or SIGHUP asks for nothing more: they are ignored, and with them by every
# child the script starts from now on, which a repeated Ctrl-C (sent to the
# whole process group) can then no longer kill halfway through the stop.
om_on_signal() {
  [[ -n $OM_STOP_REASON ]] || OM_STOP_REASON=$1
  trap '' INT TERM HUP
}

# SIGUSR2: stop capturing and leave the target running, untraced. With -p that
# is the ordinary stop (the tracer detaches). With -- CMD it is refused where
# the tracer cannot let go of its command without ending it (OM_NO_DETACH),
# and said by the loop that waits (om_say_refused), not here: bash runs a
# trap again inside itself when its signal lands while it runs, and a trap
# slower than the signals came (om_log escapes its text) nested 3,000 deep
# until bash died of SIGSEGV (test capture-signal-storm). The traps only set
# variables.
# orphanmap asks with a byte as well as the signal (om_take_requests): a
# refusal is said once for the pair, whichever is taken first, and once for
# each SIGUSR2 sent by anyone else (review 37, F3: said twice when the two
# were taken in different turns of a loop).
OM_DETACH_REFUSED=0 OM_DETACH_SIGNALS=0 OM_DETACH_BYTES=0
om_on_detach() {
  if ((OM_CMD_MODE)) && [[ -n $OM_NO_DETACH ]]; then
    if [[ ${1:-signal} == byte ]]; then
      ((++OM_DETACH_BYTES > OM_DETACH_SIGNALS)) && OM_DETACH_REFUSED=1
    else
      ((++OM_DETACH_SIGNALS > OM_DETACH_BYTES)) && OM_DETACH_REFUSED=1
    fi
    return 0
  fi
  [[ -n $OM_STOP_REASON ]] || OM_STOP_REASON=detached
  trap '' INT TERM HUP
}

# --control-fd: orphanmap asks for a stop or a detach by a byte on this
# socket as well as by SIGTERM or SIGUSR2, and the script looks for one
# wherever it waits (om_stop_due, the wait for the attach, the main loop). A
# signal alone was once lost: orphanmap's one SIGTERM, sent as the capture
# began, found the script looping with its trap set, the stop never taken,
# and the target traced until someone killed the script by hand (CI, test
# e2e-capture's SIGINT). Sending the signal again is no cure, for a second one
# cuts the end snapshots short (om_with_late_stop); a byte is read once and
# cannot be lost. The signal still wakes a wait that does not look here.
# Moved to fd 7 (om_move_control), which no long-lived child keeps: a
# launched command that read it could take a stop meant for the script.

# om_check_control -> exits 2 unless --control-fd names an open fd that the
# script does not use for something else (3, 8 and 9 are its own; the
# directory --out-parent-fd names is moved to 8 first).
om_check_control() {
  [[ -n $OM_CONTROL_FD ]] || return 0
  if [[ ! $OM_CONTROL_FD =~ ^[0-9]+$ ]] || ((OM_CONTROL_FD <= 3 || OM_CONTROL_FD == 8 || OM_CONTROL_FD == 9)) ||
    [[ $OM_CONTROL_FD == "$OM_OUT_PARENT_FD" || ! -e /proc/$$/fd/$OM_CONTROL_FD ]]; then
    OM_DIE_STATUS=2 om_die "--control-fd $OM_CONTROL_FD is not an open file descriptor this script may use (4 or more, not 8, 9 or --out-parent-fd's)"
  fi
}

# om_move_control -> the --control-fd socket on fd 7. After om_prepare_bundle,
# which has moved --out-parent-fd's directory off fd 7 (should it be there).
om_move_control() {
  [[ -n $OM_CONTROL_FD ]] || return 0
  if ((OM_CONTROL_FD != 7)); then
    exec 7<&"$OM_CONTROL_FD"
    exec {OM_CONTROL_FD}<&-
    OM_CONTROL_FD=7
  fi
}

# om_take_requests -> acts on each byte orphanmap has sent on --control-fd:
# "s" stop (as SIGTERM does), "d" detach (as SIGUSR2 does); others are
# ignored. When orphanmap has closed its end (it died), stops looking: its
# death is seen by om_parent_gone. Once a stop is under way, they ask for
# nothing more and are left unread, as a signal then is ignored (om_on_signal);
# taken then, a stop would ignore the signal that cuts the end snapshots
# short (om_with_late_stop). Read by the script's own shell alone: a byte a
# child took (om_bounded's job, a subshell, the watchdog) would stop only
# that child.
om_take_requests() {
  [[ -n $OM_CONTROL_FD && -z $OM_STOP_REASON && $BASHPID == "$$" ]] || return 0
  local byte n=0
  # A few a turn: orphanmap sends one of each, and an fd that always has more (a caller's /dev/zero) must not hold the loop.
  while ((n++ < 8)) && read -r -t 0 -u 7 2>/dev/null; do
    if ! IFS= read -r -n 1 -d '' -u 7 byte 2>/dev/null; then
      exec 7<&-
      OM_CONTROL_FD=''
      return 0
    fi
    case $byte in
      s) om_on_signal interrupted ;;
      d) om_on_detach byte ;;
    esac
  done
}

# om_say_refused -> says once that the detach asked for since the last call was refused.
om_say_refused() {
  ((OM_DETACH_REFUSED)) || return 0
  OM_DETACH_REFUSED=0
  om_log "cannot detach: $OM_NO_DETACH; the capture goes on"
}

# om_hold PID STARTTIME -> sends the process SIGSTOP and waits (2 s at most)
# until it is stopped or gone: a process stopped forks nothing more.
om_hold() {
  local i
  om_alive "$1" "$2" || return 0
  kill -STOP "$1" 2>/dev/null || return 0
  for ((i = 0; i < 200; i++)); do
    om_alive "$1" "$2" && [[ $OM_STATE != [Tt] ]] || return 0
    om_nap 0.01
  done
}

# om_wait_gone PID STARTTIME SECONDS -> true if the process ends within SECONDS.
om_wait_gone() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    om_alive "$1" "$2" || return 0
    sleep 0.1
  done
  ! om_alive "$1" "$2"
}

# om_wait_stopping PID STARTTIME SECONDS -> true if the process ends before it
# has gone SECONDS without closing or opening a file, and within 60 s. A tracer
# that was asked to stop is not stuck while it lets go: bpftrace closes its
# probes one by one, and the kernel waits out an RCU grace period for each
# (70 probes: 4.6 s on an idle machine, over 10 s on a loaded one). Killing it
# then would not end it sooner (the kernel closes what is left at its exit),
# but would lose the END record and the events still in the ring buffers,
# which bpftrace prints only after the probes are gone.
om_wait_stopping() {
  local quiet=0 total=0 fds last=''
  while ((quiet < $3 * 10 && total < 600)); do
    om_alive "$1" "$2" || return 0
    fds=(/proc/"$1"/fd/*)
    if [[ ${#fds[@]} != "$last" ]]; then last=${#fds[@]} quiet=0; else ((quiet++)); fi
    ((total++))
    sleep 0.1
  done
  ! om_alive "$1" "$2"
}

# om_stop_tracer -> ends the capture as described above. Callable from the
# script or from the watchdog.
om_stop_tracer() {
  local tree
  OM_STOPPED=1
  # Stopping whatever the reason: see om_on_signal.
  trap '' INT TERM HUP
  if ((OM_CMD_MODE)) && [[ -z $OM_PID ]]; then
    # Not exec'd yet, or not even forked: the tracer's child is the command to
    # be, which the tracer's end would let run on, untraced, its parent init
    # (a Ctrl-C the moment strace started, in CI). The tracer is held still
    # (SIGSTOP) before it is looked at: running, it could fork the command
    # just after the look, and be killed only later, with the command already
    # let go (a CI run: the command ran on after the capture, untraced). Not
    # exec'd then, the command and the tracer are ended before it runs:
    # nothing of it is traced, and the bundle says so ("attached": false).
    # A detach lets the tracer go as it is.
    local held=0
    if [[ $OM_STOP_REASON != detached ]] && om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; then
      om_hold "$OM_TRACER_PID" "$OM_TRACER_ST"
      held=1
    fi
    om_find_cmd_pid
    OM_PID=$OM_FOUND
    if [[ -n $OM_PID ]]; then
      om_identify "$OM_PID" OM_PID_ST && om_note_command
    elif ((held)); then
      # Its children first: the tracer's death would let go a child it holds at a ptrace stop (its execve
      # not yet done), which would run the command until its own SIGKILL came (review 37, F1).
      om_tree_of "$OM_TRACER_PID"
      om_kill_tree "${OM_TREE#* }" KILL
      om_kill_tree "${OM_TREE%% *}" KILL
    fi
    ((held)) && kill -CONT "$OM_TRACER_PID" 2>/dev/null
  fi
  if ((OM_CMD_MODE)) && [[ $OM_STOP_REASON == detached ]]; then
    # Leave the command running: its end snapshot now, then the tracer lets go.
    if [[ -n $OM_PID ]] && om_running "$OM_PID" "$OM_PID_ST"; then om_end_snapshots; fi
    om_backend_detach_command
    # (bash would report the SIGKILLed tracer as "Killed" on stderr when it reaps it.)
    om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 5 2>/dev/null && return 0
  elif ((OM_CMD_MODE)) && [[ -n $OM_PID ]]; then
    if om_running "$OM_PID" "$OM_PID_ST"; then
      om_end_snapshots
      om_tree_of "$OM_PID"
      tree=$OM_TREE
      if [[ -n $OM_TREE_CUT ]]; then
        local unless=''
        [[ $OM_BACKEND == strace ]] && unless=' unless strace traces them'
        om_log "stopping the command: its descendants were listed only in part ($OM_TREE_CUT): those not listed get no SIGTERM$unless"
      fi
      # With its descendants that left its tree (a daemon reparented to init): strace
      # follows them, so it would not end, and its SIGKILL would leave them running.
      # (bpftrace traces no process; a tracer pid already reused names another's.)
      if [[ $OM_BACKEND == strace ]] && om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; then
        om_tracees_of "$OM_TRACER_PID"
        tree+=$OM_TREE
      fi
      om_kill_tree "$tree" TERM
      # A command stopped by Ctrl-Z acts on SIGTERM only once continued.
      om_kill_tree "$tree" CONT
      if om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; then
        om_wait_stopping "$OM_TRACER_PID" "$OM_TRACER_ST" 3 && return 0
      else
        # The tracer died with the script (the watchdog ends the capture): the command is waited for itself.
        om_wait_gone "$OM_PID" "$OM_PID_ST" 3 && return 0
      fi
      om_kill_tree "$tree" KILL
      om_kill_tracees
      om_wait_stopping "$OM_TRACER_PID" "$OM_TRACER_ST" 2 && return 0
    else
      # The command is gone; what it left running that strace still traces (leftRunning) is snapshot before strace lets go.
      om_with_late_stop om_others_now
    fi
  fi
  om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || return 0
  # --pid, the target gone: what it forked under the trace that strace still traces may hold what it mapped, and
  # outlive it (review 82, E2: a pre-fork server exited, its workers held its file on under a new name, a deploy having
  # moved the directory away; with no maps-end.N.txt for them, the file read as removed: four errors). Snapshot
  # before the tracer lets go, as for a launched command that left processes running (above): strace's tracees, or
  # under bpftrace those the trace shows forked and never ending.
  if ((!OM_CMD_MODE)) && [[ -n $OM_PID ]] && ! om_running "$OM_PID" "$OM_PID_ST" && om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; then
    om_with_late_stop om_others_now
  fi
  # SIGCONT after each signal: a tracer that is stopped (a Ctrl-Z reaches the
  # tracer of a launched command, as it would reach `strace CMD`; SIGSTOP)
  # would act on it only once continued. A signal the tracer ignores is
  # neither sent nor waited for: `strace -o FILE CMD` ignores SIGINT and
  # SIGTERM, and bpftrace -p ignores SIGINT until it has attached (it starts
  # with it ignored, as every background job of a script does, and installs
  # its handler only then), so a stop while it compiled was lost and it
  # attached afterwards (review).
  local tried=''
  if declare -F om_backend_stopping > /dev/null; then
    om_backend_stopping
    # It may have ended meanwhile (bpftrace -c, once its command has): nothing to send.
    om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || return 0
  fi
  if ! om_ignores "$OM_TRACER_PID" 2; then
    kill -INT "$OM_TRACER_PID" 2>/dev/null
    kill -CONT "$OM_TRACER_PID" 2>/dev/null
    om_wait_stopping "$OM_TRACER_PID" "$OM_TRACER_ST" 5 && return 0
    tried='5 s after SIGINT'
  fi
  if ! om_ignores "$OM_TRACER_PID" 15; then
    [[ -z $tried ]] || om_log "tracer $OM_TRACER_PID hangs $tried; sending SIGTERM"
    kill -TERM "$OM_TRACER_PID" 2>/dev/null
    kill -CONT "$OM_TRACER_PID" 2>/dev/null
    om_wait_stopping "$OM_TRACER_PID" "$OM_TRACER_ST" 2 && return 0
    tried='2 s after SIGTERM'
  fi
  if [[ -n $tried ]]; then om_log "tracer $OM_TRACER_PID hangs $tried; sending SIGKILL (the kernel detaches its tracees)"
  else om_log "tracer $OM_TRACER_PID ignores SIGINT and SIGTERM; sending SIGKILL (the kernel detaches its tracees, which run on untraced)"; fi
  kill -KILL "$OM_TRACER_PID" 2>/dev/null
  # (bash would report the SIGKILLed tracer as "Killed" on stderr when it reaps it.)
  om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 2 2>/dev/null
}

# om_finish REASON -> end snapshot, counts, final meta.json. A full disk turns
# any REASON into "disk-full": trace.txt lost what the tracer could not write.
om_finish() {
  # Nothing can change the outcome now: see om_on_signal.
  trap '' INT TERM HUP
  OM_EXIT_REASON=$1
  if om_disk_full; then OM_EXIT_REASON=disk-full; fi
  # Not known in the watchdog, started before the attach: what the tracer left in the bundle says.
  if [[ -z $OM_ATTACHED ]]; then
    if om_backend_attach_seen; then OM_ATTACHED=1; else OM_ATTACHED=0; fi
  fi
  # The trace is whole: the names of the files it shows mapped are looked up now, before anything else may remove them.
  ((!OM_ATTACHED)) || om_gone_mapped
  if ((OM_ATTACHED)) && [[ -n $OM_PID ]] && om_running "$OM_PID" "$OM_PID_ST"; then
    if ! ((OM_CMD_MODE)) || [[ ! -f $OM_D/maps-end.txt ]]; then om_end_snapshots; fi
    [[ $OM_THREADS_JSON != '[]' ]] || om_read_process "$OM_PID"
    [[ -n $OM_JVM_VERSION ]] || om_bounded "$OM_JVM_SECONDS" OM_JVM_VERSION om_jvm_version "$OM_PID"
  elif ((OM_ATTACHED)) && [[ -n $OM_CHILDREN_AT_ATTACH_TREE ]]; then
    # The target gone, the children it had at the attach may live on (om_others_now).
    om_with_late_stop om_others_now
  fi
  om_out OM_MAP_COUNT_END om_count_lines "$OM_D/maps-end.txt"
  # The watchdog finishes for a script that died: it counts maps-start.txt itself.
  [[ -n $OM_MAP_COUNT_START ]] || om_out OM_MAP_COUNT_START om_count_lines "$OM_D/maps-start.txt"
  om_backend_counts
  om_out OM_END_TIME om_now_iso
  case $OM_EXIT_REASON in
    duration|interrupted|target-exited|parent-died|detached) [[ -n $OM_WRITE_FAILED ]] || ((!OM_ATTACHED)) || OM_COMPLETE=1 ;;
    *) OM_COMPLETE=0 ;;
  esac
  rm -f -- "$OM_D/.meta-reserve"
  # What om_bounded left behind in a script that died in it (the watchdog finishes then).
  rm -rf -- "$OM_D"/.bounded.* "$OM_D"/.linked.* "$OM_D/.command-id" "$OM_D/.maps-end" "$OM_D/.orphanmap.bt"
  if ! om_write_meta; then
    OM_COMPLETE=0
    om_log "error: cannot write the final meta.json into $OM_OUT (is its file system full?); the meta.json left there says \"complete\": false"
    return 1
  fi
}

# om_watchdog SCRIPT_PID SCRIPT_ST -> runs in its own process until the tracer ends.
om_watchdog() {
  local script_pid=$1 script_st=$2 told=0
  # PIPE too: once orphanmap is gone, our stderr is a broken pipe, and dying of
  # SIGPIPE on the next log line would leave the target traced.
  trap '' INT TERM HUP PIPE
  # This process's own copy of fd 9: the script's vanishes with it.
  OM_D=/proc/$BASHPID/fd/$OM_DIR_FD
  while om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; do
    if ! om_alive "$script_pid" "$script_st"; then
      om_log "capture script $script_pid died; watchdog stops the tracer"
      om_watchdog_target
      om_stop_tracer
      om_finish interrupted
      return 0
    fi
    if ((!told)) && om_parent_gone; then
      om_log "parent $OM_PARENT_PID died; stopping the capture"
      kill -USR1 "$script_pid" 2>/dev/null
      told=1
    fi
    # A script that is stopped (SIGSTOP) would act on the request only once
    # continued, the target traced all the while.
    if ((told)) && om_stat "$script_pid" && [[ $OM_ST == "$script_st" && $OM_STATE == [Tt] ]]; then
      kill -CONT "$script_pid" 2>/dev/null
    fi
    sleep 0.25
  done
  # The tracer has ended. The script finishes the bundle (it frees
  # .meta-reserve just before its final meta.json), unless it died: its death
  # ends the tracer at once (PR_SET_PDEATHSIG, see om_run_capture), so the
  # trace lacks what the tracer had not written, and a launched command it
  # let go of still runs.
  om_alive "$script_pid" "$script_st" && return 0
  [[ -e $OM_D/.meta-reserve ]] || return 0
  om_log "capture script $script_pid died, and the tracer with it; watchdog finishes the bundle"
  om_watchdog_target
  om_stop_tracer
  om_finish tracer-died
}

# om_watchdog_target -> OM_PID and OM_PID_ST for the watchdog, which was
# started before the script knew them: the -p target, or the launched
# command the script recorded in .command-id (om_note_command).
om_watchdog_target() {
  local pid='' st=''
  if ((OM_CMD_MODE)); then
    [[ -n $OM_PID ]] && return 0
    read -r pid st 2>/dev/null < "$OM_D/.command-id"
    [[ $pid =~ ^[1-9][0-9]*$ && $st =~ ^[0-9]+$ ]] && OM_PID=$pid OM_PID_ST=$st
  elif [[ -n $OM_TARGET_PID ]]; then
    OM_PID=$OM_TARGET_PID OM_PID_ST=$OM_TARGET_ST
  fi
  return 0
}

# om_note_command -> records the launched command (OM_PID, OM_PID_ST) in
# .command-id for the watchdog: should this script die, its tracer dies with
# it, and the watchdog ends the command (strace before 6.6 lets it run on).
om_note_command() {
  ((OM_CMD_MODE)) && [[ -n $OM_PID && -n $OM_PID_ST ]] || return 0
  rm -f -- "$OM_D/.command-id"
  { printf '%s %s\n' "$OM_PID" "$OM_PID_ST" > "$OM_D/.command-id"; } 2>/dev/null
  return 0
}

# om_find_cmd_pid -> sets OM_FOUND to the pid of the command the tracer
# launched: its child once the child has exec'd (its exe is another file than
# the tracer's), else empty; or the backend's own answer (om_backend_cmd_pid).
om_find_cmd_pid() {
  local c
  OM_FOUND=''
  if declare -F om_backend_cmd_pid > /dev/null; then
    om_backend_cmd_pid
    return 0
  fi
  [[ -e /proc/$OM_TRACER_PID/exe ]] || return 0
  om_children "$OM_TRACER_PID"
  for c in "${OM_KIDS[@]}"; do
    # strace forks short-lived probes at startup whose exe cannot be read yet:
    # an unreadable exe is not the command.
    [[ -e /proc/$c/exe ]] || continue
    [[ /proc/$c/exe -ef /proc/$OM_TRACER_PID/exe ]] && continue
    # Nor one that ended between the two looks: -ef is false when its exe is
    # gone (a CI run recorded strace's probe, three pids before the command,
    # as the command in meta.json).
    [[ -e /proc/$c/exe ]] || continue
    OM_FOUND=$c
    return 0
  done
}

# om_no_command_substitution: from the moment the stop signals are trapped
# (om_run_capture) until they are all ignored (om_wait_tracer), this shell runs
# no $(...), nor <(...). bash 5.2 parses the text of a $(...) again each time
# it expands it, and a trap pending then (a signal that landed while an earlier
# $(...) of the same command ran, or during the parse) runs inside that parse,
# whose state is still open: the trap's own text fails to parse ("trap: line
# 2: unexpected EOF while looking for matching `)'"), then the command's, and
# the script ends with status 1 or 2 in the middle of a capture, or goes on
# with the signal lost. A Ctrl-C after the start snapshot hit it at 1 in 5
# (`[[ $(readlink A) == "$(readlink B)" ]]`). So output is read through a
# pipeline into `read` (om_out), and text is built with printf -v. A $(...)
# inside a function that runs only in a child (om_out, om_bounded, a
# subshell) is safe: a child starts with the traps reset.

# om_no_wait_builtin: the `wait` builtin is used only while no signal is
# trapped. bash (5.2 here) leaves `wait` for a trapped signal by a longjmp out
# of its signal handler; when the signal lands just as bash has reaped another
# child, that child's exit is lost, and a later `wait` for it blocks for good.
# That once left a capture stopped by orphanmap's SIGTERM waiting forever on
# a child that had ended, the tracer attached all the while. So the script
# sleeps in the foreground (a trap then runs when the sleep ends), and a
# background child reports its status through a file (om_bounded).

# om_uptime_cs VAR -> VAR = the time since boot in hundredths of a second
# (/proc/uptime, CLOCK_BOOTTIME: never stepped), empty when unreadable.
om_uptime_cs() {
  local uptime rest
  printf -v "$1" '%s' ''
  IFS=' ' read -r uptime rest 2> /dev/null < /proc/uptime || return 0
  [[ $uptime =~ ^([0-9]+)\.([0-9]{2})$ ]] && printf -v "$1" '%s' "$((10#${BASH_REMATCH[1]}${BASH_REMATCH[2]}))"
  return 0
}

# om_nap SECONDS -> a foreground sleep. A sleep killed by a signal sent to the
# whole process group (a systemd stop) would have bash report it on stderr.
om_nap() { { sleep "$1"; } 2>/dev/null; }

# om_wait_tracer -> sets OM_TRACER_STATUS to the tracer's exit status. Called
# once the tracer is gone or is being stopped (om_stop_tracer): a stop signal
# can ask for nothing more, so they are ignored from here on, which makes this
# `wait` safe (om_no_wait_builtin).
om_wait_tracer() {
  trap '' INT TERM HUP USR1 USR2
  OM_TRACER_STATUS=0
  [[ -n $OM_TRACER_PID ]] || return 0 # none was started
  wait "$OM_TRACER_PID" 2>/dev/null
  OM_TRACER_STATUS=$?
}

# om_note_attach ATTACHED TRACER_START_NS NOW_NS -> what the wait for the
# attach came to, said where it matters. -p: a target gone by now
# (OM_GONE_AT_ATTACH=1) stops the capture (no use waiting for bpftrace to
# compile for a process that is gone) as target-exited; once the tracer has
# ended, it was traced only if the trace shows it (om_backend_saw_pid: it
# may have exited right after the tracer attached, before this script
# looked), and otherwise the capture is target-exited-before-attach (exit 1,
# "complete": false), not an empty trace that reads as clean.
# An attach that took long is said too: bpftrace compiles its probes for
# 8-40 s first, and -d counts from the attach.
om_note_attach() {
  local waited=0
  [[ $2 =~ ^[0-9]+$ && $3 =~ ^[0-9]+$ ]] && waited=$((($3 - $2) / 1000000000))
  OM_GONE_AFTER=$waited
  if ((!OM_CMD_MODE)) && om_group_gone "$OM_TARGET_PID" "$OM_TARGET_ST"; then
    OM_GONE_AT_ATTACH=1
    # Gone before its mount namespace was read: meta.json's sameView is null, not false (review 25: a process that
    # exited as the capture attached was said to be in a container).
    OM_VIEW_UNREAD=1
    [[ -z $OM_STOP_REASON ]] || return 0
    OM_STOP_REASON=target-exited
    # strace fails at once on a process that is gone and writes ptrace's
    # error, the one outside word that it was gone, into tracer.stderr: it is
    # let end by itself rather than stopped before it has tried (on a loaded
    # machine it had not yet run when this loop saw the target gone, and
    # tracer.stderr stayed empty). bpftrace would compile for 8-40 s first.
    [[ $OM_BACKEND != strace ]] || om_wait_gone "$OM_TRACER_PID" "$OM_TRACER_ST" 5
    return 0
  fi
  if (($1)) && ((waited >= OM_SLOW_ATTACH_SECONDS)); then
    local counted=''
    [[ -z $OM_DURATION ]] || printf -v counted "; the capture's %s s (--duration) count from now" "$OM_DURATION"
    om_log "$OM_BACKEND attached after $waited s$counted"
  fi
  if (($1)) && declare -F om_backend_attach_note > /dev/null; then om_backend_attach_note; fi
  return 0
}

# om_reason_text EXIT_REASON -> what stopped the capture, in words.
om_reason_text() {
  case $1 in
    interrupted) printf 'by SIGINT, SIGTERM or SIGHUP' ;;
    parent-died) printf 'orphanmap, pid %s, died' "$OM_PARENT_PID" ;;
    detached) printf 'asked to detach' ;;
    duration) printf -- '--duration' ;;
    *) printf '%s' "$1" ;;
  esac
}

# om_status_text STATUS -> "exit status N" or "killed by SIGNAME".
om_status_text() {
  if (($1 > 128)); then printf 'killed by SIG%s' "$(kill -l "$(($1 - 128))" 2>/dev/null || echo "$(($1 - 128))")"
  else printf 'exit status %s' "$1"; fi
}

# om_restore_int ARG... -> this script again, with SIGINT at its default,
# when it was started with SIGINT ignored: a non-interactive shell starts its
# background jobs so, and bash cannot trap a signal ignored at its entry, so
# the capture went on after `kill -INT`, its target traced until a SIGTERM
# (review 59, L1). The same process (exec), told by OM_INT_IGNORED; a
# launched command gets SIGINT ignored again, as it would have had. A
# coreutils env without --default-signal (before 8.31) leaves it as it was.
om_restore_int() {
  [[ -z ${OM_INT_IGNORED:-} ]] || return 0
  om_ignores $$ 2 || return 0
  env --default-signal=INT true 2>/dev/null || return 0
  OM_INT_IGNORED=1 exec env --default-signal=INT "$BASH" "$0" "$@"
}

om_run_capture() {
  local i start_ns tracer_start_ns status=0 tracer_out attached=0 finished=1 v
  om_restore_int "$@"
  # Not passed on: a launched command's environment is its own.
  local int_ignored=${OM_INT_IGNORED:-}
  export -n OM_INT_IGNORED 2>/dev/null
  # A Ctrl-Z in a terminal is a SIGTSTP to the whole foreground process group:
  # orphanmap, this script, its helpers, the watchdog, the tracer. A stopped
  # strace leaves an attached target stopped at its next system call (State
  # "t (tracing stop)") until someone continues it. So this script ignores
  # SIGTSTP, and the terminal's SIGTTIN and SIGTTOU, and so does everything it
  # starts (an ignored signal stays ignored across exec; neither strace nor
  # bpftrace changes that); a launched command gets them back (see below).
  trap '' TSTP TTIN TTOU
  om_parse_common_args "$@"
  [[ -z $OM_PARENT_PID ]] || om_identify "$OM_PARENT_PID" OM_PARENT_ST
  if ((${#OM_CMD[@]})); then
    # Until /proc says otherwise (a command may exit before it is seen there).
    OM_CMD_MODE=1 OM_CMDLINE=("${OM_CMD[@]}") OM_COMM=${OM_CMD[0]##*/}
    OM_COMM=${OM_COMM:0:15}
    # The command starts in this script's working directory (neither tracer changes it).
    om_read_cwd $$
  fi
  om_check_control
  om_backend_check
  om_prepare_bundle
  om_move_control
  om_backend_argv
  # The tracer is given /proc/PID/fd/9 paths; record the bundle's real path,
  # which is what someone rerunning the command needs.
  OM_COMMAND=$(om_shell_quote "${OM_TRACER_ARGV[@]}")
  OM_COMMAND=${OM_COMMAND//"$OM_D"/$OM_OUT}
  OM_START_TIME=$(om_now_iso)

  trap 'om_on_signal interrupted' INT TERM HUP
  trap 'om_on_signal parent-died' USR1
  trap 'om_on_detach' USR2
  # orphanmap reads our stdout and stderr; if it is killed, writing to them must
  # fail quietly rather than kill this script before it has detached the tracer.
  trap '' PIPE

  # The traced command's stdout goes to our stderr: stdout carries only the bundle path.
  # With -- CMD the command's stderr is shown and kept in tracer.stderr as well
  # (strace cannot keep them apart). fd 3 reaches capture-bpftrace.sh's wrapper.
  # The tee reads a FIFO rather than a process substitution: a process
  # substitution would become the tracer's child and keep strace waiting.
  # Neither the tracer nor the command inherits fd 9 (the bundle directory).
  # A launched command starts with the SIGINT and SIGQUIT dispositions this
  # script was started with, as it would if run directly: bash starts every
  # background job with both ignored (no job control here), and a command that
  # inherits SIG_IGN keeps it (Python gets no KeyboardInterrupt, a JVM installs
  # no handler and runs no shutdown hook on Ctrl-C). `trap -` in the job's
  # subshell restores what the script inherited, which is not always the
  # default: a script started with SIGINT ignored passes that on. Through
  # orphanmap it is the default, as Node resets every disposition when it
  # starts its children. strace then ignores both for itself, as it does with
  # -o FILE and a command; bpftrace catches SIGINT as before.
  # SIGTSTP, SIGTTIN and SIGTTOU too: a Ctrl-Z stops the command and the
  # tracer it runs under, as it would stop `strace CMD`, but never this script
  # or the watchdog, which end the capture if orphanmap dies meanwhile.
  # SIGPIPE likewise: this script ignores it, and a command started with it
  # ignored would get EPIPE where it expects to die (`cmd | head`). strace
  # ignores it for itself; bpftrace does not, so its stderr's reader, the tee,
  # must outlive it: the tee ignores HUP and TERM (a closed terminal, a
  # systemd stop: it ends when the tracer closes the FIFO), and with -p it
  # keeps writing tracer.stderr when our stderr's reader is gone.
  exec 3>&2
  # --log-command: the command's output goes to a file in the bundle, so a
  # command left running after a detach never writes into a closed pipe.
  if ((OM_LOG_COMMAND && OM_CMD_MODE)); then
    { exec 3> "$OM_D/command.log"; } 2>/dev/null || om_die "cannot create $OM_OUT/command.log"
  fi
  tracer_out=/dev/null
  [[ -z $OM_TRACER_STDOUT ]] || tracer_out=$OM_D/$OM_TRACER_STDOUT
  # Created here, so that a file system that cannot hold them is said so by
  # name, not by a bash error for the redirection below ("line N: …: No space
  # left on device").
  # Readable by root alone, whatever --out's directory lets others read (an existing one may be 0755): a
  # bpftrace trace holds its key (capture-bpftrace.sh), which a traced process reading it could print with
  # the records it forges in a file name (review 27). The tracer's redirections keep the mode.
  local name
  for name in trace.txt tracer.stderr; do
    { (umask 077 && : > "$OM_D/$name"); } 2>/dev/null || om_die "cannot create $name in $OM_OUT (is its file system full?)"
  done
  # The tracer dies with this script: setpriv sets PR_SET_PDEATHSIG, and the
  # kernel sends it SIGKILL the moment this script dies, however it dies.
  # Without it, `kill -9` of this script and of its watchdog (as `pkill -9 -f
  # capture-strace.sh` does) left strace attached to the target, reparented
  # to init, with no --duration and no one to stop it (review 5). A strace
  # killed so is detached from its tracees by the kernel, and they run on
  # (TracerPid 0); bpftrace's probes close with it.
  local guard=()
  if setpriv --pdeathsig KILL -- true 2>/dev/null; then
    guard=(setpriv --pdeathsig KILL --)
  else
    om_log "setpriv --pdeathsig (util-linux 2.33 or later) is not available: should this script and its watchdog both be killed, the tracer would run on"
  fi
  # -p: the target as it is now (its starttime), so that its exit while the
  # tracer starts is seen even if its pid is reused meanwhile.
  ((OM_CMD_MODE)) || om_identify "$OM_TARGET_PID" OM_TARGET_ST
  # -p: its maps before the tracer starts. maps-start.txt is read once the
  # tracer has attached, and what the target unmaps in between, the trace
  # shows of a mapping no snapshot holds: a target that watched its own
  # TracerPid unlinked a mapped file and unmapped it then, and its leak read
  # as clean (review 32, F3). Within the time maps-start.txt may take; past
  # it, or stopped, it is left out.
  if ((!OM_CMD_MODE)) && [[ -z $OM_STOP_REASON ]]; then
    om_bounded "$OM_START_MAPS_SECONDS" v om_snapshot_maps "$OM_TARGET_PID" "$OM_D/maps-before.txt"
    case $? in
      0) ;;
      124)
        om_retry rm -f -- "$OM_D/maps-before.txt.tmp" "$OM_D/maps-before.txt"
        [[ -n $OM_STOP_REASON ]] || om_log "maps-before.txt left out: reading the maps of pid $OM_TARGET_PID took over $OM_START_MAPS_SECONDS s" ;;
      *) om_retry rm -f -- "$OM_D/maps-before.txt.tmp" "$OM_D/maps-before.txt" ;;
    esac
    [[ -f $OM_D/maps-before.txt && -z $OM_STOP_REASON ]] && om_note_nlink "$OM_TARGET_PID" "$OM_D/maps-before.txt"
    [[ -f $OM_D/maps-before.txt && -z $OM_STOP_REASON ]] && om_note_dontfork "$OM_TARGET_PID" "$OM_D/maps-before.txt"
    # Its children before the tracer starts, too: one that exits before the list made once the tracer is attached
    # (after the snapshots that must come at once) would be in neither, and a copy it held of a mapping whose file
    # the trace then shows removed would read as clean (review 87, D2: a child that exited 0.15 s after the attach,
    # childrenAtAttach [], exit 0 with --fail-on; on a loaded host the list came 3 s after the attach).
    if [[ -z $OM_STOP_REASON ]]; then
      om_tree_of "$OM_TARGET_PID" $((OM_MAX_CHILDREN_NAMED + 1)) OM_STOP_REASON
      OM_CHILDREN_BEFORE_TREE=$OM_TREE
    fi
  fi
  om_out tracer_start_ns date +%s%N
  if ((!OM_CMD_MODE)) && [[ -n $OM_STOP_REASON ]]; then
    # Stopped before the tracer starts (orphanmap killed, or a Ctrl-C, while
    # maps-before.txt was read): none is started, and the bundle is of a
    # process never attached to. strace attached 80 ms after orphanmap had
    # died, over a bundle that said it never did (review 33 attack, F5).
    :
  elif ((OM_CMD_MODE)); then
    om_stdin_to "$OM_D/fds-inherited.txt" || om_log "fds-inherited.txt left out: the command's stdin could not be read"
    local fifo="$OM_D/.stderr.fifo"
    mkfifo -m 0600 -- "$fifo" 2>/dev/null || om_die "cannot create .stderr.fifo in $OM_OUT (is its file system full?)"
    (trap '' HUP TERM; exec tee -p -- "$OM_D/tracer.stderr") < "$fifo" >&3 2>/dev/null 7<&- 9<&- &
    if [[ -z $OM_TRACER_STDOUT ]]; then
      (trap - INT QUIT PIPE TSTP TTIN TTOU; [[ -z ${int_ignored:-} ]] || trap '' INT; exec "${guard[@]}" "${OM_TRACER_ARGV[@]}") 0<&0 1>&3 2> "$fifo" 7<&- 9<&- &
    else
      (trap - INT QUIT PIPE TSTP TTIN TTOU; [[ -z ${int_ignored:-} ]] || trap '' INT; exec "${guard[@]}" "${OM_TRACER_ARGV[@]}") 0<&0 >> "$tracer_out" 2> "$fifo" 7<&- 9<&- &
    fi
    OM_TRACER_PID=$!
  else
    "${guard[@]}" "${OM_TRACER_ARGV[@]}" < /dev/null >> "$tracer_out" 2>> "$OM_D/tracer.stderr" 3>&- 7<&- 9<&- &
    OM_TRACER_PID=$!
  fi
  om_identify "$OM_TRACER_PID" OM_TRACER_ST
  local script_st
  om_identify $$ script_st
  om_watchdog "$$" "$script_st" 3>&- 7<&- &
  OM_WATCHDOG_PID=$!
  om_identify "$OM_WATCHDOG_PID" OM_WATCHDOG_ST

  # Wait for the attach (-p) or for the launched command to exec (-- CMD),
  # by the clock: on a busy host each turn of this loop takes longer than its
  # sleep, and bpftrace alone compiles for 8-40 s before it attaches (a busy
  # broker is where it is needed most). strace attaches at once.
  local attach_wait=30 now deadline
  [[ $OM_BACKEND == bpftrace ]] && attach_wait=120
  printf -v now '%(%s)T' -1
  deadline=$((now + attach_wait))
  while ((now < deadline)); do
    if ((OM_CMD_MODE)); then
      om_find_cmd_pid
      OM_PID=$OM_FOUND
    elif om_backend_attached; then
      OM_PID=$OM_TARGET_PID
    fi
    [[ -n $OM_PID ]] && { attached=1; break; }
    # Not attached yet: a child gone now went before the trace, and held nothing the trace can show removed.
    ((OM_CMD_MODE)) || om_drop_gone_children
    om_take_requests
    [[ -n $OM_STOP_REASON ]] || ! om_parent_gone || OM_STOP_REASON=parent-died
    [[ -n $OM_STOP_REASON ]] && break
    om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || break
    # No use waiting for bpftrace to finish compiling (8-40 s) for a target that is gone.
    ((OM_CMD_MODE)) || ! om_group_gone "$OM_TARGET_PID" "$OM_TARGET_ST" || break
    om_say_refused
    sleep 0.05
    printf -v now '%(%s)T' -1
  done
  # A stop that came between the kernel's attach and this loop's look at it
  # (strace had seized the target, but not yet said so on its stderr): the
  # tracer is the target's all the same, and the bundle traced it, however
  # briefly. It was called a capture of nothing (a SIGUSR2 storm's first one).
  if ((!attached && !OM_CMD_MODE)) && [[ -n $OM_STOP_REASON ]] && om_tracer_of "$OM_TARGET_PID" && [[ $OM_TRACER_OF == "$OM_TRACER_PID" ]]; then
    OM_PID=$OM_TARGET_PID
    attached=1
  fi
  # -d counts from here: bpftrace spends 8-40 s compiling before it attaches.
  om_out start_ns date +%s%N
  OM_START_NS=$start_ns
  # By now the tracer has opened the FIFO (or died), so its name can go, and
  # bpftrace has read its program (capture-bpftrace.sh's keyed copy).
  rm -f -- "$OM_D/.stderr.fifo" "$OM_D/.orphanmap.bt"
  om_note_attach "$attached" "$tracer_start_ns" "$start_ns"
  OM_ATTACHED=$attached
  if [[ -z $OM_PID ]] && ((!OM_CMD_MODE)); then
    OM_PID=$OM_TARGET_PID
    if om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" && [[ -z $OM_STOP_REASON ]]; then
      om_log "tracer did not attach to $OM_TARGET_PID within $attach_wait s"
      OM_STOP_REASON=attach-timeout
    fi
  fi
  if [[ -n $OM_PID ]]; then
    # -p: the process the tracer was started for, not whatever has its pid now.
    if ((OM_CMD_MODE)); then om_identify "$OM_PID" OM_PID_ST; else OM_PID_ST=$OM_TARGET_ST; fi
    om_note_command
  fi
  # Nothing of a process the tracer never attached to: no snapshot either, or
  # the bundle would hold both and an empty trace, and read as a process
  # checked and found sound (review 5: a stop while bpftrace compiled, a
  # target another tracer already held).
  # maps-before.txt is of no use once the tracer never attached, and a snapshot the bundle must then not hold.
  if ((!OM_CMD_MODE && (!attached || OM_GONE_AT_ATTACH))); then om_retry rm -f -- "$OM_D/maps-before.txt" "$OM_D/maps-before.nlink" "$OM_D/maps-before.dontfork"; fi
  if [[ -n $OM_PID ]] && ((attached && !OM_GONE_AT_ATTACH)); then
    # The target decides how long its maps take to read (262,000 mappings of
    # 3.9 KB paths: 25 s, traced all the while): a stop asked for meanwhile
    # ends the copy, and maps-start.txt is left out (review 10, R10-1).
    local read_from='' read_to=''
    om_trace_clock read_from -
    OM_START_MAPS_EPOCH=${EPOCHREALTIME/,/.}
    om_uptime_cs OM_START_MAPS_UPTIME
    om_bounded "$OM_START_MAPS_SECONDS" v om_snapshot_maps "$OM_PID" "$OM_D/maps-start.txt"
    case $? in
      0) [[ -n $read_from ]] && om_trace_clock read_to + && OM_START_MAPS_READ="[$read_from, $read_to]" ;;
      2) OM_WRITE_FAILED+=' maps-start.txt' ;;
      124)
        rm -f -- "$OM_D/maps-start.txt.tmp"
        # (Cut after its rename, it is whole.)
        if [[ ! -e $OM_D/maps-start.txt ]]; then
          if [[ -n $OM_STOP_REASON ]]; then om_log "maps-start.txt left out: the capture was stopped while pid $OM_PID's maps were read"
          else om_log "maps-start.txt left out: reading the maps of pid $OM_PID took over $OM_START_MAPS_SECONDS s"; fi
        fi ;;
    esac
    # Whether its names are ours (om_gone_from_start): the same mount namespace and root. Read through a
    # live thread when the leader is a zombie whose threads run on: the leader's own are gone, and the
    # process read as exited while it ran on in a root of its own (review 33 attack, F6: sameView null, clean).
    local their_ns our_ns
    om_live_dir "$OM_PID"
    om_out their_ns readlink "$OM_LIVE_DIR/ns/mnt" 2>/dev/null
    om_out our_ns readlink /proc/self/ns/mnt 2>/dev/null
    OM_VIEW_UNREAD=0
    if [[ -n $their_ns && $their_ns == "$our_ns" && $OM_LIVE_DIR/root/ -ef / ]]; then OM_SAME_VIEW=1
    elif [[ -z $their_ns ]] || ! om_running "$OM_PID" "$OM_PID_ST"; then OM_VIEW_UNREAD=1; fi
    # A stop asked for meanwhile ends it: fds-start.txt is then left out.
    om_bounded "$OM_FDS_SECONDS" v om_snapshot_fds "$OM_PID" "$OM_D/fds-start.txt"
    case $? in
      2) OM_WRITE_FAILED+=' fds-start.txt' ;;
      124)
        rm -f -- "$OM_D/fds-start.txt.tmp"
        if [[ -n $OM_STOP_REASON ]]; then om_log "fds-start.txt left out: the capture was stopped first"
        else om_log "fds-start.txt left out: listing the open fds of pid $OM_PID took over $OM_FDS_SECONDS s"; fi ;;
    esac
    # Its child processes now: the tracer follows only those it forks from here
    # on, so these run untraced, and meta.json names them (review 24: a fio job
    # forked before the attach held a 32 MiB deleted mapping, unreported).
    # Not a launched command's: the tracer follows it from its exec, and what
    # it forked since (review 25: those were said to be untraced). Listed
    # right after the snapshots, before the reads the target can make slow,
    # and with those listed before the tracer started that are gone since
    # (review 87, D2): each exited before the capture could read its maps,
    # which the analysis tells. By pid: one listed again with another start
    # time is the process that has that pid now.
    local entry
    if ((!OM_CMD_MODE)); then
      om_tree_of "$OM_PID" $((OM_MAX_CHILDREN_NAMED + 1)) OM_STOP_REASON
      for entry in $OM_TREE $OM_CHILDREN_BEFORE_TREE; do
        [[ ${entry%%:*} == "$OM_PID" || ",$OM_CHILDREN_AT_ATTACH," == *",${entry%%:*},"* ]] && continue
        # As many as each list holds: OM_MAX_CHILDREN_NAMED, and one more that says the list is cut.
        [[ $OM_CHILDREN_AT_ATTACH =~ ^([0-9]+,){$OM_MAX_CHILDREN_NAMED} ]] && break
        OM_CHILDREN_AT_ATTACH+="${OM_CHILDREN_AT_ATTACH:+,}${entry%%:*}"
        OM_CHILDREN_AT_ATTACH_TREE+="$entry "
      done
    fi
    # The command's stdin was read before the tracer started it, and bpftrace takes seconds to load: a rename of
    # it meanwhile, by a process not traced, would leave the name the trace then sees go another file's (review
    # 45, G3). Read again now that the tracer is attached (after the snapshots, which must come at once): a name
    # that changed is left out.
    # Removed since leaves the name as it was, " (deleted)" after it: the command's own unlink (traced) or not,
    # unless another file has that name now.
    # (Read by files, not om_out: its `read` takes this shell's fd 0 for its pipe while readlink looks at it.)
    if ((OM_CMD_MODE)) && [[ -f $OM_D/fds-inherited.txt ]]; then
      local stdin_then='' stdin_now=''
      om_stdin_to "$OM_D/.fds-inherited.again" && IFS= read -r -d '' stdin_now < "$OM_D/.fds-inherited.again"
      IFS= read -r -d '' stdin_then < "$OM_D/fds-inherited.txt"
      om_retry rm -f -- "$OM_D/.fds-inherited.again"
      stdin_then=${stdin_then%$'\n'}
      stdin_now=${stdin_now%$'\n'}
      stdin_now=${stdin_now% (deleted)}
      stdin_now=${stdin_now#0$'\t'}
      # (A name with a backslash or a newline is escaped in the file: not looked up.)
      if [[ -z $stdin_now || $stdin_now != "${stdin_then#0$'\t'}" ]] || { [[ $stdin_now != *\\* && -e $stdin_now ]] && ! [[ $stdin_now -ef /proc/$$/fd/0 ]]; }; then
        om_retry rm -f -- "$OM_D/fds-inherited.txt"
        om_log "fds-inherited.txt left out: the command's stdin was renamed or replaced while the tracer started"
      fi
    fi
    # After fds-start.txt: what the target can make slow comes after what must be read at once (review 29).
    [[ -f $OM_D/maps-start.txt ]] && om_note_linked "$OM_PID" "$OM_D/maps-start.txt"
    [[ -f $OM_D/maps-start.txt ]] && ((!OM_CMD_MODE)) && om_note_dontfork "$OM_PID"
    [[ -f $OM_D/maps-start.txt ]] && ((!OM_CMD_MODE)) && om_note_nlink "$OM_PID" "$OM_D/maps-start.txt"
    om_read_process "$OM_PID"
    # Read once attached, as maps-start.txt is: a chdir from here on is in the trace.
    ((OM_CMD_MODE)) || om_read_cwd "$OM_PID"
    om_out OM_MAP_COUNT_START om_count_lines "$OM_D/maps-start.txt"
  fi
  # A stop asked for already (orphanmap died while the snapshots were read)
  # lets the target go first: meta.json is written once the tracer has
  # stopped, as at every stop. Written here, it took 1 s on a loaded machine
  # while the target stayed traced (review 10's test under CI's load).
  if [[ -z $OM_STOP_REASON ]] && ! om_write_meta; then
    om_log "error: cannot write meta.json into $OM_OUT (is its file system full?); stopping the capture"
    OM_WRITE_FAILED+=' meta.json'
    [[ -n $OM_STOP_REASON ]] || OM_STOP_REASON=write-failed
  fi

  while om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"; do
    om_take_requests
    [[ -n $OM_STOP_REASON ]] || ! om_parent_gone || OM_STOP_REASON=parent-died
    if [[ -z $OM_STOP_REASON ]] && om_deadline_reached "$start_ns" "$OM_DURATION"; then
      OM_STOP_REASON=duration
    fi
    if [[ -z $OM_STOP_REASON ]] && om_disk_full; then
      om_log "error: the file system holding $OM_OUT is full: the tracer can no longer write the trace; stopping the capture"
      OM_STOP_REASON=disk-full
    fi
    if [[ -z $OM_STOP_REASON && -n $OM_PID ]] && ! om_running "$OM_PID" "$OM_PID_ST"; then
      # As soon as it is gone: what it mapped is looked up before anything else may remove it.
      ((OM_ATTACHED)) && om_gone_from_start
      # strace ends by itself when its tracees are gone; bpftrace -p does not.
      [[ -n $OM_STOP_REASON ]] || om_nap 0.5
      om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || break
      # A stop asked for during the lookup (which it cut short) is what stops the capture.
      [[ -n $OM_STOP_REASON ]] || OM_STOP_REASON=target-exited
      ((OM_CMD_MODE)) && [[ $OM_BACKEND == strace ]] && om_note_left_running
    fi
    if [[ -n $OM_STOP_REASON ]]; then
      om_stop_tracer
      break
    fi
    om_say_refused
    om_nap 0.2
  done
  # strace ended with its target: the loop did not see the target go.
  if ((OM_ATTACHED)) && [[ -n $OM_PID ]] && ! om_running "$OM_PID" "$OM_PID_ST"; then om_gone_from_start; fi
  om_wait_tracer
  status=$OM_TRACER_STATUS
  # Gone by the end of the wait for the attach: traced only if the trace shows it (its exit at least).
  if ((OM_GONE_AT_ATTACH)) && [[ $OM_STOP_REASON == target-exited ]]; then
    if om_backend_saw_pid "$OM_TARGET_PID"; then OM_ATTACHED=1; else OM_STOP_REASON=target-exited-before-attach OM_ATTACHED=0; fi
  fi

  # A command too short-lived to be seen running: take its pid from the trace,
  # which holds it from its execve on (a -p trace holds nothing from before
  # the attach this script saw, not even maps-start.txt: that stays as seen).
  if ((OM_CMD_MODE && !OM_ATTACHED)) && om_backend_attach_seen; then OM_ATTACHED=1; fi
  if [[ -z $OM_PID ]] && ((OM_CMD_MODE)); then
    om_out OM_PID om_backend_first_pid
    om_write_meta || true
  fi

  # Nobody asked the tracer to stop: it failed to start or attach; or its
  # target ended (and with it the trace); or the tracer itself was killed or
  # crashed, with the target still running or dying with it (--kill-on-exit).
  if [[ -z $OM_STOP_REASON ]]; then
    if { ((OM_CMD_MODE)) && ! om_backend_traced; } || { ((!OM_CMD_MODE)) && ((!attached)); }; then
      OM_STOP_REASON=tracer-failed
    elif [[ -n $OM_PID ]] && { om_running "$OM_PID" "$OM_PID_ST" || ! om_backend_exit_seen "$OM_PID"; }; then
      OM_STOP_REASON=tracer-died
      if om_running "$OM_PID" "$OM_PID_ST"; then
        om_log "error: the tracer ended ($(om_status_text "$status")) while pid $OM_PID still runs: the trace stops there; pid $OM_PID keeps running, untraced (TracerPid $(om_tracer_pid "$OM_PID"))"
      else
        # What the trace last shows of it says where it stopped (and was, once, the way to a tracer's own omission).
        local last='' said=''
        declare -F om_backend_last_of > /dev/null && om_out last om_backend_last_of "$OM_PID"
        [[ -n $last ]] && { om_escape_ctl last "$last"; said="; its last line there: $last"; }
        om_log "error: the tracer ended ($(om_status_text "$status")) before the trace showed pid $OM_PID's exit: the trace stops there$said"
      fi
    fi
  fi

  # bpftrace -c ends with its command: a process of its tree still running then (a daemon) runs on untraced, said
  # as strace's are (review 70, P4: `pg_ctl start` read as a whole, clean capture).
  if ((OM_CMD_MODE)) && [[ -z $OM_LEFT_RUNNING && ${OM_STOP_REASON:-target-exited} == target-exited ]] && declare -F om_backend_left_running > /dev/null; then
    om_backend_left_running
  fi
  om_finish "${OM_STOP_REASON:-target-exited}" || finished=0
  # The bundle is finished and the tracer gone: the watchdog has nothing left to do, and ends at once rather than at
  # its next look (every 0.25 s, longer on a busy host), so that no process of the capture outlives it (a CI run of
  # capture-ctrl-c found one, a copy of this script, 500 ms after the capture had ended).
  # Only while it is that very process: bash reaps a child that ended, and its pid may be another's by now.
  if [[ -n $OM_WATCHDOG_PID ]] && om_alive "$OM_WATCHDOG_PID" "$OM_WATCHDOG_ST"; then
    kill -KILL "$OM_WATCHDOG_PID" 2>/dev/null
    wait "$OM_WATCHDOG_PID" 2>/dev/null
  fi
  exec 3>&-
  # Where the bundle is now: whoever owns a directory above it may have moved
  # it, and named it as they like (a newline, escape sequences). The x keeps
  # a name's trailing newlines, which $(...) would strip.
  om_where

  case $OM_ATTACHED:$OM_EXIT_REASON in
    0:interrupted|0:parent-died|0:detached|0:duration)
      om_log "error: the capture was stopped ($(om_reason_text "$OM_EXIT_REASON")) before $OM_BACKEND attached to $( ((OM_CMD_MODE)) && printf 'the command' || printf 'pid %s' "$OM_TARGET_PID"): nothing of it was traced, so this bundle proves nothing (meta.json says \"attached\": false, \"complete\": false)" ;;
    *:disk-full)
      om_log "error: the file system holding $OM_OUT filled up: trace.txt lacks what the tracer could not write (meta.json says \"complete\": false)" ;;
    *:target-exited-before-attach)
      om_log "error: pid $OM_TARGET_PID exited before $OM_BACKEND attached to it$( ((OM_GONE_AFTER > 0)) && printf ' (seen gone %s s after %s started)' "$OM_GONE_AFTER" "$OM_BACKEND"): nothing of it was traced, so this bundle proves nothing (meta.json says \"complete\": false)$([[ $OM_BACKEND == bpftrace ]] && printf '; bpftrace takes 8-40 s to attach on a busy host, strace a moment'); to trace a short-lived program, start it under the capture (-- CMD ARGS...)" ;;
    *:attach-timeout|*:tracer-failed)
      if ((status == 0)); then
        om_log "the tracer ended before it traced anything (exit status 0); its stderr is in $OM_OUT/tracer.stderr:"
      else
        om_log "the tracer failed ($(om_status_text "$status")); its stderr is in $OM_OUT/tracer.stderr:"
      fi
      tail -n 5 "$OM_D/tracer.stderr" >&2 ;;
    *:detached)
      if [[ -n $OM_PID ]] && om_running "$OM_PID" "$OM_PID_ST"; then
        om_log "detached: pid $OM_PID runs on, untraced (TracerPid $(om_tracer_pid "$OM_PID"))$( ((OM_LOG_COMMAND && OM_CMD_MODE)) && printf '; its output goes to %s' "$OM_OUT/command.log")"
      fi ;;&
    *)
      if [[ -n $OM_WRITE_FAILED ]]; then
        om_log "error: could not write${OM_WRITE_FAILED} into $OM_OUT: the bundle is incomplete (meta.json says \"complete\": false)"
      fi ;;
  esac
  # The path, for whoever ran this script: quoted as a shell would take it back
  # ($'b\nc') when it holds a control character, so that it is one line that
  # cannot drive a terminal. With --print-id (orphanmap), the device and inode
  # of the bundle directory first, then the exact path: orphanmap reads the
  # bundle only from a directory with that device and inode, so no rename
  # can make it read another one.
  if ((OM_PRINT_ID)); then
    printf 'id %s\n%s\n' "$(stat -L -c '%d:%i' -- "$OM_D")" "$OM_OUT"
  elif [[ $OM_OUT == *[[:cntrl:]]* ]]; then
    printf '%q\n' "$OM_OUT"
  else
    printf '%s\n' "$OM_OUT"
  fi
  # Stopped by SIGINT, SIGTERM or SIGHUP: 130, the bundle complete up to then;
  # or, stopped before the tracer attached, holding nothing of the process, as
  # the message above and meta.json ("attached": false) say.
  [[ $OM_EXIT_REASON == interrupted ]] && ((finished)) && [[ -z $OM_WRITE_FAILED ]] && return 130
  # Incomplete (tracer failed or died, disk full, a file not written, nothing traced): 1.
  ((finished)) && ((OM_COMPLETE)) || return 1
  return 0
}

#!/usr/bin/env bash
# capture-bpftrace.sh — capture a bundle of file, fd, mapping and lifecycle events with bpftrace (scripts/orphanmap.bt).
#
# USAGE
#   capture-bpftrace.sh -p PID -o BUNDLE_DIR [-d SECONDS] [--parent-pid PID]
#   capture-bpftrace.sh -o BUNDLE_DIR [-d SECONDS] [--parent-pid PID] -- CMD ARGS...
#
#   -p PID          trace a running process (all threads) and what it forks from now on
#   -- CMD ARGS...  run CMD under bpftrace -c (through a small exec wrapper, since
#                   bpftrace 0.17 splits -c on blanks; the command's stdout goes to
#                   this script's stderr so it stays out of the trace)
#   -o BUNDLE_DIR   a new directory for the bundle, created here (mode 0700; its
#                   parent must exist), or an empty directory owned by this user
#                   that no one else can write to; anything else is refused
#   -d SECONDS      stop SECONDS after the probes are attached; without it, run
#                   until interrupted or the target exits
#   --parent-pid P  stop as soon as process P dies, even by SIGKILL
#   --log-command   with -- CMD: the command's stdout and stderr go to
#                   BUNDLE_DIR/command.log instead of this script's stderr
#   --print-id      print "id DEV:INODE" of the bundle directory, then its exact
#                   path (orphanmap reads the bundle only where the id matches)
#   --out-parent-fd N  the directory that holds BUNDLE_DIR, open as fd N: the
#                   bundle is made in it, whatever its path leads to meanwhile
#                   (orphanmap opens it with no other user's link on the way)
#   --control-fd N  a socket orphanmap sends its requests on, a byte each: "s"
#                   stops as SIGTERM does, "d" detaches as SIGUSR2 does (a
#                   signal can be lost; a byte read is not)
#
#   Stops on -d, SIGINT/SIGTERM/SIGHUP/SIGUSR2, a full disk, or when the target
#   exits; bpftrace then unloads its probes. With -- CMD the command is ended
#   (SIGTERM, then SIGKILL) when the capture stops before it exits: bpftrace -c
#   cannot leave it running (SIGUSR2, detach, is refused; meta.json
#   "canDetach": false). Startup takes 8-15 s
#   (bpftrace 0.17 compiles 70 programs); the trace is complete from the moment
#   maps-start.txt is written. Prints the bundle path on stdout (where it is
#   at the end; $'...'-quoted if it holds a control character); the bundle holds
#   meta.json, trace.txt, maps-start.txt, fds-start.txt, maps-end.txt,
#   tracer.stderr, and with -- CMD run-command.sh (inside the bundle, which only
#   this user can write to, so no one can swap it before bpftrace runs it) and
#   fds-inherited.txt (the command's stdin, read before it runs).
#   Always runs scripts/orphanmap.bt from this directory: no variable selects
#   another program (bpftrace runs as root; see docs/safety.md).
#   Exit status: 0 bundle complete; 130 stopped by SIGINT/SIGTERM/SIGHUP, bundle
#   complete up to then, or empty if the stop came before bpftrace attached
#   (meta.json says "attached": false); 1 bundle incomplete (bpftrace failed
#   or died, never attached, the disk filled up, or the -p target exited
#   before bpftrace attached: "exitReason": "target-exited-before-attach";
#   meta.json says "complete": false); 2 bad usage, or -o refused.
#   BPFTRACE_PERF_RB_PAGES (default 1024 pages per CPU) is passed on (raise it if
#   meta.json reports lostEvents > 0).
#
# EXAMPLE (trace.txt, format 2; see scripts/orphanmap.bt for the full grammar)
#   Attaching 70 probes...
#   3f0c5e9a1b2d4c67 orphanmap-bt 2 begin ns=1498737093204 cpu=1 self=26011 root=0
#   3f0c5e9a1b2d4c67 1498786270073 0 26514 26581 open sys=openat ret=3 dfd=-100 flags=0x80242 ino=2164510 dev=266338304 path=/tmp/omw/data dir/00000000.index 3f0c5e9a1b2d4c67
#   3f0c5e9a1b2d4c67 1498786347689 0 26514 26581 mmap ret=0x7fc9b8fe2000 addr=0x0 len=4096 prot=0x3 flags=0x1 fd=3 off=0x0 ens=1498786335085 mm=0xffff8881097d5140 ino=2164510 dev=266338304 nlink=1
#   3f0c5e9a1b2d4c67 1498786587098 0 26514 26581 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/tmp/omw/data dir/00000000.index.deleted 3f0c5e9a1b2d4c67
#   3f0c5e9a1b2d4c67 1498798120442 1 26602 26602 stop
#   3f0c5e9a1b2d4c67 1503436511894 1 0 0 end
#
# FIELDS
#   KEY <ns> <cpu> <tgid> <tid> <event> key=value ... [path=<path> KEY]
#   KEY: 16 random hex digits, this capture's alone (never on a command line,
#   trace.txt mode 0600): every line the script prints starts with it, and every
#   path ends with it, so a traced process cannot print a record of its own in
#   a file name. ns: CLOCK_BOOTTIME at syscall exit; cpu: the perf buffer that
#   carried the record (ordered within a CPU only); path= always last. bpftrace's
#   own "Lost N events" lines are counted into meta.json lostEvents; records whose path= reaches
#   BPFTRACE_STRLEN-1 bytes (possibly cut) into truncatedEvents.
#
# OVERHEAD
#   About 8 us per traced syscall of the target tree; other processes pay a map
#   lookup per syscall of the traced kinds. No ptrace: the target never stops.
#
# REQUIREMENTS
#   bpftrace >= 0.17 (apt-get install -y bpftrace), root (CAP_BPF, CAP_PERFMON,
#   CAP_SYS_ADMIN), kernel BTF (/sys/kernel/btf/vmlinux), tracefs mounted
#   (mount -t tracefs nodev /sys/kernel/tracing), bash >= 4.4, coreutils, sed, awk.
set -u -o pipefail
OM_PROG=capture-bpftrace
# shellcheck source=bundle-lib.sh
. "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/bundle-lib.sh"
OM_SCRIPT_DIR=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")

om_usage() { sed -n '3,/^# EXAMPLE/{/^# EXAMPLE/d; s/^# \{0,1\}//p; }' "${BASH_SOURCE[0]}"; }

OM_BT_STRLEN=200
# Never taken from the environment: a variable that picks the program would let
# whoever can set it (sudo env_keep, a unit file, a wrapper) load any bpftrace
# program as root. To try a modified program, edit orphanmap.bt in a checkout.
OM_BT_SCRIPT=$OM_SCRIPT_DIR/orphanmap.bt

om_backend_check() {
  OM_BACKEND=bpftrace
  command -v bpftrace >/dev/null 2>&1 || om_die "bpftrace is not installed (apt-get install -y bpftrace; dnf install bpftrace)"
  [[ -f $OM_BT_SCRIPT ]] || om_die "bpftrace script $OM_BT_SCRIPT not found"
  if [[ ! -d /sys/kernel/tracing/events && ! -d /sys/kernel/debug/tracing/events ]]; then
    # Mounted, but root's alone (mode 0700): to anyone else it looks absent (review 11).
    if ((EUID != 0)) && grep -q '^[^ ]* [^ ]* tracefs ' /proc/self/mounts 2>/dev/null; then
      om_die "tracefs is mounted but this user (uid $EUID) cannot read it, so bpftrace cannot find tracepoints: run orphanmap as root (bpftrace needs it)"
    fi
    om_die "tracefs is not mounted, so bpftrace cannot find tracepoints; mount it with: mount -t tracefs nodev /sys/kernel/tracing"
  fi
  OM_TRACER_VERSION=$(bpftrace --version 2>/dev/null | head -n 1)
}

# bpftrace 0.17 splits -c on blanks without quoting and runs only ELF files:
# run "/bin/sh WRAPPER", a wrapper that sends the command's stdout to fd 3 (our
# stderr) and execs the exact argv. WRAPPER is /proc/PID/fd/9/run-command.sh:
# no blanks, and it names the file in the bundle directory by inode, a
# directory only this user can write to, so the file /bin/sh runs as root is
# the one written here. Before it execs the command it writes its pid (the
# command's) to .command-pid beside itself: see om_backend_cmd_pid.
om_write_wrapper() {
  OM_WRAPPER=$OM_D/run-command.sh
  {
    printf '#!/bin/sh\n# written by capture-bpftrace.sh: bpftrace -c cannot quote arguments\n'
    printf 'exec 1>&3 3>&-\n'
    printf 'echo $$ > "${0%%/*}/.command-pid"\n'
    printf 'exec %s\n' "$(om_shell_quote "${OM_CMD[@]}")"
  } > "$OM_WRAPPER" && chmod 0700 "$OM_WRAPPER" || om_die "cannot write $OM_OUT/run-command.sh"
}

# bpftrace starts helpers of its own while it compiles (0.17 runs
# `sh -c "clang-14 -Wp,-v …"` to find the kernel headers): a child of bpftrace
# that is not bpftrace is not always the command, and one taken for it ended
# the capture as "target-exited" before bpftrace had attached, the command
# never run. The wrapper names the command: its pid, once it runs.
om_backend_cmd_pid() {
  local pid='' args=()
  read -r pid 2>/dev/null < "$OM_D/.command-pid"
  [[ $pid =~ ^[1-9][0-9]{0,6}$ ]] || return 0
  # Written just before the wrapper's exec: until the exec, the pid is still
  # the wrapper's, and a snapshot would describe /bin/sh (final review).
  mapfile -d '' args 2>/dev/null < "/proc/$pid/cmdline"
  [[ ${args[1]-} == */run-command.sh ]] && return 0
  OM_FOUND=$pid
  rm -f -- "$OM_D/.command-pid"
}

# om_write_keyed_script -> OM_BT_KEY and $OM_D/.orphanmap.bt: orphanmap.bt
# with a random key before every line it prints, and after every path (zeros
# in the file). The script prints file names raw, so a traced process can put
# a newline and a line shaped like a record in a name (a munmap that hides its
# leak); without the key, which it cannot read, such a line is the rest of
# that name. The key is in no command line (which any user can read: review
# 27 caught it in a grep's as the capture stopped): the programs that need it
# take it from their environment (OM_TRACE_KEY), which only root may read, and
# the files that hold it are 0600 in the bundle directory. The copy is removed
# once bpftrace has read it (om_finish, and after the attach).
om_write_keyed_script() {
  local key
  om_out key od -An -N8 -tx8 /dev/urandom || om_die "cannot read /dev/urandom for the trace's key"
  key=${key//[[:space:]]/}
  [[ $key =~ ^[0-9a-f]{16}$ ]] || om_die "cannot read /dev/urandom for the trace's key"
  OM_BT_KEY=$key
  # Nothing to rewrite would mean a script with no key to print: refused rather than run unkeyed.
  grep -q 'printf("0000000000000000 ' "$OM_BT_SCRIPT" || om_die "$OM_BT_SCRIPT prints no line with the key placeholder"
  # shellcheck disable=SC2016
  (umask 077 && OM_TRACE_KEY=$key awk '/printf\("0000000000000000 / { gsub(/0000000000000000/, ENVIRON["OM_TRACE_KEY"]) } 1' "$OM_BT_SCRIPT" > "$OM_D/.orphanmap.bt") 2>/dev/null ||
    om_die "cannot write the keyed copy of orphanmap.bt into $OM_OUT (is its file system full?)"
  ! grep -q 'printf(.*0000000000000000' "$OM_D/.orphanmap.bt" || om_die "the keyed copy of orphanmap.bt still holds the placeholder"
}

# om_keyed_awk PROGRAM FILE -> awk PROGRAM over the trace's records, with the key in its environment, never on
# its command line. In PROGRAM, `keyed` is true for a line the script printed (a record or header line: it
# starts with the key), false for the lines of a path (between a record's path= and the line that ends in
# " KEY": a file name's newlines), and for bpftrace's own lines; `$0` is the line without the key.
om_keyed_awk() {
  # shellcheck disable=SC2016
  # Bytes, not characters: a path's length is counted as bpftrace cuts it.
  LC_ALL=C OM_TRACE_KEY=$OM_BT_KEY awk '
    BEGIN { key = ENVIRON["OM_TRACE_KEY"]; prefix = key " "; suffix = " " key; cut = length(suffix) }
    function ends_keyed(line) { return length(line) >= cut && substr(line, length(line) - cut + 1) == suffix }
    { keyed = 0 }
    # A line of the script before the path ends: that record was cut (as the parser reads it), and this one is read.
    in_path && index($0, prefix) == 1 { in_path = 0 }
    in_path { if (ends_keyed($0)) in_path = 0 }
    !in_path && !keyed && index($0, prefix) == 1 {
      keyed = 1
      $0 = substr($0, length(prefix) + 1)
      if (index($0, " path=") && !ends_keyed($0)) in_path = 1
    }
    in_path && !keyed { next }
    '"$1" "$2"
}

om_backend_argv() {
  OM_TRACER_STDOUT=trace.txt
  om_write_keyed_script
  OM_TRACER_ARGV=(env "BPFTRACE_STRLEN=$OM_BT_STRLEN" __BPFTRACE_NOTIFY_PROBES_ATTACHED=1)
  # bpftrace 0.17's default of 64 pages per CPU loses events on a busy JVM
  # (bench/overhead-results.md); 1024 pages is 4 MiB per CPU.
  OM_TRACER_ARGV+=("BPFTRACE_PERF_RB_PAGES=${BPFTRACE_PERF_RB_PAGES:-1024}")
  OM_TRACER_ARGV+=(bpftrace)
  if ((OM_CMD_MODE)); then
    OM_NO_DETACH='bpftrace ends the program it started when bpftrace exits (bpftrace -c sets PR_SET_PDEATHSIG on it); to leave a program running after the capture, start it yourself and use --pid'
    om_write_wrapper
    OM_TRACER_ARGV+=(-c "/bin/sh $OM_WRAPPER" "$OM_D/.orphanmap.bt" 0)
  else
    OM_TRACER_ARGV+=("$OM_D/.orphanmap.bt" "$OM_TARGET_PID")
  fi
  # The CPUs online, printed in the header (cpus=): the reader merges one output buffer per CPU.
  OM_TRACER_ARGV+=("$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 0)")
  # This script, the only process whose kill(-bpftrace, 0) marks the stop (om_backend_stopping).
  OM_TRACER_ARGV+=("$$")
}

# bpftrace -c sets PR_SET_PDEATHSIG (SIGTERM) on the command it starts and
# kills it when bpftrace exits: a launched command cannot outlive the capture.
om_backend_detach_command() {
  om_log "bpftrace cannot let go of a command it started"
}

om_backend_attached() {
  grep -q '__BPFTRACE_NOTIFY_PROBES_ATTACHED' "$OM_D/tracer.stderr" 2>/dev/null
}

# bpftrace can end before its probes are attached and still exit 0 (seen
# once in a test run: its stderr held only its usual RLIMIT_MEMLOCK line, and
# the command, released, died with it): nothing was traced then. The BEGIN
# probe's line, which bpftrace writes itself as it attaches its probes (and
# not through the tee that copies its stderr later), says it got that far.
om_backend_traced() { om_retry om_keyed_awk 'keyed && /^orphanmap-bt [0-9]+ begin / { found = 1; exit } END { exit !found }' "$OM_D/trace.txt" 2>/dev/null; }

# bpftrace 0.17 raises RLIMIT_MEMLOCK to unlimited as it starts, and prints
# "ERROR: … couldn't set RLIMIT_MEMLOCK" where root may not (no
# CAP_SYS_RESOURCE: a container, a sandboxed VM). Kernels from 5.11 charge BPF
# memory to the cgroup instead; on any kernel, probes that attached did not
# need it. A launched command's capture shows bpftrace's stderr as it comes,
# so an on-call engineer reads "ERROR" just before a capture that works: said
# so, once the probes are attached.
om_backend_attach_note() {
  ((OM_CMD_MODE)) || return 0
  grep -q "couldn't set RLIMIT_MEMLOCK" "$OM_D/tracer.stderr" 2>/dev/null || return 0
  om_log "bpftrace's RLIMIT_MEMLOCK error above did no harm: its probes attached all the same"
}

# The probes attached: bpftrace's notice on its stderr, or the BEGIN probe's header in the trace.
om_backend_attach_seen() { om_backend_attached || om_backend_traced; }

# Lines with the key only: "KEY <ns> <cpu> <tgid> <tid> <event> …" (a line without it is a file name's rest).
om_backend_first_pid() {
  om_keyed_awk 'keyed && $1 ~ /^[0-9]+$/ && $3 ~ /^[1-9][0-9]*$/ { print $3; exit }' "$OM_D/trace.txt" 2>/dev/null
}

# om_backend_mapped_names -> one name a line, for om_gone_mapped: each
# absolute name an open record gave a file the trace shows mapped (an mmap
# record's fd, by its inode), and each absolute name a rename record gave a
# file since (both names of a RENAME_EXCHANGE: review 66, A-5; the engine
# looks for a mapped file by the names it has at its process's exit: review
# 52, R2), each under the new name of a directory above it that a rename
# record moved (review 53, S8: Kafka renames a deleted topic's partition
# directory to "*-delete"). A relative name is given by the real path of the
# directory that holds the file, from the `dir` records (orphanmap.bt's FIELDS),
# and its last component: git opens its packs as .git/objects/pack/…, and left
# out, a pack another process replaced while git held it read clean (review 74,
# F2). One bpftrace may have cut (OM_BT_STRLEN - 1 bytes or more) is left out;
# one holding a control character, which no line of the lists can hold, or a
# relative one whose directory is not known (a name of more than 64 bytes on
# the way) or whose last component is not as long as the file's own name there
# (a symbolic link to it), is counted into the file OM_UNCHECKED_FILE names
# (review 66, A-2). A symbolic link as long as the file's name is not told
# apart: the tag orphanmap.bt gives a name is a 64-bit hash awk cannot compute
# (review 76, F1), and the name looked up is one the file never had.
om_backend_mapped_names() {
  # shellcheck disable=SC2016
  om_keyed_awk "$OM_AWK_PATHS"'
    function field(name,  at) {
      at = index($0, " " name "=")
      if (!at) return ""
      at += length(name) + 2
      return substr($0, at, index(substr($0, at) " ", " ") - 1)
    }
    # The record ends with the key after its path; one that does not goes on on the next line (a newline in the name).
    # "" for none, and (setting unspelled) for a name that holds a control character.
    function whole_path(  at, name) {
      unspelled = 0
      at = index($0, " path=/")
      if (!at) return ""
      if (!ends_keyed($0)) { unspelled = 1; return "" }
      name = substr($0, at + 6, length($0) - at - 5 - cut)
      if (length(name) >= '"$OM_BT_STRLEN"' - 1) return ""
      if (name ~ /[\001-\037\177]/) { unspelled = 1; return "" }
      return normal(name)
    }
    # A relative name as the real path of the directory that holds the file and the last component of the name. The
    # dir= field of the record is the id of the `dir` record of that directory, with a tag of the name of the file
    # there and the length of that name in bytes in its low 24 bits. "" when the name is not relative or names no
    # directory (dir=0: not a regular file); "" with unspelled set when it cannot be given. A directory no record
    # has described yet is looked for again at the end, as the file is: bpftrace drains one buffer per CPU, and
    # another thread may print its open of a file in that directory before the record another CPU carried.
    function relative_path(file,  at, name, ref, base, id, dir) {
      unspelled = 0
      at = index($0, " path=")
      if (!at || substr($0, at + 6, 1) == "/" || (ref = field("dir")) !~ /^0x[0-9a-f]+$/ || length(ref) <= 8) return ""
      if (!ends_keyed($0)) { unspelled = 1; return "" }
      name = substr($0, at + 6, length($0) - at - 5 - cut)
      if (length(name) >= '"$OM_BT_STRLEN"' - 1) return ""
      base = name
      sub(/.*\//, "", base)
      id = substr(ref, 1, length(ref) - 6) "000000"
      if (base == "" || base == "." || base == ".." || length(base) != hex_byte[substr(ref, length(ref) - 1)] || base ~ /[\001-\037\177]/) {
        unspelled = 1
        return ""
      }
      if (!(id in dir_up)) {
        later_file[++laters] = file
        later_dir[laters] = id
        later_base[laters] = base
        return ""
      }
      if ((dir = dir_path(id)) == "") { unspelled = 1; return "" }
      return dir == "/" ? "/" base : dir "/" base
    }
    # The real path of the directory whose `dir` record has id "id", from the root of the process; "" when a
    # directory on the way is not known or its name was cut.
    function dir_path(id,  path, depth) {
      path = ""
      for (depth = 0; depth < 256; depth++) {
        if (id == "0x0") return path == "" ? "/" : path
        if (!(id in dir_up) || (id in dir_cut)) return ""
        # The root of a mount adds no name: its path is that of its mount point.
        if (dir_name[id] != "") path = "/" dir_name[id] path
        id = dir_up[id]
      }
      return ""
    }
    BEGIN { for (n = 0; n < 256; n++) { hex_byte[sprintf("%02x", n)] = n; hex_char[sprintf("%02x", n)] = sprintf("%c", n) } }
    # A directory (a later record of the same id replaces it: renamed or moved): its parent and its name, from hex.
    keyed && $5 == "dir" {
      id = field("id")
      dir_up[id] = field("up")
      len = field("len") + 0
      hex = field("name")
      delete dir_cut[id]
      if (len > 64 || 2 * len > length(hex)) { dir_cut[id] = 1; next }
      named_as = ""
      for (k = 1; k <= len; k++) named_as = named_as hex_char[substr(hex, 2 * k - 1, 2)]
      if (named_as ~ /[\001-\037\177\/]/ || index(named_as, "\000")) dir_cut[id] = 1
      dir_name[id] = named_as
      next
    }
    # The inode "file" was opened by "name": kept as that name, and as its directory node and last component, so that
    # the end gives it too the name a rename of a directory above it gave it.
    function opened(file, name,  dir) {
      if ((file " " name) in named) return
      named[file " " name] = 1
      dir = parent(name)
      leaf_file[++leaves] = file
      leaf_dir[leaves] = node_of(dir, 1)
      leaf_base[leaves] = substr(name, length(dir) + 2)
    }
    keyed && $5 == "open" && field("ret") ~ /^[0-9]+$/ && (file = field("ino")) ~ /^[1-9][0-9]*$/ {
      if ((name = whole_path()) != "" || (!unspelled && (name = relative_path(file)) != "")) opened(file, name)
      else if (unspelled) unspelled_file[file] = 1
      next
    }
    keyed && $5 == "mmap" && field("fd") ~ /^[0-9]+$/ && (file = field("ino")) ~ /^[1-9][0-9]*$/ { mapped[file] = 1; next }
    # The old name comes first, in a record of its own with the same thread and ns (records of two CPUs may
    # interleave in the file: review 66, A-7).
    keyed && $5 == "rename.old" { old[$4, $1] = whole_path(); next }
    keyed && $5 == "rename" && field("ret") == "0" {
      name = whole_path()
      if (name != "") renamed[name] = 1
      else if (unspelled) unchecked++
      from = old[$4, $1]
      delete old[$4, $1]
      if (from == "" || from == name) next
      # RENAME_EXCHANGE (2): each is where the other was.
      exchange = field("flags") ~ /^0x[0-9a-f]*[2367abef]$/
      if (name == "") { if (unspelled) moved(from, "", 0); next }
      if (exchange) renamed[from] = 1
      moved(from, name, exchange)
    }
    END {
      for (file in unspelled_file) if (file in mapped) unchecked++
      for (both in named) {
        split(both, part, " ")
        if (part[1] in mapped) { name = substr(both, length(part[1]) + 2); printed[name] = 1; print name }
      }
      for (k = 1; k <= leaves; k++) {
        if (!(leaf_file[k] in mapped)) continue
        name = path_of(leaf_dir[k])
        if (name == "" && leaf_dir[k] != 0) { unchecked++; continue }
        name = name "/" leaf_base[k]
        if (!(name in printed)) { printed[name] = 1; print name }
      }
      for (k = 1; k <= laters; k++) {
        if (!(later_file[k] in mapped)) continue
        if ((name = dir_path(later_dir[k])) == "") { unchecked++; continue }
        name = name == "/" ? "/" later_base[k] : name "/" later_base[k]
        if (!(name in printed)) { printed[name] = 1; print name }
      }
      for (name in renamed) print name
      if (unchecked > 0 && ENVIRON["OM_UNCHECKED_FILE"] != "") print unchecked > ENVIRON["OM_UNCHECKED_FILE"]
    }' "$OM_D/trace.txt"
}

# bpftrace -c exits when its command does, and bpftrace -p is stopped by the
# script when the target goes: a bpftrace that ends on its own while the target
# runs is caught by om_alive. Its last records may still be in flight, so the
# trace cannot tell more.
om_backend_exit_seen() { return 0; }

# om_bt_unended -> "PID NS" a line: the processes the trace shows forked (a
# clone without CLONE_THREAD) and never ending (no exit with group_dead=1),
# NS the time of the clone record (ns since boot, as bpftrace's nsecs).
om_bt_unended() {
  # shellcheck disable=SC2016
  om_retry om_keyed_awk '
    keyed && $5 == "clone" && $6 ~ /^child=[0-9]+$/ && $7 ~ /^flags=0x[0-9a-f]+$/ {
      hex = substr($7, 9)
      # The hex digit of bits 16-19: odd when CLONE_THREAD (0x10000) is set.
      digit = length(hex) >= 5 ? index("0123456789abcdef", substr(hex, length(hex) - 4, 1)) - 1 : 0
      if (digit % 2 == 0) started[substr($6, 7)] = $1
    }
    keyed && $5 == "exit" && $7 == "group_dead=1" { ended[$3] = 1 }
    END { for (pid in started) if (!(pid in ended)) print pid, started[pid] }' "$OM_D/trace.txt"
}

# om_backend_tracees -> OM_TREE, "pid:starttime " for each process the trace
# shows forked and never ending that runs now (om_bt_unended), each the very
# process the clone made: started within a second of its clone record (a pid
# given to another process since started later). For the maps at the end of
# what the target forked, once it has gone, read before bpftrace stops
# (review 82, E2: a pre-fork server exited, its workers held its file on
# under a new name; with no maps-end.N.txt for them, four errors).
om_backend_tracees() {
  local listed='' pid clone_ns tick_ns
  OM_TREE=''
  om_out listed om_bt_unended
  om_out tick_ns getconf CLK_TCK || return 0
  [[ $tick_ns =~ ^[1-9][0-9]*$ ]] || return 0
  tick_ns=$((1000000000 / tick_ns))
  while read -r pid clone_ns; do
    [[ $pid =~ ^[1-9][0-9]*$ && $clone_ns =~ ^[0-9]+$ ]] && om_stat "$pid" && [[ $OM_STATE != [ZX] ]] || continue
    # /proc's start time counts from boot in clock ticks, the record's in ns: both CLOCK_BOOTTIME.
    (((OM_ST * tick_ns - clone_ns) < 1000000000 && (clone_ns - OM_ST * tick_ns) < 1000000000)) || continue
    OM_TREE+="$pid:$OM_ST "
  done <<< "$listed"
}

# om_backend_left_running -> OM_LEFT_RUNNING, said: the processes of the
# command's tree the trace shows forked (a clone without CLONE_THREAD) and
# never ending (no exit with group_dead=1) that still run now that bpftrace
# -c has ended with the command: a daemon it started runs on untraced.
om_backend_left_running() {
  local listed='' pid clone_ns pids=''
  om_out listed om_bt_unended
  OM_LEFT_RUNNING=0
  while read -r pid clone_ns; do
    [[ $pid =~ ^[1-9][0-9]*$ ]] && om_stat "$pid" && [[ $OM_STATE != [ZX] ]] || continue
    OM_LEFT_RUNNING=$((OM_LEFT_RUNNING + 1))
    ((OM_LEFT_RUNNING <= 5)) && pids+=" $pid"
  done <<< "$listed"
  om_say_left_running "$pids"
}

# How long bpftrace -c is given to end by itself once its command has (om_backend_stopping).
OM_BT_SELF_END_SECONDS=30

# om_bt_self_end -> true once bpftrace -c has ended by itself, within
# OM_BT_SELF_END_SECONDS; false at the end of them, or as soon as a stop
# signal sets OM_BT_WAIT_CUT. The command's end began this stop, and every
# stop signal is ignored for the rest of it, but not here: the wait can be
# long, says so after 2 s, and a Ctrl-C then asks not to wait.
OM_BT_WAIT_CUT=0
om_bt_self_end() {
  local i
  for ((i = 0; i < OM_BT_SELF_END_SECONDS * 10; i++)); do
    om_alive "$OM_TRACER_PID" "$OM_TRACER_ST" || return 0
    ((OM_BT_WAIT_CUT)) && return 1
    ((i == 20)) && om_log "waiting for bpftrace to print what it holds and end by itself, as it does after its command (up to ${OM_BT_SELF_END_SECONDS} s; Ctrl-C stops waiting, and loses those records)"
    sleep 0.1
  done
  ! om_alive "$OM_TRACER_PID" "$OM_TRACER_ST"
}

# Called just before bpftrace is sent SIGINT: kill(-BPFTRACE_PID, 0), which
# orphanmap.bt prints as a `stop` record while every probe is still attached
# (bpftrace then takes them off one at a time, seconds, and what it prints
# meanwhile is partial: the parser leaves out what comes after the stop). The
# line must be printed before the signal: 0.17 drops the records it reads once
# SIGINT has arrived. Waits at most 2 s for it; without it the trace reads as before.
om_backend_stopping() {
  local i size
  om_backend_attached || return 0
  # bpftrace -c ends by itself once its command has: it prints what it still
  # holds, then takes its probes off (seconds, more under load). Waited for,
  # not stopped: no stop record comes while it does (review 6: every launched
  # capture said one was missing), and 0.17 drops what it has not read yet
  # when SIGINT arrives.
  if ((OM_CMD_MODE)) && [[ $OM_STOP_REASON == target-exited ]]; then
    OM_LATE=1
    trap 'OM_BT_WAIT_CUT=1' INT TERM HUP
    om_bt_self_end
    i=$?
    trap '' INT TERM HUP
    OM_LATE=0
    ((i == 0)) && return 0
    ((OM_BT_WAIT_CUT)) && om_log "stopped waiting for bpftrace to end by itself: the records it still held may be lost"
  fi
  # Searched from here on only: the trace can be gigabytes.
  om_out size stat -c %s -- "$OM_D/trace.txt" 2>/dev/null || size=0
  # meta.json's stopAfterByte: a `stop` line before it is no stop record, but a
  # traced process's file name (orphanmap.bt prints names raw, newlines and all).
  OM_STOP_AFTER_BYTE=$size
  # The same, for `orphanmap live`, which reads the trace while it is written and meta.json only at the
  # end: written before the call that prints the real record, so a reader that has that record can read it.
  { printf '%s\n' "$size" > "$OM_D/.stop-after-byte"; } 2>/dev/null
  kill -0 -- "-$OM_TRACER_PID" 2>/dev/null
  for ((i = 0; i < 20; i++)); do
    tail -c "+$((size + 1))" -- "$OM_D/trace.txt" 2>/dev/null | om_keyed_awk 'keyed && /^[0-9]+ [0-9]+ [0-9]+ [0-9]+ stop$/ { found = 1; exit } END { exit !found }' - && return 0
    sleep 0.1
  done
  om_log "bpftrace printed no stop record within 2 s; the trace's last seconds may be partial"
}

# A record of the process: "KEY <ns> <cpu> PID <tid> <event> …" (its exit, at least, if it ended while traced).
om_backend_saw_pid() {
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  om_retry om_keyed_awk "keyed && \$1 ~ /^[0-9]+\$/ && \$3 == $1 { found = 1; exit } END { exit !found }" "$OM_D/trace.txt" 2>/dev/null
}

# bpftrace's own "Lost N events" lines, not those inside a file name; paths as long as bpftrace prints one.
om_backend_counts() {
  om_out OM_LOST_EVENTS om_keyed_awk '!keyed && !in_path && /^Lost [0-9]+ events$/ { n += $2 } END { print n + 0 }' "$OM_D/trace.txt" 2>/dev/null
  om_out OM_TRUNCATED_EVENTS om_keyed_awk "{ i = index(\$0, \" path=\") } keyed && i > 0 && length(\$0) - i - 5 - (in_path ? 0 : cut) >= $((OM_BT_STRLEN - 1)) { n++ } END { print n + 0 }" "$OM_D/trace.txt" 2>/dev/null
}

# On one line with the call: bash reads a script as it runs it, so a script
# replaced while a capture runs (an upgrade of orphanmap) would otherwise be
# read on from the old offset into the new text once the capture returns
# (review 9: "syntax error near unexpected token" after a complete capture).
om_run_capture "$@"; exit

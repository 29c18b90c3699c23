#!/usr/bin/env bash
# capture-strace.sh — capture a bundle of file, fd, mapping and lifecycle syscalls with strace.
#
# USAGE
#   capture-strace.sh -p PID -o BUNDLE_DIR [-d SECONDS] [--parent-pid PID]
#   capture-strace.sh -o BUNDLE_DIR [-d SECONDS] [--parent-pid PID] -- CMD ARGS...
#
#   -p PID          attach to a running process and all its threads (strace -f -p)
#   -- CMD ARGS...  run CMD under strace (with --seccomp-bpf only when strace also
#                   has --kill-on-exit, 6.6 and later; see docs/safety.md)
#   -o BUNDLE_DIR   a new directory for the bundle, created here (mode 0700; its
#                   parent must exist), or an empty directory owned by this user
#                   that no one else can write to; anything else is refused
#   -d SECONDS      stop SECONDS after the attach; without it, run until
#                   interrupted or the target exits
#   --parent-pid P  stop (and detach) as soon as process P dies, even by SIGKILL
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
#   Stops on -d, SIGINT/SIGTERM/SIGHUP, a full disk, or when every traced process
#   has exited, and always detaches: after the capture the target shows
#   "TracerPid: 0". With -- CMD the command is ended (SIGTERM, then SIGKILL) when
#   the capture stops before it exits, unless it is stopped with SIGUSR2:
#   then strace lets go and the command runs on, untraced (refused when strace
#   has --kill-on-exit; meta.json "canDetach"). If strace itself is killed, the kernel
#   detaches the command, which runs on normally (with --kill-on-exit: is killed).
#   Prints the bundle path on stdout (where it is at the end; $'...'-quoted if
#   it holds a control character); the bundle holds meta.json, trace.txt,
#   maps-start.txt, fds-start.txt, maps-end.txt, tracer.stderr, and with
#   -- CMD fds-inherited.txt (the command's stdin, read before it runs).
#   Exit status: 0 bundle complete; 130 stopped by SIGINT/SIGTERM/SIGHUP, bundle
#   complete up to then, or empty if the stop came before the tracer attached
#   (meta.json says "attached": false); 1 bundle incomplete (the tracer failed
#   or died, never attached, the disk filled up, or the -p target exited
#   before the tracer attached: "exitReason": "target-exited-before-attach";
#   meta.json says "complete": false); 2 bad usage, or -o refused.
#   Started with & from a non-interactive shell, bash ignores SIGINT: stop it with SIGTERM.
#
# EXAMPLE (trace.txt; real lines, `capture-strace.sh -o b -- /usr/bin/python3 prog.py`
#          where prog.py maps /tmp/om/seg.index and unlinks it; strace 6.1)
#   14196<python3> 1795606942.861596 openat(AT_FDCWD</tmp>, "/tmp/om/seg.index", O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 4</tmp/om/seg.index> <0.000199>
#   14196<python3> 1795606942.862126 ftruncate(4</tmp/om/seg.index>, 8192) = 0 <0.000026>
#   14196<python3> 1795606942.865082 fcntl(4</tmp/om/seg.index>, F_DUPFD_CLOEXEC, 0) = 5</tmp/om/seg.index> <0.000017>
#   14196<python3> 1795606942.865165 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 4</tmp/om/seg.index>, 0) = 0x7fee61f2a000 <0.000023>
#   14196<python3> 1795606942.865255 unlink("/tmp/om/seg.index") = 0 <0.000029>
#   14196<python3> 1795606942.865328 close(4</tmp/om/seg.index>(deleted)) = 0 <0.000027>
#   14196<python3> 1795606942.870126 exit_group(0) = ?
#   14196<python3> 1795606942.870872 +++ exited with 0 +++
#
# FIELDS
#   TID<comm>   thread id, with its comm as strace printed it (-Y)
#   1795606942.861596  wall-clock time of syscall entry, seconds.microseconds (-ttt)
#   name(args)  the call; fds carry their path at decode time, "(deleted)" after it once
#               unlinked, sockets and devices their endpoints (-yy); strings up to 4096 bytes (-s)
#   = RET       return value, with the path for a returned fd
#   <0.000199>  time spent in the call, seconds (-T)
#   Other line kinds: "<unfinished ...>" / "<... NAME resumed>" pairs when threads
#   interleave, "+++ exited with N +++", "+++ killed by SIG +++", "--- SIG... ---".
#
# OVERHEAD
#   ptrace stops the traced thread twice per traced syscall. With -- CMD,
#   --seccomp-bpf keeps untraced syscalls (read, write, futex...) at full speed;
#   with -p every syscall of every thread stops, so a busy JVM can slow down
#   several-fold while attached. Keep -d short on production hosts.
#
# REQUIREMENTS
#   strace >= 5.3 (6.1 tested), bash >= 4.4, coreutils, sed, awk; root or
#   CAP_SYS_PTRACE, and kernel.yama.ptrace_scope <= 1 for -p (0 for a non-child
#   as non-root). `orphanmap doctor` checks all of these.
set -u -o pipefail
OM_PROG=capture-strace
# shellcheck source=bundle-lib.sh
. "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/bundle-lib.sh"

om_usage() { sed -n '3,/^# EXAMPLE/{/^# EXAMPLE/d; s/^# \{0,1\}//p; }' "${BASH_SOURCE[0]}"; }

# The syscalls the engine needs; '?' keeps strace quiet on architectures that
# lack the legacy ones (aarch64 has no open, creat, rename, unlink, fork...).
OM_STRACE_SYSCALLS='?open,openat,?openat2,?creat,memfd_create,close,?close_range,dup,?dup2,dup3,fcntl,mmap,?mmap2,munmap,mremap,madvise,ftruncate,truncate,?rename,renameat,?renameat2,?link,linkat,?symlink,symlinkat,?unlink,unlinkat,chdir,fchdir,clone,?clone3,?fork,?vfork,execve,execveat,exit,exit_group,?io_uring_setup,chroot,?pivot_root,?setns,mount,?move_mount,umount2,?open_tree,?fsmount,unshare'
OM_TRACER_STDOUT=''

om_backend_check() {
  OM_BACKEND=strace
  command -v strace >/dev/null 2>&1 || om_die "strace is not installed (apt-get install strace / yum install strace)"
  OM_TRACER_VERSION=$(strace -V 2>/dev/null | head -n 1)
}

# True when this strace can install its seccomp filter here AND has
# --kill-on-exit (6.6+). A tracee whose tracer dies keeps a SECCOMP_RET_TRACE
# filter, and with no tracer every filtered syscall returns ENOSYS: the command
# would run on with open, mmap, close... failing. --kill-on-exit sets
# PTRACE_O_EXITKILL, so the kernel SIGKILLs the command when strace exits
# instead. Without it, no filter: the kernel then simply detaches the command.
om_strace_seccomp_safe() {
  local err
  err=$(strace -f --seccomp-bpf --kill-on-exit -qq -e trace=exit_group -o /dev/null true 2>&1 >/dev/null) || return 1
  [[ -z $err ]]
}

om_backend_argv() {
  OM_TRACER_ARGV=(strace -f -ttt -T -yy -Y -s 4096 -e "trace=$OM_STRACE_SYSCALLS" -o "$OM_D/trace.txt")
  if ((OM_CMD_MODE)); then
    if om_strace_seccomp_safe; then
      OM_TRACER_ARGV+=(--seccomp-bpf --kill-on-exit)
      OM_NO_DETACH='this capture runs strace with --seccomp-bpf --kill-on-exit (strace 6.6 or later), so the kernel kills the program the moment strace lets go of it (without --kill-on-exit, a program left under the seccomp filter would have its traced system calls fail)'
    fi
    OM_TRACER_ARGV+=(-- "${OM_CMD[@]}")
  else
    OM_TRACER_ARGV+=(-p "$OM_TARGET_PID")
  fi
}

# Let go of the launched command, leaving it running. `strace -o FILE CMD`
# blocks SIGINT and SIGTERM (its -I default for that shape), and when strace
# does end on a signal it kills the command it started (its cleanup signals
# strace_child). SIGKILL ends strace without that cleanup; the kernel then
# detaches every tracee, which runs on untraced (there is no seccomp filter
# left behind: OM_NO_DETACH is set whenever --seccomp-bpf is used). What strace
# had not yet written is a call still in progress, at most one partial line.
om_backend_detach_command() {
  kill -KILL "$OM_TRACER_PID" 2>/dev/null
}

# Attached once the target's main thread names strace as its tracer.
om_backend_attached() {
  om_tracer_of "$OM_TARGET_PID" && [[ $OM_TRACER_OF == "$OM_TRACER_PID" ]] && grep -q ' attached' "$OM_D/tracer.stderr" 2>/dev/null
}

# strace writes a launched command's execve before anything else.
om_backend_traced() { [[ -s $OM_D/trace.txt ]]; }

# strace -p says "strace: Process PID attached" once it has seized the process.
om_backend_attach_seen() {
  if ((OM_CMD_MODE)); then om_backend_traced; else om_retry grep -q "^strace: Process $OM_TARGET_PID attached" "$OM_D/tracer.stderr" 2>/dev/null; fi
}

om_backend_first_pid() {
  [[ -s $OM_D/trace.txt ]] || return 0
  head -n 1 "$OM_D/trace.txt" | sed -n 's/^\([0-9][0-9]*\).*/\1/p'
}

# 14196<python3> 1795606942.870872 +++ exited with 0 +++
om_backend_exit_seen() {
  om_retry grep -Eq "^$1<.*> [0-9.]+ \+\+\+ (exited with|killed by) " "$OM_D/trace.txt" 2>/dev/null
}

# Lines of the trace start with the thread id: the process's own line is "PID<comm> …".
om_backend_saw_pid() { om_retry grep -Eq "^$1[< ]" "$OM_D/trace.txt" 2>/dev/null; }

# om_backend_mapped_names -> one name a line, for om_gone_mapped: each file
# the trace shows mapped through an fd -yy names (its annotation: "mmap(NULL,
# 8192, PROT_READ, MAP_SHARED, 3</data/00.index>, 0) = 0x7f…"), and each
# absolute name a rename gave a file since ("rename(\"/d/a\", \"/d/b\") = 0",
# or renameat's name under a dirfd -yy names): the engine looks for a mapped
# file by the names it has at its process's exit (review 52, R2: a pack
# renamed, then removed by an untraced process), and the name each of those
# has once a rename of a directory above it moved it (review 53, S8: Kafka
# renames a deleted topic's partition directory to "*-delete"). A name strace
# escaped (a backslash in it), a device's ("/dev/zero<char 1:5>"), or one
# already "(deleted)" is left out, as is a relative name (its directory is
# not known here).
om_backend_mapped_names() {
  # shellcheck disable=SC2016
  LC_ALL=C awk "$OM_AWK_PATHS"'
    # A name looked up at the end, printed now; kept as its directory node and last component, so that the end prints
    # it again under the name a rename of a directory above it gave it.
    function put(name,  dir) {
      if (index(name, "\\") || name ~ / \(deleted\)$/ || name ~ /<(char|block) [0-9]+:[0-9]+>$/ || (name in seen)) return
      seen[name] = 1
      print name
      dir = parent(name)
      leaf_dir[++leaves] = node_of(dir, 1)
      leaf_base[leaves] = substr(name, length(dir) + 2)
    }
    # A name quoted at the start of "text" ("/abs" or relative to the -yy dirfd "dir" before it), normal; "" if not absolute.
    function named(text, dir,  name) {
      name = substr(text, 2)
      name = substr(name, 1, index(name, "\"") - 1)
      if (name ~ /^\//) return normal(name)
      if (dir == "") return ""
      return normal(substr(dir, index(dir, "<") + 1) "/" name)
    }
    # rename("OLD", "NEW") = 0, renameat(DIR, "OLD", DIR, "NEW") = 0, renameat2(…, RENAME_NOREPLACE) = 0 (as mv does), DIR
    # "AT_FDCWD</cwd>" or "N</dir>" under -yy: the last quoted name, under its dirfd when relative; and the names under
    # the old one, when it was a directory.
    function renamed(call,  tail, exchange, head, dir, to, old, from) {
      if (!match(call, /"[^"]*"(, [A-Z_|0-9x]+)?\) = 0/)) return
      tail = substr(call, RSTART)
      exchange = index(tail, "RENAME_EXCHANGE") > 0
      # The dirfd before it: "AT_FDCWD</cwd>, " or "N</dir>, " (a directory with ">" in its name is left out).
      head = substr(call, 1, RSTART - 1)
      dir = match(head, /(AT_FDCWD|[0-9]+)<\/[^>]*>, $/) ? substr(head, RSTART, RLENGTH - 3) : ""
      to = named(tail, dir)
      if (to == "") return
      put(to)
      # The old name: the first quoted one, after its own dirfd (renameat, renameat2) or none (rename).
      if (!match(call, /\(((AT_FDCWD|[0-9]+)<\/[^>]*>, )?"/)) return
      old = substr(call, RSTART + 1, RLENGTH - 2)
      from = named(substr(call, RSTART + RLENGTH - 1), old == "" ? "" : substr(old, 1, length(old) - 3))
      if (from == "" || from == to) return
      moved(from, to, exchange)
    }
    match($0, /mmap2?\(/) {
      call = substr($0, RSTART)
      if (!match(call, /, [0-9]+<\//)) next
      call = substr(call, RSTART + RLENGTH - 1)
      # The annotation ends before the offset argument, then the call or its cut ("<unfinished ...>").
      if (!match(call, />, (0x[0-9a-f]+|[0-9]+)(\)| <unfinished)/)) next
      put(substr(call, 1, RSTART - 1))
      next
    }
    # A rename strace cut at its entry ("<unfinished ...>", a call of another thread printed before its end: code review
    # 63, F5) is joined with its resume ("<... rename resumed>) = 0") on the same thread.
    match($0, /rename(at2?)?\(/) && / <unfinished \.\.\.>$/ {
      cut[$1] = substr($0, RSTART, length($0) - RSTART + 1 - length(" <unfinished ...>"))
      next
    }
    match($0, /<\.\.\. rename(at2?)? resumed>/) {
      if ($1 in cut) renamed(cut[$1] substr($0, RSTART + RLENGTH))
      delete cut[$1]
      next
    }
    match($0, /rename(at2?)?\(/) && / = 0( <[0-9.]+>)?$/ { renamed(substr($0, RSTART)) }
    END {
      for (k = 1; k <= leaves; k++) {
        name = path_of(leaf_dir[k]) "/" leaf_base[k]
        if (!(name in seen)) { seen[name] = 1; print name }
      }
    }' "$OM_D/trace.txt"
}

om_backend_counts() {
  OM_LOST_EVENTS=''   # ptrace loses nothing
  # A string cut at -s shows as "..."... after its closing quote.
  om_out OM_TRUNCATED_EVENTS grep -c '[^\\]"\.\.\.' "$OM_D/trace.txt" 2>/dev/null
  [[ -n $OM_TRUNCATED_EVENTS ]] || OM_TRUNCATED_EVENTS=0
}

# On one line with the call: bash reads a script as it runs it, so a script
# replaced while a capture runs (an upgrade of orphanmap) would otherwise be
# read on from the old offset into the new text once the capture returns
# (review 9: "syntax error near unexpected token" after a complete capture).
om_run_capture "$@"; exit

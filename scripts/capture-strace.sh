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
# A process whose name is empty (prctl(PR_SET_NAME, "")) has no <comm>, and
# its id padded to five columns: "889   1795606942.870872 +++ exited with 0 +++".
# Read as the tracer ending early, such a capture failed (exit 1) though
# complete.
om_backend_exit_seen() {
  om_retry grep -Eq "^$1(<.*>)? +[0-9.]+ \+\+\+ (exited with|killed by) " "$OM_D/trace.txt" 2>/dev/null
}

# om_backend_last_of PID -> the trace's last line of PID, cut to 300 bytes:
# what a tracer that ended before the trace showed PID's exit left of it.
om_backend_last_of() {
  grep -E "^$1(<.*>)? " "$OM_D/trace.txt" 2>/dev/null | tail -n 1 | cut -c1-300
}

# Lines of the trace start with the thread id: the process's own line is "PID<comm> …".
om_backend_saw_pid() { om_retry grep -Eq "^$1[< ]" "$OM_D/trace.txt" 2>/dev/null; }

# om_backend_mapped_names -> one name a line, for om_gone_mapped: each file
# the trace shows mapped through an fd -yy names (its annotation: "mmap(NULL,
# 8192, PROT_READ, MAP_SHARED, 3</data/00.index>, 0) = 0x7f…"), and each
# absolute name a rename gave a file since ("rename(\"/d/a\", \"/d/b\") = 0",
# or renameat's name under a dirfd -yy names; both names of a RENAME_EXCHANGE),
# each with strace's escapes undone: the engine looks for a mapped
# file by the names it has at its process's exit (review 52, R2: a pack
# renamed, then removed by an untraced process), and the name each of those
# has once a rename of a directory above it moved it (review 53, S8: Kafka
# renames a deleted topic's partition directory to "*-delete"). A device's
# name ("/dev/zero<char 1:5>") is left out, as is a relative name (its
# directory is not known here). A name holding a control character, which no
# line of the lists can hold, is counted into the file OM_UNCHECKED_FILE
# names (review 66, A-2). Only the call a line begins with counts, after its
# "TID<comm> SECONDS " (review 66, A-1: a thread named "mmap(", or a
# directory renamed to "mmap(-delete", hid the rename).
om_backend_mapped_names() {
  # shellcheck disable=SC2016
  LC_ALL=C awk "$OM_AWK_PATHS"'
    # A name as strace quoted it, its escapes undone (octal, or a quote, backslash or angle bracket after a
    # backslash): "" when it holds a control character, or an escape strace does not write for a printable byte.
    function unescaped(name,  out, at, c, n, digits) {
      out = ""
      while ((at = index(name, "\\")) > 0) {
        out = out substr(name, 1, at - 1)
        c = substr(name, at + 1, 1)
        name = substr(name, at + 2)
        if (c ~ /[0-7]/) {
          n = c + 0
          for (digits = 1; digits < 3 && substr(name, 1, 1) ~ /[0-7]/; digits++) { n = n * 8 + substr(name, 1, 1); name = substr(name, 2) }
          if (n < 32 || n == 127 || n > 255) return ""
          out = out sprintf("%c", n)
        } else if (c == "\\" || c == "\"" || c == "<" || c == ">") out = out c
        else return ""
      }
      out = out name
      return out ~ /[\001-\037\177]/ ? "" : out
    }
    # A name looked up at the end, printed now; kept as its directory node and last component, so that the end prints
    # it again under the name a rename of a directory above it gave it. "" is a name that cannot be spelled.
    function put(name,  dir) {
      if (name == "") { unchecked++; return }
      if (name in seen) return
      seen[name] = 1
      print name
      dir = parent(name)
      leaf_dir[++leaves] = node_of(dir, 1)
      leaf_base[leaves] = substr(name, length(dir) + 2)
    }
    # A quoted or annotated name, relative to the -yy path "dir" of its dirfd when not absolute, unescaped and normal; "-"
    # if not absolute, "" if it cannot be spelled.
    function named(name, dir) {
      if (name !~ /^\//) {
        if (dir == "") return "-"
        name = dir "/" name
      }
      name = unescaped(name)
      return name == "" ? "" : normal(name)
    }
    # The quote that closes the string opened at "at" (strace writes a quote in a name as backslash, quote); 0: none.
    function closing(text, at) {
      return match(substr(text, at), /^"([^"\\]|\\.)*"/) ? at + RLENGTH - 1 : 0
    }
    # The arguments of "rename(" or "renameat2?(": names[1] and names[2] as quoted, dirs[1] and dirs[2] the -yy paths of
    # their dirfds ("AT_FDCWD</cwd>, " or "N</dir>, "; "" with none or with none printed), rest what follows; false
    # when they are not all there as such.
    function arguments(call,  at, k, end, dirfd) {
      at = index(call, "(") + 1
      for (k = 1; k <= 2; k++) {
        dirs[k] = ""
        if (substr(call, at, 1) != "\"") {
          if (!match(substr(call, at), /^(AT_FDCWD|[0-9]+)(<[^>]*>)?, /)) return 0
          dirfd = substr(call, at, RLENGTH - 2)
          if (index(dirfd, "<")) dirs[k] = substr(dirfd, index(dirfd, "<") + 1, length(dirfd) - index(dirfd, "<") - 1)
          at += RLENGTH
        }
        if (substr(call, at, 1) != "\"" || !(end = closing(call, at))) return 0
        names[k] = substr(call, at + 1, end - at - 1)
        at = end + 1
        if (k == 1) {
          if (substr(call, at, 2) != ", ") return 0
          at += 2
        }
      }
      rest = substr(call, at)
      return 1
    }
    # rename("OLD", "NEW") = 0, renameat(DIR, "OLD", DIR, "NEW") = 0, renameat2(…, RENAME_NOREPLACE) = 0 (as mv does):
    # the new name, and the names under the old one when it was a directory. With RENAME_EXCHANGE the old name is a new
    # name too (review 66, A-5).
    function renamed(call,  exchange, to, from) {
      if (!arguments(call) || rest !~ /^(, [A-Z_|0-9x]+)?\) = 0( <[0-9.]+>)?$/) return
      exchange = index(rest, "RENAME_EXCHANGE") > 0
      to = named(names[2], dirs[2])
      if (to == "-") return
      put(to)
      from = named(names[1], dirs[1])
      if (from == "-" || from == "" || from == to) return
      if (exchange) put(from)
      moved(from, to, exchange)
    }
    # The call a line begins with, after the thread id, its comm (-Y; strace escapes ">" in it) and the time.
    {
      if (!match($0, /^[0-9]+(<[^>]*>)? +[0-9]+[.][0-9]+ /)) next
      call = substr($0, RLENGTH + 1)
      tid = substr($0, 1, match($0, /[^0-9]/) - 1)
    }
    call ~ /^mmap2?\(/ {
      if (!match(call, /, [0-9]+<\//)) next
      call = substr(call, RSTART + RLENGTH - 1)
      # The annotation ends before the offset argument, then the call or its cut ("<unfinished ...>"). One with
      # "(deleted)" after it (strace 6) is a name the file no longer has.
      if (!match(call, />, (0x[0-9a-f]+|[0-9]+)(\)| <unfinished)/)) next
      # A device (strace prints its numbers after the name, raw; a name holding them is escaped: code review 68, F5).
      call = substr(call, 1, RSTART - 1)
      if (call !~ /<(char|block) [0-9]+:[0-9]+>$/) put(unescaped(call))
      next
    }
    # A rename strace cut at its entry ("<unfinished ...>", a call of another thread printed before its end: code review
    # 63, F5) is joined with its resume ("<... rename resumed>) = 0") on the same thread.
    call ~ /^rename(at2?)?\(/ && / <unfinished \.\.\.>$/ {
      cut[tid] = substr(call, 1, length(call) - length(" <unfinished ...>"))
      next
    }
    call ~ /^<\.\.\. rename(at2?)? resumed>/ {
      match(call, /^<\.\.\. rename(at2?)? resumed>/)
      if (tid in cut) renamed(cut[tid] substr(call, RLENGTH + 1))
      delete cut[tid]
      next
    }
    call ~ /^rename(at2?)?\(/ { renamed(call) }
    END {
      for (k = 1; k <= leaves; k++) {
        name = path_of(leaf_dir[k])
        if (name == "" && leaf_dir[k] != 0) { unchecked++; continue }
        name = name "/" leaf_base[k]
        if (!(name in seen)) { seen[name] = 1; print name }
      }
      if (unchecked > 0 && ENVIRON["OM_UNCHECKED_FILE"] != "") print unchecked > ENVIRON["OM_UNCHECKED_FILE"]
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

#!/bin/sh
# orphanmap-textfile: one `orphanmap scan --format prom` into node_exporter's
# textfile collector directory, replacing the file atomically.
#
# USAGE
#   orphanmap-textfile [SCAN OPTIONS...]
#     e.g. orphanmap-textfile --top 3
#   Run by deploy/systemd/orphanmap-scan.service every minute; works the same
#   from cron. SCAN OPTIONS go to `orphanmap scan` (--top N: patterns per
#   process before "other", the label-cardinality knob; --pid N: only those).
#
# ENVIRONMENT
#   ORPHANMAP               the orphanmap executable (default: orphanmap on PATH)
#   ORPHANMAP_TEXTFILE_DIR  node_exporter's --collector.textfile.directory
#                           (default /var/lib/prometheus/node-exporter, Debian's)
#   ORPHANMAP_TEXTFILE      file name in it (default orphanmap.prom)
#
# EXAMPLE OUTPUT (the file; one sample per line, see docs/fleet.md for all)
#   orphanmap_vm_max_map_count 262144
#   orphanmap_process_mappings{pid="4242",comm="java"} 31734
#   orphanmap_process_deleted_mappings{pid="4242",comm="java"} 118
#   orphanmap_process_deleted_pattern_mappings{pid="4242",comm="java",pattern="*.index.deleted"} 59
#   orphanmap_scan_timestamp_seconds 1796141222
#
# ATOMICITY
#   node_exporter reads the directory on every scrape, so it must never see a
#   half-written file: `scan --out` writes a temporary file in the same
#   directory (FILE.PID.tmp, which the collector ignores: it reads only
#   *.prom) and renames it over FILE. A failed scan leaves the previous file,
#   whose orphanmap_scan_timestamp_seconds then ages (alert OrphanmapScanStale).
#
# OVERHEAD
#   One read of /proc/PID/maps per process: about 10-25 ms for a whole host,
#   plus Node's start-up (about 0.2 s of CPU).
#
# REQUIREMENTS
#   orphanmap; root, or CAP_SYS_PTRACE to read other users' /proc/PID/maps
#   (without it those processes are counted as orphanmap_scan_processes{result="denied"}).
set -eu

orphanmap=${ORPHANMAP:-orphanmap}
dir=${ORPHANMAP_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
name=${ORPHANMAP_TEXTFILE:-orphanmap.prom}

fail() {
  printf 'orphanmap-textfile: %s\n' "$*" >&2
  exit 2
}

case $name in
  */* | .* | '') fail "ORPHANMAP_TEXTFILE must be a plain file name, not '$name'" ;;
  *.prom) ;;
  *) fail "ORPHANMAP_TEXTFILE must end in .prom (node_exporter reads only *.prom), not '$name'" ;;
esac
[ -d "$dir" ] || fail "$dir is not a directory: create it, or set ORPHANMAP_TEXTFILE_DIR to node_exporter's --collector.textfile.directory"
command -v "$orphanmap" >/dev/null 2>&1 || fail "cannot run '$orphanmap': install orphanmap, or set ORPHANMAP to its path"

# node_exporter runs as its own user (prometheus on Debian): the file must be readable by it.
umask 022

exec "$orphanmap" scan --format prom --out "$dir/$name" "$@"

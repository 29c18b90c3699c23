// Findings known to be benign: real instances of the pattern that are not
// leaks. Each rule has a name, so that every view can say why a finding is
// benign from this one place instead of guessing from its severity or path.
import type { Finding } from './findings.js';

export interface BenignRule {
  /** Short, for a summary line: "1 benign (JVM hsperfdata at exit)". */
  readonly name: string;
  /** Plain words for a report: what the file is and why keeping it mapped is no leak. */
  readonly note: string;
  /** Matches the file's last name; none for a rule the engine applies from what the trace shows (MAPPED_WITH_NO_NAME). */
  readonly path?: RegExp;
  /**
   * Benign only when the process that maps the file removes its last name
   * itself: another process removing it (a /tmp cleaner) leaves a mapping
   * /proc shows "(deleted)" for as long as the owner lives, a finding like
   * any other.
   */
  readonly ownUnlinkOnly?: boolean;
  /**
   * Benign only as one step of a sequence the trace shows whole: the thread
   * that unlinked the file does nothing next but unmap it and close fds,
   * then unlinks the sibling this names. Given the unlink's own path; with
   * `ownUnlinkOnly`. A finding the thread's next calls do not bear out is an
   * error after all (FindingLog.callMade).
   */
  readonly thenUnlinks?: (path: string) => string;
  /**
   * Benign only for a mapping this long or shorter: the file the rule knows
   * has one size, and a name any program can take does not make a mapping
   * of another size that file (review 22: 64 MiB as /dev/shm/sem.x).
   */
  readonly maxLength?: number;
  /**
   * Benign only when the mapping goes within this many seconds of the
   * unlink, with its process's exit (or an munmap: FindingLog.resolve): "at
   * exit" is what makes the rule true, and a process that goes on holding it
   * holds the file as any leak does (review 22: a program naming its file
   * hsperfdata_x/1234).
   */
  readonly exitsWithinSeconds?: number;
}

/** How soon after the unlink a program "at exit" is gone: the JVM's is 4-9 ms under strace (traces/), a valgrind run's about as soon. */
const AT_EXIT_SECONDS = 1;

const RULES: readonly BenignRule[] = [
  {
    name: 'JVM hsperfdata at exit',
    note: "The JVM's own performance-data file (hsperfdata): the JVM unlinks it at exit without unmapping it first. Benign; not a leak.",
    // /tmp/hsperfdata_<user>/<pid>
    path: /\/hsperfdata_[^/]+\/\d+$/,
    // The JVM's own unlink at its exit; not the pid in the name, which is the JVM's in its own pid namespace.
    ownUnlinkOnly: true,
    exitsWithinSeconds: AT_EXIT_SECONDS,
  },
  {
    name: 'valgrind vgdb file at exit',
    note:
      "Valgrind's own file for talking to vgdb (its gdbserver): valgrind maps it at start and unlinks it as the program under it exits, " +
      'without unmapping it first; the mapping goes with the process a moment later. Benign; not a leak.',
    // /tmp/vgdb-pipe-shared-mem-vgdb-<pid>-by-<user>-on-<host> (coregrind/m_gdbserver/remote-utils.c); "???" where valgrind cannot tell.
    path: /\/vgdb-pipe-shared-mem-vgdb-\d+-by-[^/]*-on-[^/]*$/,
    ownUnlinkOnly: true,
    exitsWithinSeconds: AT_EXIT_SECONDS,
  },
  {
    name: 'POSIX semaphore unlinked in use',
    note:
      'A named POSIX semaphore (sem_open maps /dev/shm/sem.NAME): unlinking it while it is in use, as Python multiprocessing does for every Lock, ' +
      'is how a semaphore is kept from other processes; its one page goes with the last process that uses it. Benign; not a leak.',
    // glibc's sem_open: /dev/shm/sem.<name>
    path: /^\/dev\/shm\/sem\.[^/]+$/,
    // sem_open maps sizeof(sem_t), 32 bytes on 64-bit glibc; /proc and maps-end.txt show the page.
    maxLength: 4096,
  },
  {
    name: 'SQLite WAL index at close',
    note:
      "SQLite's shared-memory WAL index (DB-shm): the last connection to close a WAL database unlinks it, unmaps it and then deletes DB-wal, " +
      'all in the same call (sqlite3WalClose). Benign; not a leak.',
    // The unix VFS names it after the database: DB + "-shm"; a name that is only "-shm" is no database's.
    path: /[^/]-shm$/,
    // Another process removing a live database's -shm leaves the connection mapping it "(deleted)".
    ownUnlinkOnly: true,
    // unixShmUnmap unlinks DB-shm and munmaps its 32 KiB regions; sqlite3WalClose then closes and unlinks DB-wal.
    // A program that deletes its own live database's -shm does not do that next, and keeps the mapping.
    thenUnlinks: (shm) => `${shm.slice(0, -'-shm'.length)}-wal`,
  },
];

/**
 * Whether `path` is the JVM's own performance-data file of process `pid`
 * (/tmp/hsperfdata_<user>/<pid>), which the JVM removes itself as it exits.
 */
export function jvmOwnPerfData(path: string, pid: number): boolean {
  const match = /\/hsperfdata_[^/]+\/(\d+)$/.exec(path);
  return match !== null && Number(match[1]) === pid;
}

/**
 * A mapping made when its file had no name left: unlinked first (through an
 * fd kept open), or an O_TMPFILE file no link had named. /proc shows it
 * "(deleted)" as it shows a leak, but nothing was left behind by an unlink:
 * it is how programs make shared memory backed by a file nobody can open
 * (review 3, finding E).
 */
export const MAPPED_WITH_NO_NAME: BenignRule = {
  name: 'mapped with no name left',
  note:
    "The idiom for shared memory that no other process can open by name (Python multiprocessing's heap, Wayland shm buffers, tempfile.TemporaryFile with mmap): " +
    'the mapping pins the file and its blocks until it is unmapped, but no unlink left it behind. Benign; not a leak.',
};

/**
 * A mapping released (unmapped, or its process gone) before the call that
 * removed its file's last name had returned, on another CPU: bpftrace orders
 * an unlink or rename by its entry, and the name goes somewhere inside the
 * call, so the trace cannot tell which came first (review 24: readers of a
 * file ldconfig renames over, 255 false errors in 3 s). Either way the
 * mapping did not outlive the file by more than the call's own time.
 */
export const RELEASED_DURING_UNLINK: BenignRule = {
  name: 'released while the unlink ran',
  note:
    'Released before the call that removed the last name had returned (it ran on another CPU): which came first is not in the trace, ' +
    'and the mapping outlived the file, if at all, by no more than that call took. Benign; not a leak.',
};

/**
 * A finding of a file's last name gone, whose file the capture found with a
 * name left just after the trace (maps-end.nlink, counted through
 * /proc/PID/map_files): the name the trace saw go was not the last, another
 * having been made by a call the trace does not show (an untraced `ln`). No
 * file gets a name back once its last has gone (but an O_TMPFILE one opened
 * to be linked), so the count at the end speaks for the whole trace (review
 * 33, exactness 4). Applied after the trace, to a mapping still live.
 */
export const KEPT_BY_ANOTHER_NAME: BenignRule = {
  name: 'kept by another name',
  note:
    'The capture found this file with a name left just after the trace (maps-end.nlink): /proc prints the mapping "(deleted)" because the name it was mapped by is gone, ' +
    'but another name, made by a call the trace does not show (a process it does not follow linked it), keeps the file. Benign; not a leak.',
};

/**
 * A finding of a file the capture found gone from its name once its process
 * had exited (maps-start-gone.txt: its name led nowhere, or to another file),
 * whose very file (device and inode) the maps read at the end show mapped
 * under a name, not "(deleted)", in a process alive then: the file had a
 * name at the end, so it was renamed (a directory moved away, as a
 * blue/green deploy does), not removed; no file gets a name back once its
 * last has gone (review 82, E2). Applied after the trace, whatever its
 * resolution.
 */
export const RENAMED_NOT_REMOVED: BenignRule = {
  name: 'renamed, not removed',
  note:
    'The capture found this file gone from its name once its process had exited (maps-start-gone.txt), but the maps read at the end show the very file (its device and inode) ' +
    'mapped under a name, not "(deleted)", in a process alive then: it was renamed (a directory moved away, as a deploy does), not removed. Benign; not a leak.',
};

/**
 * The rule that makes a mapping of this file benign by its name, or null.
 * `unlinkedByOwner`: the mapping's own process removed the last name
 * (BenignRule.ownUnlinkOnly); `length`: the mapping's (BenignRule.maxLength).
 */
export function benignRuleFor(path: string, unlinkedByOwner = true, length = 0): BenignRule | null {
  return RULES.find((rule) => rule.path?.test(path) === true && (unlinkedByOwner || rule.ownUnlinkOnly !== true) && (rule.maxLength === undefined || length <= rule.maxLength)) ?? null;
}

/** The rule a finding's `benign` names. */
export function benignRuleNamed(name: string): BenignRule | undefined {
  return RULES.find((rule) => rule.name === name);
}

/** The finding is of a mapping made when its file had no name left: its unlink (if any) came first, and its delay counts from the mapping. */
export function mappedWithNoName(finding: Pick<Finding, 'benign'>): boolean {
  return finding.benign === MAPPED_WITH_NO_NAME.name;
}

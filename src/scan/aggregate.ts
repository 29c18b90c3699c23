// Pure aggregation for `scan`: parsed maps in, per-process totals out. Reading
// /proc lives in read.ts; nothing here does I/O.
import { deletedKind, filePattern, hexAddress, mappingBytes, parseDev, parseMapsLine, type MapsEntry } from '../parse/maps.js';

/** Why a process was not scanned. Each is normal on a live system and only counted. */
export type SkipReason =
  | 'vanished' // exited between the listing and the read
  | 'denied' // EACCES/EPERM: another user's process without CAP_SYS_PTRACE
  | 'no-address-space' // empty maps: a kernel thread or a zombie
  | 'unreadable'; // this /proc lacks the file, or another error

export const SKIP_REASONS: readonly SkipReason[] = ['vanished', 'denied', 'no-address-space', 'unreadable'];

export interface DeletedMapping {
  start: string;
  end: string;
  perms: string;
  offset: number;
  bytes: number;
}

/** One deleted file (dev + inode + name) and all of its live mappings in a process. */
export interface DeletedFile {
  path: string;
  dev: string;
  inode: number;
  pattern: string;
  bytes: number;
  mappings: DeletedMapping[];
  /**
   * The kernel was asked how many links the file has left and said none
   * (linkVerdict). False when it could not be asked: the file is counted by
   * the name /proc prints alone, which a file can be given (review 26).
   */
  linksCounted: boolean;
}

/** What a stat of a mapped file said: its link count, and the device and inode it was of. */
export interface FileLinks {
  links: number;
  major: number;
  minor: number;
  inode: number;
}

export type LinkVerdict = 'deleted' | 'linked' | 'unknown';

/**
 * Whether a file printed " (deleted)" has no link left. The kernel appends
 * " (deleted)" to an unlinked name, and a file can be named so too: one
 * created as "seg (deleted)" and mapped prints exactly as a deleted "seg"
 * does (review 26: any user could so page on-call with 32 MiB of a file that
 * was never deleted). Its link count tells them apart:
 * - `mapFile`, a stat of /proc/PID/map_files/START-END, which follows to the
 *   mapped file itself (the kernel lets only CAP_SYS_ADMIN or
 *   CAP_CHECKPOINT_RESTORE follow it, not the process's owner);
 * - `byName`, a stat of the name with its " (deleted)" under
 *   /proc/PID/root: a file of that name, if one is there.
 * An answer counts only if it is of the mapped file (its device and inode,
 * as the maps line gives them): the range may hold another mapping since,
 * and a name may reach any file. One that is says 'deleted' (no link) or
 * 'linked'; with none, 'unknown'.
 */
export function linkVerdict(file: Pick<DeletedFile, 'dev' | 'inode'>, answers: { mapFile: FileLinks | null; byName: FileLinks | null }): LinkVerdict {
  const dev = parseDev(file.dev);
  for (const answer of [answers.mapFile, answers.byName]) {
    if (answer === null || dev === null || answer.major !== dev.major || answer.minor !== dev.minor || answer.inode !== file.inode) continue;
    return answer.links === 0 ? 'deleted' : 'linked';
  }
  return 'unknown';
}

export interface PatternTotal {
  pattern: string;
  files: number;
  mappings: number;
  bytes: number;
}

export interface ProcessScan {
  pid: number;
  comm: string;
  /** VMAs, as the kernel counts them against vm.max_map_count. */
  mappings: number;
  /** vm.max_map_count minus mappings; null when max_map_count could not be read. */
  headroom: number | null;
  /** Mappings of unlinked files: the leak. */
  deletedMappings: number;
  deletedBytes: number;
  /** Of deletedMappings, those counted by the name /proc prints alone: whether their file has a link left could not be asked. */
  deletedMappingsByName: number;
  /** Mappings that print " (deleted)" but never had a name (memfd, shared anonymous, SysV shm, aio, O_TMPFILE). */
  anonymousDeletedMappings: number;
  /**
   * Mappings that print " (deleted)" of files that still have a link: a name
   * that merely ends so, or a file unlinked by the name it was mapped by and
   * linked by another. Not counted.
   */
  linkedMappings: number;
  /** By bytes, largest first. */
  patterns: PatternTotal[];
  /** By bytes, largest first. */
  deletedFiles: DeletedFile[];
  /** maps lines that could not be read. */
  badLines: number;
}

export interface ScanSkip {
  pid: number;
  reason: SkipReason;
  /** errno code or a short note, for --pid diagnostics. */
  detail: string;
}

export interface ScanResult {
  /** Milliseconds since the epoch when the scan started. */
  time: number;
  durationMs: number;
  maxMapCount: number | null;
  processes: ProcessScan[];
  skipped: ScanSkip[];
}

export function summarizeEntries(pid: number, comm: string, entries: readonly MapsEntry[], maxMapCount: number | null, badLines = 0): ProcessScan {
  const tally = new MapsTally();
  for (const entry of entries) tally.addEntry(entry);
  tally.badLines += badLines;
  return tally.summary(pid, comm, maxMapCount);
}

/**
 * One process's totals, gathered a maps line at a time: only counts and the
 * mappings of deleted files are kept, never the maps text, whose size the
 * process chooses (65,000 mappings under a 3,800-byte path are 254 MB of
 * text, and once cost 600 MB of memory each; review 2, F2).
 */
export class MapsTally {
  private readonly files = new Map<string, DeletedFile>();
  private mappings = 0;
  private deletedMappings = 0;
  private deletedBytes = 0;
  private anonymousDeletedMappings = 0;
  private linkedMappings = 0;
  /** Kernel-object names on a major-0 device: the kernel's, unless a mount shows that device (settleMounted). */
  readonly unsure: MapsEntry[] = [];
  badLines = 0;

  /** A line of /proc/PID/maps, without its newline; blank lines are skipped. */
  addLine(line: string): void {
    if (line.trim() === '') return;
    const entry = parseMapsLine(line);
    if (entry === null) this.badLines++;
    else this.addEntry(entry);
  }

  addEntry(entry: MapsEntry): void {
    // The vsyscall page is the gate VMA: listed in maps, but not in the mm's VMA
    // tree, so it does not count against vm.max_map_count.
    if (entry.path !== '[vsyscall]') this.mappings++;
    if (!entry.deleted) return;
    const kind = deletedKind(entry.path, entry.inode, entry.dev);
    if (kind !== 'file') {
      this.anonymousDeletedMappings++;
      // A kernel object's name, on a major-0 device (deletedKind): settled by the mounts (settleMounted).
      if (kind !== 'tmpfile' && entry.dev !== undefined) this.unsure.push(entry);
      return;
    }
    this.addDeleted(entry);
  }

  /**
   * The devices the process's mountinfo shows (mountedDevices): a name in
   * `unsure` on one of them is a file of that file system after all.
   */
  settleMounted(mounted: ReadonlySet<string>): void {
    for (const entry of this.unsure.splice(0)) {
      if (deletedKind(entry.path, entry.inode, entry.dev, mounted) !== 'file') continue;
      this.anonymousDeletedMappings--;
      this.addDeleted(entry);
    }
  }

  /** The mounts could not be read whole: every name in `unsure` counts as a file's, as a leak does, rather than be hidden. */
  settleAllAsFiles(): void {
    for (const entry of this.unsure.splice(0)) {
      this.anonymousDeletedMappings--;
      this.addDeleted(entry);
    }
  }

  /** The deleted files so far, to ask each whether it has a link left (settleLinks). */
  filesToAsk(): DeletedFile[] {
    return [...this.files.values()];
  }

  /**
   * What was asked of each file (linkVerdict): a file that still has a link
   * is not a deleted one, and leaves the counts; one not asked, or asked
   * with no answer, stays counted by its name, and says so.
   */
  settleLinks(verdicts: ReadonlyMap<DeletedFile, LinkVerdict>): void {
    for (const [key, file] of this.files) {
      const verdict = verdicts.get(file) ?? 'unknown';
      if (verdict === 'deleted') file.linksCounted = true;
      if (verdict !== 'linked') continue;
      this.files.delete(key);
      this.deletedMappings -= file.mappings.length;
      this.deletedBytes -= file.bytes;
      this.linkedMappings += file.mappings.length;
    }
  }

  private addDeleted(entry: MapsEntry): void {
    const bytes = mappingBytes(entry);
    this.deletedMappings++;
    this.deletedBytes += bytes;
    const key = `${entry.dev}\0${entry.inode}\0${entry.path}`;
    let file = this.files.get(key);
    if (file === undefined) {
      file = { path: entry.path, dev: entry.dev, inode: entry.inode, pattern: filePattern(entry.path), bytes: 0, mappings: [], linksCounted: false };
      this.files.set(key, file);
    }
    file.bytes += bytes;
    file.mappings.push({ start: hexAddress(entry.start), end: hexAddress(entry.end), perms: entry.perms, offset: entry.offset, bytes });
  }

  summary(pid: number, comm: string, maxMapCount: number | null): ProcessScan {
    const deletedFiles = [...this.files.values()].sort(byBytesThen((f) => f.path));
    return {
      pid,
      comm,
      mappings: this.mappings,
      headroom: maxMapCount === null ? null : maxMapCount - this.mappings,
      deletedMappings: this.deletedMappings,
      deletedBytes: this.deletedBytes,
      deletedMappingsByName: deletedFiles.reduce((sum, file) => sum + (file.linksCounted ? 0 : file.mappings.length), 0),
      anonymousDeletedMappings: this.anonymousDeletedMappings,
      linkedMappings: this.linkedMappings,
      patterns: patternTotals(deletedFiles),
      deletedFiles,
      badLines: this.badLines,
    };
  }
}

export function patternTotals(files: readonly DeletedFile[]): PatternTotal[] {
  const totals = new Map<string, PatternTotal>();
  for (const file of files) {
    let total = totals.get(file.pattern);
    if (total === undefined) {
      total = { pattern: file.pattern, files: 0, mappings: 0, bytes: 0 };
      totals.set(file.pattern, total);
    }
    total.files++;
    total.mappings += file.mappings.length;
    total.bytes += file.bytes;
  }
  return [...totals.values()].sort(byBytesThen((t) => t.pattern));
}

/**
 * The first `top` patterns, then one "other" total for the rest, so that a
 * metric labelled by pattern has at most top + 1 series per process.
 */
export function topPatterns(patterns: readonly PatternTotal[], top: number): PatternTotal[] {
  if (patterns.length <= top) return [...patterns];
  // A file whose pattern is literally "other" joins the bucket rather than
  // making a second series with the same labels (which Prometheus rejects).
  const kept = patterns.filter((p) => p.pattern !== OTHER_PATTERN).slice(0, top);
  const other: PatternTotal = { pattern: OTHER_PATTERN, files: 0, mappings: 0, bytes: 0 };
  for (const rest of patterns.filter((p) => !kept.includes(p))) {
    other.files += rest.files;
    other.mappings += rest.mappings;
    other.bytes += rest.bytes;
  }
  return [...kept, other];
}

export const OTHER_PATTERN = 'other';

export interface ScanTotals {
  processes: number;
  deletedMappings: number;
  deletedBytes: number;
  /** Of deletedMappings, those counted by name alone (ProcessScan.deletedMappingsByName). */
  deletedMappingsByName: number;
  skipped: Record<SkipReason, number>;
}

export function scanTotals(result: ScanResult): ScanTotals {
  const skipped = Object.fromEntries(SKIP_REASONS.map((reason) => [reason, 0])) as Record<SkipReason, number>;
  for (const skip of result.skipped) skipped[skip.reason]++;
  let deletedMappings = 0;
  let deletedBytes = 0;
  let deletedMappingsByName = 0;
  for (const process of result.processes) {
    deletedMappings += process.deletedMappings;
    deletedBytes += process.deletedBytes;
    deletedMappingsByName += process.deletedMappingsByName;
  }
  return { processes: result.processes.length, deletedMappings, deletedBytes, deletedMappingsByName, skipped };
}

/** Processes in report order: most deleted bytes first, then fullest address space, then pid. */
export function reportOrder(processes: readonly ProcessScan[]): ProcessScan[] {
  return [...processes].sort((a, b) => b.deletedBytes - a.deletedBytes || b.mappings - a.mappings || a.pid - b.pid);
}

function byBytesThen<T extends { bytes: number }>(name: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => b.bytes - a.bytes || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

// Capture bundles (a directory from scripts/capture-*.sh): meta.json, the raw
// trace, /proc/PID/maps at start and end, and the open fds at start. The start
// snapshots seed the engine with the mappings and fds that predate the trace;
// the end snapshot confirms or contradicts `still-mapped` findings.
//
// Bundles are received from other hosts and analysed as root, often in a
// directory someone else can write to: every file is opened once, through the
// bundle directory opened once, without following a link and without waiting
// (a FIFO), checked on its handle to be a regular file, and read from that
// handle: meta.json whole, if of a sensible size; the snapshots a line at a
// time, whatever their size, since the traced process chooses it. A trace
// file stays open, and is read through its descriptor (/proc/self/fd/N):
// whatever is renamed over its name after the check, the bytes read are the
// file checked.
import { closeSync, constants, fstatSync, openSync, readdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { EndMapping, EngineOptions, SeedFd, SeedMapping, WindowMapping } from '../engine/engine.js';
import type { NamedAfter } from '../engine/gone-after-release.js';
import { findingStart, heldNow, type Finding } from '../engine/findings.js';
import { findingNameMayBe } from '../engine/mappings.js';
import { DELETED_SUFFIX, deletedKind, ELISION, firstEndingAfter, isDeletedFile, mapsLookup, parseDev, readMapsLine, type MapsEntry } from '../parse/maps.js';
import { InputError } from '../errors.js';
import { flatCopy } from '../parse/flat-copy.js';
import { readAhead } from './file-read.js';
import { LineSplitter, type LineSink, type LineSource, MAX_LINE_CHARS, readFailure } from './lines.js';
import { endMappings, fromKernelName } from './maps-end.js';
import { openedTraceSource, type ReadThread } from './threaded-source.js';

export interface BundleMeta {
  schema?: string;
  backend?: 'strace' | 'bpftrace';
  pid?: number;
  /** `launched`: the tracer started the command, so the trace holds its whole life; `attached`: -p. */
  mode?: 'launched' | 'attached';
  comm?: string;
  cmdline?: string[];
  /**
   * The process's working directory when the capture began (launched: the
   * capture's own; attached: /proc/PID/cwd), as the kernel spells it; null
   * when it could not be read. A string the target controls: it only makes
   * the trace's relative names absolute.
   */
  cwd?: string | null;
  threads?: { tid: number; tgid: number; comm?: string }[];
  kernel?: string;
  hostname?: string;
  tracerVersion?: string;
  /** `unknown (/path/to/java)` when the JVM could not be asked; null when the process is not a JVM. */
  jvmVersion?: string | null;
  maxMapCount?: number;
  mapCountStart?: number | null;
  mapCountEnd?: number | null;
  startTime?: string;
  endTime?: string | null;
  command?: string;
  traceFiles?: string[];
  lostEvents?: number | null;
  truncatedEvents?: number | null;
  /**
   * bpftrace: how long trace.txt was (bytes) when the capture made the call
   * orphanmap.bt prints as its `stop` record; null when it made none; absent
   * from captures before review 19. A `stop` line before that byte is no stop:
   * a traced process printed it in a file name (orphanmap.bt prints names raw).
   */
  stopAfterByte?: number | null;
  /** Launched with strace: processes the command started that still ran when it exited (a daemon), untraced from then on. */
  leftRunning?: number | null;
  /**
   * From when to when maps-start.txt was read, in seconds on the trace's
   * clock (strace -ttt's epoch; bpftrace's time since boot, to the
   * hundredth): the trace's first moments come before it, and their calls
   * are in it; null when not known; absent from captures before review 84.
   */
  mapsStartRead?: [number, number] | null;
  /**
   * Whether the process saw the capture's mount namespace and root: false for
   * a container's or a chroot's process attached with --pid, whose names are
   * not the host's; null when not read; absent from captures before review 24.
   */
  sameView?: boolean | null;
  /** --pid: the process's descendants when the capture attached (at most 100), which the tracer does not follow; absent from captures before review 24. */
  childrenAtAttach?: number[];
  /** What ended the capture (EXIT_REASONS); null while it runs. */
  exitReason?: ExitReason | null;
  /** Whether the tracer can let go of a launched command without ending it; if not, noDetachReason says why. */
  canDetach?: boolean;
  noDetachReason?: string | null;
  /**
   * Why names the trace gave mapped files were not looked up once it ended
   * (mapped-gone.txt): the lookup failed or ran out of time, or names held a
   * control character; null when every name was; absent from captures before
   * review 66.
   */
  mappedGoneUnchecked?: string | null;
  /** false while the capture is still writing (or died before it finished). */
  complete?: boolean;
  /** Whether the tracer attached to the process (or began the command): false, it traced nothing; null, not known; absent from captures before review 5. */
  attached?: boolean | null;
}

/** Every exitReason the capture scripts write (scripts/bundle-lib.sh, om_finish; docs/safety.md). */
export const EXIT_REASONS = [
  'duration',
  'target-exited',
  'parent-died',
  'interrupted',
  'detached',
  'tracer-died',
  'disk-full',
  'tracer-failed',
  'attach-timeout',
  'target-exited-before-attach',
  'write-failed',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

export interface Bundle {
  dir: string;
  meta: BundleMeta;
  /** The trace files' paths, as reports name them; read them with bundleTraceSource. */
  traceFiles: string[];
  /** Each trace file, open since it was checked (see bundleTraceSource). */
  traceFds: number[];
  seeds: Map<number, SeedMapping[]>;
  /**
   * Every range maps-before.txt lists, and every range maps-start.txt does,
   * of files or not, each sorted by start: a range the trace's first moments
   * unmap that none of them holds, and no mmap of the trace made, was mapped
   * in neither snapshot (start-read.ts). Empty without both.
   */
  rangesAtAttach: readonly (readonly { start: number; end: number }[])[];
  /** The fds open when an attached capture began (fds-start.txt), per process. */
  fdSeeds: Map<number, SeedFd[]>;
  /** An io_uring ring among them: its process and the line of its first fd (a ring may have several: dup, Python's mmap). */
  ringAtStart: { pid: number; at: string } | null;
  /** The attached process saw another mount namespace or root than the capture (meta.json's sameView): its pid and where that is said. */
  otherViewAtStart: { pid: number; at: string } | null;
  mapsEnd: MapsLine[] | null;
  /**
   * Links of the files maps-end.txt prints "(deleted)", counted by the
   * capture just after it (maps-end.nlink): by start, 0 for a file with no
   * name left; a line not listed was not counted (its mapping gone by the
   * count). Null when it did not count (an older bundle, a stat that hung).
   */
  mapsEndLinks: ReadonlyMap<number, RangeLine> | null;
  /**
   * The maps-end.N.txt files (/proc/N/maps at the end of the capture of each
   * other traced process N alive then: the target's descendants), listed
   * when the bundle was loaded but not read: they are read once the trace
   * is (readOthersMapsEnd), when it is known which processes it shows and
   * which lines matter. Null when the bundle has none (an older capture).
   */
  othersMapsEnd: OthersMapsEndFiles | null;
  /**
   * What readOthersMapsEnd kept of each maps-end.N.txt, by pid: set on the
   * bundle an analysis returns (Analysis.bundle), absent before; see
   * OthersMapsEnd.kept for which lines.
   */
  mapsEndOthers?: Map<number, MapsLine[]>;
  engineOptions: EngineOptions;
  warnings: string[];
  /** meta.json has no end: a capture still running (live), or one that died before it finished. */
  unfinished: boolean;
  /** Why an attached capture's maps at the start say nothing (an empty maps-start.txt), which makes the verdict undecided; null otherwise. */
  startUnread: string | null;
}

/** A maps entry with the text and line number it came from, for evidence. */
export interface MapsLine extends MapsEntry {
  lineNo: number;
  text: string;
}

/**
 * A line of a maps snapshot as a bundle keeps it: what its MapsEntry says,
 * its number, and its text in two parts, the name (its path and any
 * " (deleted)": one string for every line of one name) and what comes
 * before it. A process chooses its maps: 70,000 mappings of one 3.9 KB path
 * made maps-start.txt and maps-end.txt 277 MB each, and at a
 * vm.max_map_count of 262,144 they would be 1.1 GB; kept so, that is a few
 * hundred bytes a line and the path once. `text` is joined when asked.
 */
class SnapshotLine implements MapsLine {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly perms: string,
    readonly offset: number,
    readonly dev: string,
    readonly inode: number,
    readonly path: string,
    readonly deleted: boolean,
    readonly lineNo: number,
    private readonly head: string,
    private readonly name: string,
  ) {}

  get text(): string {
    return this.head + this.name;
  }
}

/** One string for each distinct text, copied off the chunk it was cut from (which a slice would keep alive). */
class Interned {
  private readonly strings = new Map<string, string>();
  /** The characters of the strings kept so far: what they cost, for a budget (readOthersMapsEnd). */
  chars = 0;

  of(text: string): string {
    let kept = this.strings.get(text);
    if (kept === undefined) {
      kept = flatCopy(text);
      this.strings.set(kept, kept);
      this.chars += kept.length;
    }
    return kept;
  }
}

/**
 * Handed each line of a maps snapshot the kernel could have printed, in
 * order: what it says, its number, and `keep`, which makes the line as a
 * bundle keeps it (SnapshotLine, its strings interned). A line not kept costs
 * nothing once read: a reader that keeps few lines of a file of millions
 * holds only those.
 */
type SnapshotTaker = (entry: MapsEntry, lineNo: number, keep: () => SnapshotLine) => void;

/** What readMapsSnapshot found beside the lines it handed on. */
interface MapsReading {
  lines: number;
  bad: number;
  /** The unreadable lines named (the first MAX_MAPS_PROBLEMS_SHOWN, then counted), and lines out of order. */
  problems: string[];
  /** The line after which none was handed on, the lines kept having reached the budget; null when every line was. */
  cutAfter: number | null;
}

/**
 * What the lines kept of one maps snapshot may cost (KEPT_LINE_BYTES a line,
 * what precedes its name, and its distinct names), beyond which the rest of
 * the file is read but not kept. A real one is far below: 262,144 mappings
 * (vm.max_map_count on a Kafka host) of 100-character paths keep about 60 MB.
 * A hostile bundle of 2,600 distinct 1 MB names would keep 2.6 GB, and took
 * the analysis past V8's heap (review 10).
 */
export const SNAPSHOT_KEPT_BUDGET_BYTES = 256 << 20;

/**
 * The maps snapshot NAME of the bundle (at `path`), read a line at a time
 * and never whole: a process chooses how large its maps are, and any size
 * the kernel can print is read, keeping only what each line says
 * (SnapshotLine). Each line the kernel could have printed is handed to
 * `take`, in order, which keeps it or not; the others are counted. Read from
 * `fd` when given (NAME opened already), else NAME is opened. Null when the
 * bundle has none. `strings` holds the names of the lines kept.
 */
async function readMapsSnapshot(
  files: BundleFiles,
  name: string,
  path: string,
  take: SnapshotTaker,
  fd?: number,
  strings = new Interned(),
  budget = SNAPSHOT_KEPT_BUDGET_BYTES,
): Promise<MapsReading | null> {
  const problems: string[] = [];
  let lines = 0;
  let bad = 0;
  let ordered = true;
  let lastEnd = Number.NEGATIVE_INFINITY;
  const charsBefore = strings.chars;
  let keptBytes = 0;
  let cutAfter: number | null = null;
  const unreadable = (lineNo: number, why: string) => {
    if (++bad <= MAX_MAPS_PROBLEMS_SHOWN) problems.push(`${path}:${lineNo}: unreadable line, not a /proc/PID/maps line: ${why}`);
  };
  let elidedLines = 0;
  const snapshotFd = fd ?? files.openRegular(name, true);
  if (snapshotFd < 0) return null;
  const linked = await readLinked(files, linkedTwinOf(name), twinBound(files, name, snapshotFd), problems);
  const sink: Pick<LineSink, 'line' | 'longLine'> = {
    line(text, lineNo) {
      if (text.trim() === '') return;
      const entry = readMapsLine(text);
      if (typeof entry === 'string') return unreadable(lineNo, entry);
      if (entry.deleted && linked.has(entry.start)) {
        // A file really named "seg (deleted)", still linked when the capture asked (readLinked).
        entry.path += DELETED_SUFFIX;
        entry.deleted = false;
      }
      lines++;
      if (lastEnd > entry.start) ordered = false;
      lastEnd = entry.end;
      if (cutAfter !== null) return;
      take(entry, lineNo, () => {
        // The name ends the line (but for a \r the kernel never prints): what is before it is the line's own.
        const nameLength = entry.path.length + (entry.deleted ? DELETED_SUFFIX.length : 0) + (text.endsWith('\r') ? 1 : 0);
        const nameAt = text.length - nameLength;
        keptBytes += KEPT_LINE_BYTES + nameAt;
        return new SnapshotLine(
          entry.start,
          entry.end,
          strings.of(entry.perms),
          entry.offset,
          strings.of(entry.dev),
          entry.inode,
          strings.of(entry.path),
          entry.deleted,
          lineNo,
          flatCopy(text.slice(0, nameAt)),
          strings.of(text.slice(nameAt)),
        );
      });
      if (keptBytes + strings.chars - charsBefore > budget) cutAfter = lineNo;
    },
    longLine(lineNo, head, length, tail) {
      // The kernel prints a path whole however deep (review 21: a 1 MB line hid a leak): read as its
      // start and end, the name cut in the middle, when those make a maps line.
      const elided = tail === undefined ? null : `${head}${ELISION}${tail}`;
      if (elided === null || typeof readMapsLine(elided) === 'string') {
        unreadable(lineNo, `${length} characters, more than the ${MAX_LINE_CHARS} of the longest line read`);
        return;
      }
      if (++elidedLines <= MAX_MAPS_PROBLEMS_SHOWN)
        problems.push(
          `${path}:${lineNo}: a line of ${length} characters (a path deeper than orphanmap keeps whole), read as its start and end: the name it shows is cut in the middle, at "${ELISION}"`,
        );
      sink.line(elided, lineNo, 0, -1);
    },
  };
  await files.eachLineOf(snapshotFd, name, sink);
  if (bad > MAX_MAPS_PROBLEMS_SHOWN) problems.push(`${path}: ${bad - MAX_MAPS_PROBLEMS_SHOWN} more unreadable lines`);
  if (!ordered)
    problems.push(`${path}: its lines are not in address order, or overlap, as the kernel never prints them: a finding's line is the one that starts at its address, else the first that holds it`);
  return { lines, bad, problems, cutAfter };
}

/**
 * The twin of a maps snapshot the capture writes (maps-end.txt:
 * maps-end.linked): the ranges of its lines that print " (deleted)" whose
 * file had a link left when the capture asked the kernel right after its
 * read (an lstat of the printed name, suffix and all, as root). Any user can name
 * a file "seg (deleted)", and mapped it prints as a deleted seg does (review
 * 26, F2). maps-start-gone.txt and its -late twin hold lines of
 * maps-start.txt: its twin is theirs.
 */
function linkedTwinOf(snapshot: string): string {
  return snapshot === GONE_FILE || snapshot === GONE_LATE_FILE ? 'maps-start.linked' : snapshot.replace(/\.txt$/, '.linked');
}

/** The most bytes the twin of snapshot `name` may hold: its snapshot's size (maps-start.txt's, for the lines of it the gone files hold). */
function twinBound(files: BundleFiles, name: string, snapshotFd: number): number {
  return name !== GONE_FILE && name !== GONE_LATE_FILE ? fstatSync(snapshotFd).size : startBytes(files);
}

/** maps-start.txt's size (or snapshot `name`'s): the most its twins may hold (0 without it). */
function startBytes(files: BundleFiles, name = 'maps-start.txt'): number {
  const start = files.openRegular(name, true);
  if (start < 0) return 0;
  try {
    return fstatSync(start).size;
  } finally {
    closeSync(start);
  }
}

/** The most lines of a twin read: a maps snapshot has no more than vm.max_map_count lines, and a real one some ten thousand. */
const MAX_LINKED_LINES = 1 << 20;

/**
 * The start addresses a snapshot's twin (linkedTwinOf) lists; none without
 * it. Its unreadable lines are said in `problems`. A twin larger than its
 * snapshot (`snapshotBytes`: each line of a twin is shorter than the line it
 * is of) is not read: a hostile bundle would make every twin of 2,000
 * maps-end.N.txt files 200 MB (review 29).
 */
async function readLinked(files: BundleFiles, twin: string, snapshotBytes: number, problems: string[], unusedMeans?: string): Promise<Set<number>> {
  return new Set((await readRanges(files, twin, snapshotBytes, problems, unusedMeans, false)).keys());
}

/** A line of a maps snapshot's twin: its range's end, and for the .nlink twins, the count and the file it is of (else 0, null). */
export interface RangeLine {
  end: number;
  count: number;
  inode: number;
  /** The file's device as "major:minor" (decimal), or null: captures before review 34 did not print it. */
  dev: string | null;
  /** The type of its file system (stat -f %T: "btrfs", "ext2/ext3", "tmpfs"), or null, as `dev`. */
  fsType: string | null;
}

/** The file a count is of, as a key: its inode and device. */
function fileKey(link: RangeLine): string {
  return `${link.inode} ${link.dev ?? ''}`;
}

/** A maps line's device ("fe:01", hex) as RangeLine.dev spells one. */
function mapsDevKey(dev: string): string | null {
  const parsed = parseDev(dev);
  return parsed === null ? null : `${parsed.major}:${parsed.minor}`;
}

/** find's %D, st_dev in decimal, as glibc encodes it (gnu_dev_major/minor), as RangeLine.dev spells one. */
function statDevKey(decimal: string): string {
  const dev = BigInt(decimal);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/**
 * Whether a count (a line of a .nlink twin) is of the file a maps line maps:
 * its inode and its device. Inode numbers repeat across file systems (each
 * new tmpfs starts at 2): a target that mapped another's file at the range
 * while the count ran had its count taken for its leak's (review 34 attack,
 * F4). A count of an older capture, with no device, is matched by inode.
 */
export function countIsOf(link: RangeLine, inode: number, dev: string): boolean {
  return link.inode === inode && (link.dev === null || link.dev === mapsDevKey(dev) || link.fsType === STAT_DEV_ELSEWHERE);
}

/**
 * A file system whose stat gives a file another device than the maps print:
 * btrfs, its subvolume's, where the maps print its superblock's, on every
 * file (review 34's code review, 1). Its counts are matched by inode alone,
 * as before the device was read.
 */
const STAT_DEV_ELSEWHERE = 'btrfs';

/**
 * Whether a count of links (a line of a .nlink twin) says anything of a
 * mapping the maps print "(deleted)": not one of overlayfs above 0. A file
 * of an image's lower layer keeps the count the layer gives it when its name
 * in the overlay (a container's root) is removed or replaced, since the
 * lower layer is never written (review 81, F3: gconv-modules.cache replaced
 * by iconvconfig, and a library by dpkg's rename, read as kept by a hard
 * link, clean, while /proc printed them "(deleted)"). A file of the upper
 * layer counts truly, but the count cannot tell the two apart.
 */
export function countTells(link: RangeLine, deleted: boolean): boolean {
  return !deleted || link.count === 0 || link.fsType !== OVERLAY;
}

/** stat -f's name of overlayfs. */
const OVERLAY = 'overlayfs';

/** The warning for `ignored` mappings `snapshot` prints "(deleted)" whose overlayfs counts were not used (countTells), or null for none. */
export function overlayCountsIgnored(snapshot: string, ignored: number): string | null {
  if (ignored === 0) return null;
  return (
    `${snapshot}: ${ignored === 1 ? 'a mapping it prints' : `${ignored} mappings it prints`} "(deleted)" ${ignored === 1 ? 'is' : 'are'} of overlayfs (a container's root), where a file ` +
    "of the image (a lower layer) keeps the image's link count once its name in the container is removed or replaced, and the count cannot tell such a file " +
    `from one kept by a hard link: ${ignored === 1 ? 'its count was' : 'their counts were'} not taken for a name left, and ${ignored === 1 ? 'it is' : 'they are'} read as /proc prints ${ignored === 1 ? 'it' : 'them'}`
  );
}

/**
 * Whether the maps-end.N.txt files of the bundle were read while the trace
 * went on: a launched command's (its maps are read before the capture stops
 * it), and, once an attached capture's process had exited, those of what
 * it forked under the trace (read before the tracer lets go: review 82, E2;
 * under bpftrace too since its capture reads them).
 */
export function othersReadWhileTraced(meta: BundleMeta): boolean {
  return meta.mode === 'launched' || (meta.mode === 'attached' && meta.exitReason === 'target-exited');
}

/**
 * The lines of a maps snapshot's twin, each `START-END` (or, `counted`,
 * `START-END N INODE DEV FSTYPE`, N a count, DEV st_dev in decimal, FSTYPE its file system's, both absent from older captures): by START. No larger than the snapshot,
 * as no capture writes one.
 */
async function readRanges(files: BundleFiles, twin: string, snapshotBytes: number, problems: string[], unusedMeans: string | undefined, counted: boolean): Promise<Map<number, RangeLine>> {
  const starts = new Map<number, RangeLine>();
  let bad = 0;
  let over = 0;
  const unreadable = (lineNo: number) => {
    if (++bad <= MAX_MAPS_PROBLEMS_SHOWN) problems.push(`${join(files.dir, twin)}:${lineNo}: unreadable line, not the START-END${counted ? ' COUNT INODE DEVICE TYPE' : ''} of a maps line`);
  };
  const twinFd = files.openRegular(twin, true);
  if (twinFd < 0) return starts;
  if (fstatSync(twinFd).size > snapshotBytes) {
    closeSync(twinFd);
    problems.push(`${join(files.dir, twin)}: larger than the snapshot it is of, as no capture writes: not used (${unusedMeans ?? 'its lines read as deleted files'})`);
    return starts;
  }
  await files.eachLineOf(twinFd, twin, {
    line(text, lineNo) {
      if (text.trim() === '') return;
      const range = (counted ? /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) ([0-9]{1,9}) ([0-9]{1,20})(?: ([0-9]{1,20})(?: ([0-9A-Za-z_./-]{1,32}))?)?$/ : /^([0-9a-f]{1,16})-([0-9a-f]{1,16})$/).exec(text);
      if (range === null) return unreadable(lineNo);
      if (starts.size >= MAX_LINKED_LINES) over++;
      else
        starts.set(parseInt(range[1]!, 16), {
          end: parseInt(range[2]!, 16),
          count: counted ? Number(range[3]) : 0,
          inode: counted ? Number(range[4]) : 0,
          dev: range[5] === undefined ? null : statDevKey(range[5]),
          fsType: range[6] ?? null,
        });
    },
    longLine: (lineNo) => unreadable(lineNo),
  });
  if (bad > MAX_MAPS_PROBLEMS_SHOWN) problems.push(`${join(files.dir, twin)}: ${bad - MAX_MAPS_PROBLEMS_SHOWN} more unreadable lines`);
  if (over > 0)
    problems.push(`${join(files.dir, twin)}: ${over} lines past the first ${MAX_LINKED_LINES.toLocaleString('en-US')} not used: ${unusedMeans ?? 'their mappings read as of deleted files'}`);
  return starts;
}

/** What a maps snapshot cut short by SNAPSHOT_KEPT_BUDGET_BYTES costs, said after its path. */
function cutText(reading: MapsReading): string {
  return (
    `its lines after line ${(reading.cutAfter ?? 0).toLocaleString('en-US')} were read but not kept: those kept reached the ${SNAPSHOT_KEPT_BUDGET_BYTES >> 20} MiB a maps snapshot may hold ` +
    '(a real one is far below it: names that long, or that many, come from a hostile process or bundle)'
  );
}

/**
 * A line of maps-start.txt (at `path`) as the engine is seeded with it, added
 * to `mappings`: only a file's mapping. One of an O_TMPFILE file is added to
 * `tmpfiles` too: it is kept only if the capture counted links of it.
 */
function seedOf(entry: SnapshotLine, path: string, mappings: SeedMapping[], tmpfiles: Set<SeedMapping>): void {
  if (!entry.path.startsWith('/') || entry.inode === 0) return; // anonymous, [heap], [vdso]…
  const kind = entry.deleted ? deletedKind(entry.path, entry.inode, entry.dev) : 'file';
  // memfd, /dev/zero and SysV shm files print "(deleted)" but never had a name to unlink.
  if (kind !== 'file' && kind !== 'tmpfile') return;
  // `text` is a join V8 keeps as a pair of references (a cons string), not a copy of the name.
  // The trace spells a newline in a name as itself, /proc as \012 (review 28: a seeded file so named never matched its unlink).
  const seed: SeedMapping = {
    start: entry.start,
    end: entry.end,
    offset: entry.offset,
    path: fromKernelName(entry.path),
    deleted: entry.deleted,
    place: { file: path, line: entry.lineNo },
    text: entry.text,
  };
  // As the tracer gives an inode's device (MKDEV): a deleted file's mmap by the trace may come before this read
  // (Mappings.seedTaken), and bpftrace's close of a file's fd says whose link count it gives (Fds.close).
  const dev = parseDev(entry.dev);
  if (dev !== null) seed.mapsInode = { dev: dev.major * 2 ** 20 + dev.minor, ino: entry.inode };
  mappings.push(seed);
  // An O_TMPFILE file had none either, unless linkat gave it one before the attach (review 31, F-2: its unlink then
  // read as clean); maps-start.nlink tells.
  if (kind === 'tmpfile') tmpfiles.add(seed);
}

/**
 * maps-before.txt: `capture --pid`'s read of its target's maps before it
 * started the tracer. Its file mappings that no line of the same file in
 * maps-start.txt, read once the tracer had attached, covers went in
 * between (AttachWindow).
 */
const BEFORE_FILE = 'maps-before.txt';
/** The most such mappings followed: a process unmaps few in those moments, and each traced mmap or munmap of the target looks at them. */
const MAX_WINDOW_MAPPINGS = 4096;

/**
 * The file mappings of maps-before.txt that maps-start.txt (`startRanges`:
 * start, end and inode of each line) no longer holds: no line of the same
 * file over them. One that lines of other files cover now was mapped over
 * in between (`replaced`). None without the file.
 */
async function readAttachWindow(files: BundleFiles, path: string, startRanges: readonly StartRange[], warnings: string[], everyRange: { start: number; end: number }[]): Promise<WindowMapping[]> {
  if (!files.has(BEFORE_FILE)) return [];
  const ranges = [...startRanges].sort((a, b) => a.start - b.start);
  const byInode = new Map<number, StartRange[]>();
  for (const range of ranges) {
    const ofFile = byInode.get(range.inode);
    if (ofFile === undefined) byInode.set(range.inode, [range]);
    else ofFile.push(range);
  }
  const window: WindowMapping[] = [];
  let more = 0;
  const before = await readMapsSnapshot(files, BEFORE_FILE, path, (entry) => {
    everyRange.push({ start: entry.start, end: entry.end });
    if (!entry.path.startsWith('/') || entry.inode === 0 || entry.deleted) return;
    const over = overlapping(ranges, byInode, entry.start, entry.end, entry.inode);
    // Still there (mprotect may have split it): seeded from maps-start.txt.
    if (over === 'same-file') return;
    if (window.length < MAX_WINDOW_MAPPINGS) window.push({ start: entry.start, end: entry.end, path: fromKernelName(entry.path), replaced: over });
    else more++;
  });
  if (before === null) return [];
  warnings.push(...before.problems);
  if (before.cutAfter !== null) warnings.push(`${path}: ${cutText(before)}`);
  if (more > 0) warnings.push(`${path}: ${more} more file mappings gone before maps-start.txt was read than the ${MAX_WINDOW_MAPPINGS} followed: what the trace shows of those is not weighed`);
  return window;
}

/** A line of maps-start.txt: its range and inode. */
interface StartRange {
  start: number;
  end: number;
  inode: number;
  /** As the maps line prints it ("fe:01"). */
  dev: string;
}

/**
 * What maps-start.txt's lines (`ranges`, sorted by start, apart; `byInode`,
 * the same by file) hold over [start, end): a line of the file of `inode`
 * ('same-file'), else whether any line at all. Two binary searches: a
 * hostile maps-before.txt's line may cover every line (review 33 attack,
 * F4: 40,000 over 40,000 took 180 s).
 */
function overlapping(ranges: readonly StartRange[], byInode: ReadonlyMap<number, StartRange[]>, start: number, end: number, inode: number): 'same-file' | boolean {
  const ofFile = byInode.get(inode);
  if (ofFile !== undefined) {
    const k = firstEndingAfter(ofFile, start);
    if (k < ofFile.length && ofFile[k]!.start < end) return 'same-file';
  }
  const k = firstEndingAfter(ranges, start);
  return k < ranges.length && ranges[k]!.start < end;
}

/**
 * maps-start-gone.txt: written by the capture when its process exited during
 * it, so that no maps-end.txt could be read: the lines of maps-start.txt
 * whose files were no longer at their names right after (removed, or
 * replaced by another file). Its lines are a subset of maps-start.txt's, at
 * most vm.max_map_count (262,144 on a Kafka host); more are not used.
 */
const GONE_FILE = 'maps-start-gone.txt';
/** …and those whose directories changed about the exit or after it (removed then, or just after), or whose names could not be looked up: in doubt. */
const GONE_LATE_FILE = 'maps-start-gone-late.txt';
const MAX_GONE_LINES = 262_144;

/** The lines of the bundle's file `name` (maps-start-gone.txt or its -late twin), as the engine takes them; none if it is not there. */
async function readGone(files: BundleFiles, dir: string, name: string, warnings: string[]): Promise<EndMapping[]> {
  if (!files.has(name)) return [];
  const path = join(dir, name);
  const kept: MapsLine[] = [];
  let more = 0;
  const read = await readMapsSnapshot(files, name, path, (_entry, _lineNo, keep) => {
    if (kept.length < MAX_GONE_LINES) kept.push(keep());
    else more++;
  });
  if (read === null) return [];
  warnings.push(...read.problems);
  if (read.cutAfter !== null) warnings.push(`${path}: ${cutText(read)}; the mappings of those lines are not checked`);
  if (more > 0) warnings.push(`${path}: ${more} lines past the first ${MAX_GONE_LINES} not used (maps-start.txt has no more than vm.max_map_count lines)`);
  return endMappings(kept, path);
}

/**
 * mapped-gone.txt: written by the capture once its trace ended, the names
 * the trace shows files mapped by or renamed to that led to no file then: one
 * absolute name a line. At most MAX_MAPPED_GONE are used, as
 * many as a process may map (vm.max_map_count on a Kafka host).
 */
const MAPPED_GONE_FILE = 'mapped-gone.txt';
const MAX_MAPPED_GONE = 262_144;

/** The names of the bundle's mapped-gone.txt (none when it has none); an unreadable line is named in `warnings`, and not used. */
async function readMappedGone(files: BundleFiles, warnings: string[]): Promise<Set<string>> {
  const names = new Set<string>();
  let bad = 0;
  let more = 0;
  const path = join(files.dir, MAPPED_GONE_FILE);
  const unreadable = (lineNo: number) => {
    if (++bad <= MAX_MAPS_PROBLEMS_SHOWN) warnings.push(`${path}:${lineNo}: unreadable line, not the absolute name of a file: not used`);
  };
  await files.eachLine(MAPPED_GONE_FILE, {
    line(text, lineNo) {
      // The capture writes no name with a control character (it leaves such names out).
      if (!text.startsWith('/') || hasControl(text)) return unreadable(lineNo);
      if (names.size < MAX_MAPPED_GONE) names.add(flatCopy(text));
      else more++;
    },
    longLine: (lineNo) => unreadable(lineNo),
  });
  if (bad > MAX_MAPS_PROBLEMS_SHOWN) warnings.push(`${path}: ${bad - MAX_MAPS_PROBLEMS_SHOWN} more unreadable lines`);
  if (more > 0) warnings.push(`${path}: ${more} names past the first ${MAX_MAPPED_GONE.toLocaleString('en-US')} not used`);
  return names;
}

/**
 * mapped-named.txt: written with mapped-gone.txt, the other names, each with
 * the file it leads to as stat printed it: "BIRTH DEVICE INODE FSTYPE DIRECT
 * NAME" (BIRTH in seconds, 0 where the file system keeps none; DEVICE
 * st_dev; FSTYPE the file system's magic number in hex; DIRECT 1 when the
 * name reaches the file through no symbolic link). At most MAX_MAPPED_GONE
 * are used.
 */
const MAPPED_NAMED_FILE = 'mapped-named.txt';
const MAPPED_NAMED_LINE = /^(\d+(?:\.\d+)?) (\d+) (\d+) ([0-9a-f]+) ([01]) (\/.*)$/;

/**
 * The files the names of the bundle's mapped-named.txt led to once the trace
 * ended: the inode as the tracer gives one (the device as the kernel numbers
 * it), the file system, whether through no symbolic link, and, with `births`
 * (a wall-clock trace: strace -ttt), the birth.
 */
async function readMappedNamed(files: BundleFiles, warnings: string[], births: boolean): Promise<Map<string, NamedAfter>> {
  const named = new Map<string, NamedAfter>();
  let bad = 0;
  let more = 0;
  const path = join(files.dir, MAPPED_NAMED_FILE);
  const unreadable = (lineNo: number) => {
    if (++bad <= MAX_MAPS_PROBLEMS_SHOWN) warnings.push(`${path}:${lineNo}: unreadable line, not "BIRTH DEVICE INODE FSTYPE DIRECT NAME": not used`);
  };
  await files.eachLine(MAPPED_NAMED_FILE, {
    line(text, lineNo) {
      const parts = MAPPED_NAMED_LINE.exec(text);
      if (parts === null || hasControl(text)) return unreadable(lineNo);
      if (named.size >= MAX_MAPPED_GONE) return void more++;
      // st_dev as glibc's makedev packs it; the kernel's own numbering (bpftrace's dev=) is major << 20 | minor.
      const dev = BigInt(parts[2]!);
      const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
      const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
      const born = Number(parts[1]);
      named.set(flatCopy(parts[6]!), {
        inode: { dev: major * 2 ** 20 + minor, ino: Number(parts[3]) },
        born: births && born > 0 ? born : null,
        fileSystem: Number.parseInt(parts[4]!, 16),
        direct: parts[5] === '1',
      });
    },
    longLine: (lineNo) => unreadable(lineNo),
  });
  if (bad > MAX_MAPS_PROBLEMS_SHOWN) warnings.push(`${path}: ${bad - MAX_MAPS_PROBLEMS_SHOWN} more unreadable lines`);
  if (more > 0) warnings.push(`${path}: ${more} names past the first ${MAX_MAPPED_GONE.toLocaleString('en-US')} not used`);
  return named;
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 32 || code === 127) return true;
  }
  return false;
}

/** How many unreadable lines of a maps snapshot are named one by one; the rest are counted. */
const MAX_MAPS_PROBLEMS_SHOWN = 3;

export async function loadBundle(dir: string): Promise<Bundle> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY).catch((error: unknown) => {
    throw new InputError(`cannot open the bundle directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, dir);
  });
  try {
    return await loadOpenBundle(dir, handle);
  } finally {
    await handle.close();
  }
}

/**
 * The bundle directory open as `fd` (the one resolveInputs checked), named
 * `dir`: opened again through /proc/self/fd/N, the same directory whatever is
 * put at its name since (a link swapped in after the check).
 */
export async function loadBundleFrom(fd: number, dir: string): Promise<Bundle> {
  const handle = await open(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_DIRECTORY).catch((error: unknown) => {
    throw new InputError(`cannot open the bundle directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, dir);
  });
  try {
    return await loadOpenBundle(dir, handle);
  } finally {
    await handle.close();
  }
}

async function loadOpenBundle(dir: string, handle: FileHandle): Promise<Bundle> {
  const files = new BundleFiles(dir, handle.fd);
  const metaPath = join(dir, 'meta.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await files.read('meta.json', MAX_META_BYTES));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`unreadable bundle metadata: ${(error as Error).message}`, metaPath);
  }
  const warnings: string[] = [];
  const meta = checkMeta(parsed, metaPath, warnings);
  const unfinished = meta.endTime === null || meta.exitReason === null || meta.exitReason === undefined || meta.complete === false;
  const traceFiles = (meta.traceFiles ?? ['trace.txt']).map((file) => join(dir, file));
  const threadGroups = new Map<number, number>();
  for (const thread of meta.threads ?? []) threadGroups.set(thread.tid, thread.tgid);
  const engineOptions: EngineOptions = { threadGroups };
  if (typeof meta.pid === 'number') engineOptions.rootPid = meta.pid;
  // readlink's " (deleted)" after a directory removed cannot be told from a name that ends so: no cwd then.
  if (typeof meta.cwd === 'string' && meta.cwd.startsWith('/') && !meta.cwd.endsWith(' (deleted)')) engineOptions.rootCwd = meta.cwd;

  const seeds = new Map<number, SeedMapping[]>();
  let rangesAtAttach: { start: number; end: number }[][] = [];
  const startPath = join(dir, 'maps-start.txt');
  let ringMapLine = 0;
  let startUnread: string | null = null;
  // A launched command's trace begins before its execve: maps-start.txt, read
  // once it runs, holds nothing older than the trace, only mappings the trace
  // shows being made. Seeding them would count each twice: it is only looked for.
  const seedsStart = typeof meta.pid === 'number' && meta.mode !== 'launched';
  const noStart = `${dir}: bundle has no maps-start.txt: mappings made before the capture are unknown`;
  if (!seedsStart) {
    // A launched command's trace holds its whole life: nothing is missing without it. (The capture reads it once
    // the command runs; one that ended within milliseconds left none, and was warned of mappings made before it.)
    // Asked all the same: a maps-start.txt that is no regular file (a FIFO, a device, a link) refuses the bundle.
    const hasStart = files.has('maps-start.txt');
    if (meta.mode !== 'launched' && !hasStart) warnings.push(noStart);
  } else {
    let mappings: SeedMapping[] = [];
    const tmpfiles = new Set<SeedMapping>();
    let startLines = 0;
    const startRanges: StartRange[] = [];
    const start = await readMapsSnapshot(files, 'maps-start.txt', startPath, (entry, lineNo, keep) => {
      startLines++;
      startRanges.push({ start: entry.start, end: entry.end, inode: entry.inode, dev: entry.dev });
      // A ring lives on in its mappings once its fd is closed, and SQPOLL's thread needs no call (review 25).
      if (ringMapLine === 0 && entry.path === IO_URING_TARGET) ringMapLine = lineNo;
      seedOf(keep(), startPath, mappings, tmpfiles);
    });
    // Without it, what the process mapped before the capture is unknown (review 25: one that exited as the capture
    // attached held a deleted file's mapping, and the bundle read as clean).
    if (start === null) startUnread = `${dir} has no maps-start.txt: the capture did not read process ${meta.pid}'s maps when it attached, so what it mapped before the capture is unknown`;
    else {
      // A live process maps its program at least: an empty read is of one exiting as the capture attached (review 25:
      // a JVM's mapping of a deleted file, live through the whole trace, read as clean).
      if (startLines === 0 && start.cutAfter === null)
        startUnread = `${startPath} is empty: the capture could not read process ${meta.pid}'s maps when it attached (was it exiting?), so what it mapped before the capture is unknown`;
      seeds.set(meta.pid as number, mappings);
      warnings.push(...start.problems);
      // Marked MADV_DONTFORK before the attach: a child forked since has no copy of them (review 31, F-1).
      const dontFork = await readLinked(files, 'maps-start.dontfork', startBytes(files), warnings, 'a child forked since is taken to copy those mappings');
      // Read before the tracer started too: a mark set under the trace, after a fork that copied the mapping, is in
      // maps-start.dontfork alone (review 33 attack, F7), and only a range marked in both was marked before the trace.
      const markedBefore =
        dontFork.size > 0 && files.has('maps-before.dontfork')
          ? await readLinked(files, 'maps-before.dontfork', startBytes(files, BEFORE_FILE), warnings, 'a child forked since is taken to copy those mappings')
          : null;
      if (dontFork.size > 0) for (const seed of mappings) if (dontFork.has(seed.start) && (markedBefore === null || markedBefore.has(seed.start))) seed.dontFork = true;
      // The links of their files the capture counted, where more than the printed name (review 32: hard links made before the attach).
      const noCount = 'their files are taken to have only the names maps-start.txt prints';
      const links = await readRanges(files, 'maps-start.nlink', startBytes(files), warnings, noCount, true);
      // Counted before the tracer started too: the links of maps-start.nlink may include one the trace shows made
      // (review 33 attack, F2: counted twice, it kept a file with no name left). The lower count holds, by file (a
      // count is the inode's, whichever mapping of it was listed: one made or split in between keeps its file's); a
      // file maps-before.nlink does not list had no name beyond its printed one then (or was not mapped, untraced).
      const before =
        links.size > 0 && files.has('maps-before.nlink')
          ? new Map([...(await readRanges(files, 'maps-before.nlink', startBytes(files, BEFORE_FILE), warnings, noCount, true)).values()].map((line) => [fileKey(line), line.count]))
          : null;
      // The same range of the same file: the counts are read after maps-start.txt, and the process may have mapped
      // another there between the two reads (review 32).
      const rangeAt = links.size === 0 ? null : new Map(startRanges.map((range) => [range.start, range]));
      let overlayIgnored = 0;
      for (const seed of mappings) {
        const link = links.get(seed.start);
        const range = rangeAt?.get(seed.start);
        if (link === undefined || range === undefined || link.end !== seed.end || !countIsOf(link, range.inode, range.dev)) continue;
        if (!countTells(link, seed.deleted)) {
          overlayIgnored++;
          continue;
        }
        const earlier = before?.get(fileKey(link));
        if (before === null) seed.nlink = link.count;
        else if (earlier !== undefined) seed.nlink = Math.min(earlier, link.count);
      }
      const ignored = overlayCountsIgnored(join(dir, 'maps-start.nlink'), overlayIgnored);
      if (ignored !== null) warnings.push(ignored);
      if (tmpfiles.size > 0) {
        mappings = mappings.filter((seed) => !tmpfiles.has(seed) || (seed.nlink ?? 0) > 0);
        seeds.set(meta.pid as number, mappings);
      }
      if (start.cutAfter !== null) warnings.push(`${startPath}: ${cutText(start)}; the mappings they list are unknown, as if made before the capture`);
      else {
        const beforeRanges: { start: number; end: number }[] = [];
        const window = await readAttachWindow(files, join(dir, BEFORE_FILE), startRanges, warnings, beforeRanges);
        const byStart = (a: { start: number }, b: { start: number }) => a.start - b.start;
        if (files.has(BEFORE_FILE)) rangesAtAttach = [beforeRanges.sort(byStart), startRanges.map(({ start, end }) => ({ start, end })).sort(byStart)];
        if (window.length > 0) engineOptions.attachWindow = { pid: meta.pid as number, mappings: window };
      }
    }
  }

  // The fds open at the attach, for the same reason, and only then: a launched command's are all in its trace,
  // but the stdin it was given (`prog < FILE`), which the capture read before it ran (fds-inherited.txt): bpftrace
  // prints no path with an fd, and the file's mmap and its unlink by name would not meet (review 40, F3). Its
  // fds-start.txt, read once it ran, may name a file put on fd 0 since (review 43, F4): not read.
  const fdSeeds = new Map<number, SeedFd[]>();
  const launchedBpftrace = meta.mode === 'launched' && meta.backend === 'bpftrace' && typeof meta.pid === 'number';
  const fdsName = launchedBpftrace ? 'fds-inherited.txt' : 'fds-start.txt';
  const fdsPath = join(dir, fdsName);
  const fds = seedsStart || (launchedBpftrace && files.has(fdsName)) ? await readFdSnapshot(files, fdsPath, fdsName, launchedBpftrace ? 0 : undefined) : null;
  let ringAtStart: Bundle['ringAtStart'] = null;
  if (fds !== null) {
    fdSeeds.set(meta.pid as number, fds.seeds);
    if (fds.ringLine > 0 && !launchedBpftrace) ringAtStart = { pid: meta.pid as number, at: `${fdsPath}:${fds.ringLine}` };
    warnings.push(...fds.problems);
    if (fds.bad > MAX_FD_PROBLEMS_SHOWN) warnings.push(`${fdsPath}: ${fds.bad - MAX_FD_PROBLEMS_SHOWN} more unreadable lines`);
  }
  if (ringAtStart === null && ringMapLine > 0) ringAtStart = { pid: meta.pid as number, at: `${startPath}:${ringMapLine}` };

  const endPath = join(dir, 'maps-end.txt');
  const endLines: MapsLine[] = [];
  const end = await readMapsSnapshot(files, 'maps-end.txt', endPath, (_entry, _lineNo, keep) => void endLines.push(keep()));
  let mapsEnd: MapsLine[] | null = null;
  if (end !== null) {
    // A file that is mostly not /proc/PID/maps must not confirm or contradict anything; nor may part of one.
    if (end.cutAfter !== null) warnings.push(`${endPath}: ${cutText(end)}; not used to confirm still-mapped findings`);
    else if (end.bad > end.lines) {
      warnings.push(`${endPath}: ${end.bad} of ${end.bad + end.lines} lines are not /proc/PID/maps lines: not used to confirm still-mapped findings`, ...end.problems);
    } else {
      mapsEnd = endLines;
      warnings.push(...end.problems);
    }
  }
  const mapsEndLinks =
    mapsEnd !== null && files.has('maps-end.nlink')
      ? await readRanges(files, 'maps-end.nlink', startBytes(files, 'maps-end.txt'), warnings, 'the files maps-end.txt prints "(deleted)" are taken as not counted', true)
      : null;
  // The capture's word when its process exited first (no maps-end.txt): the maps-start.txt lines whose files it found gone from their names right after.
  if (typeof meta.pid === 'number' && seedsStart && mapsEnd === null && (files.has(GONE_FILE) || files.has(GONE_LATE_FILE))) {
    const lines = await readGone(files, dir, GONE_FILE, warnings);
    const late = await readGone(files, dir, GONE_LATE_FILE, warnings);
    engineOptions.goneAtExit = { pid: meta.pid, lines, late, startFile: startPath };
  }
  // The capture's word on the files the trace shows mapped: those whose names led to no file once it ended.
  const mappedGone = await readMappedGone(files, warnings);
  if (mappedGone.size > 0) engineOptions.mappedGone = mappedGone;
  // And the files the others led to then: one born after a mapping, or of another inode, is not the one mapped.
  const mappedNamed = await readMappedNamed(files, warnings, meta.backend === 'strace');
  if (mappedNamed.size > 0) engineOptions.mappedNamed = mappedNamed;
  // Listed only: read once the trace is (readOthersMapsEnd). A maps-end.N.txt of the captured process is not the capture's: not read.
  const othersListed = files.othersMapsEnd().filter(([pid]) => pid !== meta.pid);
  // The engine notes which of these the trace shows (Engine.showsProcess), and no other process.
  if (othersListed.length > 0) engineOptions.watchedProcesses = new Set(othersListed.map(([pid]) => pid));
  // A launched command's maps are read before the capture stops it (and a live capture's are read later): its exit is in the trace.
  if (meta.mode === 'launched' && typeof meta.pid === 'number') engineOptions.mapsReadBeforeExit = new Set([meta.pid, ...othersListed.map(([pid]) => pid)]);
  // So are those of the processes strace still traced once an attached capture's process had exited (code review 83).
  else if (othersReadWhileTraced(meta) && othersListed.length > 0) engineOptions.mapsReadBeforeExit = new Set(othersListed.map(([pid]) => pid));
  if ((meta.lostEvents ?? 0) > 0) warnings.push(`the tracer lost ${meta.lostEvents} events during the capture (meta.json)`);
  // The children listed at the attach: said once the trace is read, but those it shows (childrenAtAttachWarning).
  const children = listedChildren(meta);
  if (children.length > 0) {
    engineOptions.watchedProcesses = new Set([...(engineOptions.watchedProcesses ?? []), ...children]);
    engineOptions.untracedChildren = children;
  }
  if ((meta.leftRunning ?? 0) > 0)
    warnings.push(
      `the command exited while ${meta.leftRunning} process(es) it started still ran (a daemon?) (meta.json): the capture ended then, and what they did afterwards is not in the trace, ` +
        'so a mapping they orphaned later is not reported. To trace a daemon, start it, then: orphanmap capture --pid PID',
    );
  // Opened last: a snapshot refused above leaves no descriptor behind.
  const traceFds: number[] = [];
  try {
    for (const file of meta.traceFiles ?? ['trace.txt']) traceFds.push(files.openRegular(file));
  } catch (error) {
    for (const fd of traceFds) closeSync(fd);
    throw error;
  }
  // The directory itself, open again until maps-end.N.txt are read: the same directory whatever is put at its name since.
  const othersMapsEnd = othersListed.length === 0 ? null : { dirFd: openSync(`/proc/self/fd/${handle.fd}`, constants.O_RDONLY | constants.O_DIRECTORY), files: othersListed };
  const otherViewAtStart = meta.sameView === false && typeof meta.pid === 'number' ? { pid: meta.pid, at: `${metaPath} (sameView: false)` } : null;
  if (startUnread !== null) warnings.push(startUnread);
  return { dir, meta, traceFiles, traceFds, seeds, rangesAtAttach, fdSeeds, ringAtStart, otherViewAtStart, mapsEnd, mapsEndLinks, othersMapsEnd, engineOptions, warnings, unfinished, startUnread };
}

/** meta.json's children of the process when the capture attached; a launched command's are traced from their fork: none (review 25: said untraced). */
function listedChildren(meta: BundleMeta): number[] {
  return meta.mode === 'launched' ? [] : (meta.childrenAtAttach ?? []);
}

/** The children listed at the attach that the trace does not show (forked since, and so traced, or not). */
export function untracedChildren(meta: BundleMeta, shown: (pid: number) => boolean): number[] {
  return listedChildren(meta).filter((pid) => !shown(pid));
}

/**
 * The warning that the captured process had children when the capture
 * attached, which the tracer does not follow; null if none. The capture
 * lists them once the tracer has attached: a child forked in between is
 * one the trace shows from its fork (`shown`), and is not said (review 32,
 * attack F3: a traced child was called untraced).
 */
export function childrenAtAttachWarning(meta: BundleMeta, shown: (pid: number) => boolean): string | null {
  const listed = listedChildren(meta);
  const children = untracedChildren(meta, shown);
  if (children.length === 0) return null;
  const named = children.slice(0, 5).join(', ');
  // The capture lists at most 100: so many means there may be more.
  return (
    `process ${meta.pid} had ${listed.length >= 100 ? `${children.length} or more` : children.length} child process(es) when the capture attached (${named}${children.length > 5 ? ', …' : ''}) (meta.json): ` +
    'the tracer follows only the processes it forks from then on, so what those did is not in the trace, and a mapping they orphaned is not reported. ' +
    'Capture each with --pid of its own, or capture their parent before it forks them'
  );
}

/** The maps-end.N.txt files of a bundle, as loadBundle found them: read later, once (readOthersMapsEnd). */
export interface OthersMapsEndFiles {
  /** The bundle directory, open until they are read (closeOthersMapsEnd). */
  dirFd: number;
  /** Each file's pid and name, by pid. */
  files: [number, string][];
}

/** What readOthersMapsEnd kept of the bundle's maps-end.N.txt files. */
export interface OthersMapsEnd {
  /**
   * Of each process the trace shows, with a file read whole and used: its
   * lines that map a deleted file (which findings are made of and confirmed
   * by, and the warnings name) and those that hold the start of a finding
   * (any process's: the report's maps line of each, and what confirms it),
   * in the order of the file. Only these are ever asked for, and a process
   * chooses how many others it has.
   */
  kept: Map<number, MapsLine[]>;
  /**
   * Of each process the trace never shows, with a file read and used, that
   * maps deleted files: its first such line (a warning names it), and how
   * many mappings and bytes of deleted files it holds (lines of one file that
   * follow each other in its range count once: mprotect splits a mapping).
   */
  unseenDeleted: Map<number, { first: MapsLine; mappings: number; bytes: number }>;
  /** Files not used, and why: unreadable lines, one file under two names, the budget spent. */
  warnings: string[];
}

/**
 * The most lines kept of all maps-end.N.txt files together, and the most
 * they may cost (Interned.chars and KEPT_LINE_BYTES a line). Without a
 * bound, a bundle's 15 names of one 2M-line file (85 MB on disk) took 4.3 GB
 * and crashed the analysis (review 7); a capture writes up to 1,000 files
 * of up to 262,144 lines. The lines kept are few in a real capture (its
 * traced processes' mappings of deleted files, and of findings' addresses),
 * but each deleted file's mapping no finding explains becomes a finding
 * (Engine.deletedAtEnd), some 5 KiB each once reported: 32,000 of them took
 * 270 MiB, 10,000 keep the analysis under 150 MiB.
 */
export const OTHERS_KEPT_BUDGET = { lines: 10_000, bytes: 32 << 20 } as const;
/** What a line kept costs beyond its text: the SnapshotLine, its text's head string, its array slot (measured: about 150 bytes). */
const KEPT_LINE_BYTES = 160;
/** How many of the files left unread for the budget a warning names. */
const UNREAD_NAMED = 3;

/**
 * The bundle's maps-end.N.txt files (OthersMapsEndFiles), each opened once,
 * as any bundle file is, and read a line at a time, keeping only what is
 * used (OthersMapsEnd): of a process the trace shows (`shows`), the lines
 * of deleted files and those that hold one of `findingStarts` (sorted); of
 * another, its first deleted file's line. A file that names the same file
 * as one read before (a hard link: two processes never share their maps)
 * is not read again. What all the files keep together is bounded
 * (OTHERS_KEPT_BUDGET): a file whose lines would pass it is dropped
 * whole, not used, and named in a warning, so that no finding of its
 * process is confirmed or contradicted by part of its maps. The directory
 * is closed after.
 */
export async function readOthersMapsEnd(bundle: Bundle, shows: (pid: number) => boolean, findingStarts: Float64Array): Promise<OthersMapsEnd> {
  const result: OthersMapsEnd = { kept: new Map(), unseenDeleted: new Map(), warnings: [] };
  const listed = bundle.othersMapsEnd;
  if (listed === null) return result;
  const files = new BundleFiles(bundle.dir, listed.dirFd);
  const readBefore = new Map<string, string>();
  const unread: string[] = [];
  let spentLines = 0;
  let spentBytes = 0;
  // Each file's problems, the first few said whole, the rest counted: a hostile bundle lists as many files as it likes.
  let problemsLeft = MAX_OTHERS_PROBLEMS_SHOWN;
  let problemsMore = 0;
  const warn = (...texts: string[]) => {
    for (const text of texts) {
      if (problemsLeft > 0) {
        problemsLeft--;
        result.warnings.push(text);
      } else problemsMore++;
    }
  };
  // Those of processes the trace shows first: a bundle with more than a capture writes is read up to that bound.
  const byUse = [...listed.files.filter(([pid]) => shows(pid)), ...listed.files.filter(([pid]) => !shows(pid))];
  const leftOut = byUse.length - MAX_OTHERS_FILES;
  try {
    for (const [pid, name] of byUse.slice(0, MAX_OTHERS_FILES)) {
      const path = join(bundle.dir, name);
      const fd = files.openRegular(name, true);
      if (fd < 0) continue; // Gone since it was listed: as if the capture had written none.
      const { dev, ino } = fstatSync(fd);
      const same = readBefore.get(`${dev}:${ino}`);
      if (same !== undefined) {
        closeSync(fd);
        warn(`${path}: the same file as ${same} (a hard link), as no capture writes (each process has maps of its own): not used`);
        continue;
      }
      readBefore.set(`${dev}:${ino}`, name);
      const shown = shows(pid);
      const lines: MapsLine[] = [];
      const strings = new Interned();
      let cost = 0;
      const overBudget = () => spentLines + lines.length > OTHERS_KEPT_BUDGET.lines || spentBytes + cost + strings.chars > OTHERS_KEPT_BUDGET.bytes;
      const take: SnapshotTaker = shown
        ? (entry, _lineNo, keep) => {
            if (!isDeletedFile(entry) && !holdsAny(findingStarts, entry.start, entry.end)) return;
            const line = keep();
            lines.push(line);
            cost += KEPT_LINE_BYTES + line.text.length - line.path.length;
            if (overBudget()) throw new OverBudget();
          }
        : (entry, _lineNo, keep) => {
            if (!isDeletedFile(entry)) return;
            if (lines.length === 0) lines.push(keep());
            if (entry.start !== unseenEnd || entry.inode !== unseenInode) unseenMappings++;
            unseenBytes += entry.end - entry.start;
            unseenEnd = entry.end;
            unseenInode = entry.inode;
          };
      let unseenMappings = 0;
      let unseenBytes = 0;
      let unseenEnd = -1;
      let unseenInode = -1;
      let reading: MapsReading | null;
      try {
        // Their own budget, over all of them together (OTHERS_KEPT_BUDGET), stops the reading instead.
        reading = await readMapsSnapshot(files, name, path, take, fd, strings, Number.POSITIVE_INFINITY);
      } catch (error) {
        if (!(error instanceof OverBudget)) throw error;
        unread.push(path);
        continue;
      }
      if (reading === null) continue;
      // As maps-end.txt: a file that is mostly not /proc/PID/maps is not used.
      if (reading.bad > reading.lines) {
        warn(`${path}: ${reading.bad} of ${reading.bad + reading.lines} lines are not /proc/PID/maps lines: not used`, ...reading.problems);
        continue;
      }
      warn(...reading.problems);
      spentLines += lines.length;
      spentBytes += cost + strings.chars;
      if (shown) result.kept.set(pid, lines);
      else if (lines[0] !== undefined) result.unseenDeleted.set(pid, { first: lines[0], mappings: unseenMappings, bytes: unseenBytes });
    }
  } finally {
    closeOthersMapsEnd(bundle);
  }
  if (problemsMore > 0) result.warnings.push(`${bundle.dir}: ${problemsMore.toLocaleString('en-US')} more problems of its maps-end.N.txt files, not said one by one`);
  if (leftOut > 0)
    result.warnings.push(
      `${bundle.dir}: ${leftOut.toLocaleString('en-US')} maps-end.N.txt file(s) past the first ${MAX_OTHERS_FILES.toLocaleString('en-US')} not read (a capture writes at most 1,000): ` +
        "their processes' findings are neither confirmed nor contradicted by them, and their deleted files are not reported",
    );
  if (unread.length > 0) {
    const named = unread.slice(0, UNREAD_NAMED).join(', ');
    const more = unread.length > UNREAD_NAMED ? `, and ${unread.length - UNREAD_NAMED} more` : '';
    result.warnings.push(
      `${bundle.dir}: ${unread.length} maps-end.N.txt file(s) left unread: their mappings of deleted files and of findings' addresses would pass the ${OTHERS_KEPT_BUDGET.lines.toLocaleString('en-US')} lines ` +
        `or ${OTHERS_KEPT_BUDGET.bytes >> 20} MiB kept of all such files together (the traced processes at the end map that many deleted files, or the bundle is hostile), ` +
        `so their processes' findings are neither confirmed nor contradicted by them, and their deleted files are not reported: ${named}${more}`,
    );
  }
  return result;
}

/** The most maps-end.N.txt files read (review 28: 70,000 of them, hard links to one, took a minute and crashed analyze); a capture writes 1,000 at most. */
const MAX_OTHERS_FILES = 2000;
/** How many problems of those files are said one by one. */
const MAX_OTHERS_PROBLEMS_SHOWN = 20;

/** Closes the directory loadBundle left open for the bundle's maps-end.N.txt, if it did: for a bundle they will not be read of. */
export function closeOthersMapsEnd(bundle: Bundle): void {
  const listed = bundle.othersMapsEnd;
  if (listed === null || listed.dirFd < 0) return;
  closeSync(listed.dirFd);
  listed.dirFd = -1;
}

/** Thrown by a SnapshotTaker to stop reading a file whose lines pass the budget. */
class OverBudget extends Error {}

/** Whether [start, end) holds one of `sorted`. */
function holdsAny(sorted: Float64Array, start: number, end: number): boolean {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < start) low = middle + 1;
    else high = middle;
  }
  return low < sorted.length && sorted[low]! < end;
}

/**
 * The bundle's trace file `index`, read through the descriptor opened when
 * the bundle was loaded, and named by its path (openedTraceSource). The
 * descriptor stays open for the life of the process.
 */
export async function bundleTraceSource(bundle: Bundle, index: number, readThread?: ReadThread): Promise<LineSource> {
  return openedTraceSource(bundle.traceFds[index]!, bundle.traceFiles[index]!, readThread);
}

/** How many unreadable lines of fds-start.txt are named one by one; the rest are counted. */
const MAX_FD_PROBLEMS_SHOWN = 3;

/** What readlink says of an io_uring ring's fd. */
const IO_URING_TARGET = 'anon_inode:[io_uring]';

/** Targets of fds whose file no directory holds (orphanmap.bt's @nameless: their closes are not traced) start so. */
const NAMELESS_FD_TARGETS = ['/proc/', '/sys/', '/dev/pts/'];

/**
 * fds-start.txt: "FD<TAB>TARGET" per open fd, TARGET as readlink prints
 * /proc/PID/fd/FD (scripts/bundle-lib.sh om_snapshot_fds):
 *   3	/tmp/review/c2/prefd.map
 *   4	/tmp/x/seg.index (deleted)
 *   251	pipe:[6435562]
 * Only files a directory holds are kept: sockets, pipes, anonymous inodes and
 * files of /proc, /sys and /dev/pts are fds whose closes orphanmap.bt leaves
 * out, and no unlink can orphan them. A bad line is counted, the first
 * MAX_FD_PROBLEMS_SHOWN named with their line numbers, and skipped. Read a
 * line at a time, as maps snapshots are (readMapsSnapshot): the process
 * chooses how many fds it holds, and of what names. Null when the bundle has
 * none.
 */
async function readFdSnapshot(files: BundleFiles, path: string, name = 'fds-start.txt', onlyFd?: number): Promise<{ seeds: SeedFd[]; ringLine: number; problems: string[]; bad: number } | null> {
  const seeds: SeedFd[] = [];
  // A ring set up before the attach does its opens, unlinks and renames where no trace sees them (review 24).
  let ringLine = 0;
  const problems: string[] = [];
  let bad = 0;
  const seen = new Set<number>();
  const twice = new Set<number>();
  const strings = new Interned();
  const unreadable = (lineNo: number, why: string) => {
    if (++bad <= MAX_FD_PROBLEMS_SHOWN) problems.push(`${path}:${lineNo}: unreadable line, not "FD<TAB>TARGET": ${why}`);
  };
  const found = await files.eachLine(name, {
    line(line, lineNo) {
      if (line.trim() === '') return;
      const read = readFdLine(line, seen, twice);
      if (typeof read === 'string') return unreadable(lineNo, read);
      if (read === null && ringLine === 0 && line.endsWith(`\t${IO_URING_TARGET}`)) ringLine = lineNo;
      // (fds-inherited.txt: one line by design; a file of millions is not kept.)
      if (read === null || (onlyFd !== undefined && read.fd !== onlyFd)) return;
      // The target once for all its fds, as a maps name is (SnapshotLine).
      const tab = line.indexOf('\t');
      seeds.push({ ...read, path: strings.of(read.path), place: { file: path, line: lineNo }, text: line.slice(0, tab + 1) + strings.of(line.slice(tab + 1)) });
    },
    longLine: (lineNo, _head, length) => unreadable(lineNo, `${length} characters, more than the ${MAX_LINE_CHARS} of the longest line read`),
  });
  if (!found) return null;
  // An fd listed twice: one of its lines was forged (a name the capture did
  // not escape, from an older script) or the file was cut: neither is trusted.
  return { seeds: seeds.filter((seed) => !twice.has(seed.fd)), ringLine, problems, bad };
}

/** One line of fds-start.txt: the fd and its file, null for an fd of no file a directory holds, or what is wrong with it. */
function readFdLine(line: string, seen: Set<number>, twice: Set<number>): Pick<SeedFd, 'fd' | 'path' | 'deleted'> | string | null {
  const tab = line.indexOf('\t');
  if (tab < 0) return 'no tab';
  const number = line.slice(0, tab);
  const fd = /^\d{1,10}$/.test(number) ? Number(number) : Number.NaN;
  if (!(fd <= 0x7fffffff)) return 'the fd is not a number from 0 to 2147483647';
  if (seen.has(fd)) {
    twice.add(fd);
    return `fd ${fd} is listed twice: neither of its lines is used`;
  }
  seen.add(fd);
  const target = unescapeFdTarget(line.slice(tab + 1));
  if (target === '') return 'no target';
  if (!target.startsWith('/') || NAMELESS_FD_TARGETS.some((prefix) => target.startsWith(prefix))) return null;
  const deleted = target.endsWith(DELETED_SUFFIX);
  return { fd, path: deleted ? target.slice(0, -DELETED_SUFFIX.length) : target, deleted };
}

/** A target as the capture writes it: a backslash as \\\\ and a newline as \\n (scripts/bundle-lib.sh, om_snapshot_fds). */
function unescapeFdTarget(text: string): string {
  return text.indexOf('\\') < 0 ? text : text.replace(/\\([\\n])/g, (_, char: string) => (char === 'n' ? '\n' : '\\'));
}

/** meta.json is a few KiB (the threads list of a JVM with 10,000 threads: 500 KiB). */
const MAX_META_BYTES = 16 << 20;

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The files of a bundle directory, opened through its descriptor: a file
 * named by meta.json, or a planted symbolic link, FIFO or device, must not
 * make orphanmap read (and quote in a report) anything outside the bundle,
 * wait forever, or read without end.
 */
class BundleFiles {
  constructor(
    readonly dir: string,
    private readonly dirFd: number,
  ) {}

  /** NAME opened without following a link or waiting, and checked to be a regular file; its descriptor. */
  openRegular(name: string, optional = false): number {
    const path = join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(`/proc/self/fd/${this.dirFd}/${name}`, READ_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && optional) return -1;
      if (code === 'ENOENT') throw new InputError(`bundle file ${name} is missing`, path);
      if (code === 'ELOOP') throw new InputError(`bundle file ${name} is a symbolic link: a bundle holds its own files, so it is not read`, path);
      throw new InputError(`bundle file ${name} cannot be read (${code})`, path);
    }
    try {
      if (!fstatSync(fd).isFile()) throw new InputError(`bundle file ${name} is not a regular file`, path);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return fd;
  }

  /**
   * The bundle's maps-end.N.txt files (N a pid other than the captured
   * process's, as the capture names them), by pid in increasing order. Only
   * the names are listed here; each is opened as any bundle file is.
   */
  othersMapsEnd(): [number, string][] {
    const found: [number, string][] = [];
    for (const name of readdirSync(`/proc/self/fd/${this.dirFd}`)) {
      const match = /^maps-end\.([1-9][0-9]{0,9})\.txt$/.exec(name);
      if (match === null) continue;
      const pid = Number(match[1]);
      if (Number.isSafeInteger(pid) && pid <= 0x7fffffff) found.push([pid, name]);
    }
    return found.sort((a, b) => a[0] - b[0]);
  }

  /** Whether the bundle has NAME; present, it must be a regular file inside the bundle (else an InputError). */
  has(name: string): boolean {
    const fd = this.openRegular(name, true);
    if (fd < 0) return false;
    closeSync(fd);
    return true;
  }

  /**
   * The lines of NAME, in order, from its descriptor, one held at a time
   * (lines.ts's LineSplitter: one over MAX_LINE_CHARS goes to `longLine`),
   * never the whole file: there is no bound on its size. False when the
   * bundle has no NAME.
   */
  async eachLine(name: string, sink: Pick<LineSink, 'line' | 'longLine'>): Promise<boolean> {
    const fd = this.openRegular(name, true);
    if (fd < 0) return false;
    await this.eachLineOf(fd, name, sink);
    return true;
  }

  /** eachLine of NAME opened already as `fd` (openRegular), which is closed after. */
  async eachLineOf(fd: number, name: string, sink: Pick<LineSink, 'line' | 'longLine'>): Promise<void> {
    const path = join(this.dir, name);
    const splitter = new LineSplitter({ line: sink.line, longLine: sink.longLine }, path);
    // Only the file's own errors are the bundle's: the sink's are passed on as they are.
    let handling = false;
    try {
      await readAhead(`/proc/self/fd/${fd}`, (chunk) => {
        handling = true;
        splitter.write(chunk);
        handling = false;
      });
    } catch (error) {
      if (handling) throw error;
      throw new InputError(`bundle file ${name} cannot be read: ${readFailure(error)}`, path, { cause: error });
    } finally {
      closeSync(fd);
    }
    splitter.end();
  }

  async read(name: string, limit: number): Promise<string> {
    return this.readOpen(this.openRegular(name), name, limit);
  }

  /** The whole of the open file `fd` (closed after), as UTF-8: at most `limit` bytes, else an InputError. */
  private async readOpen(fd: number, name: string, limit: number): Promise<string> {
    const handle = await open(`/proc/self/fd/${fd}`, 'r').finally(() => closeSync(fd));
    try {
      const tooBig = () => new InputError(`bundle file ${name} is larger than ${limit >> 20} MiB: not what a capture writes, so it is not read`, join(this.dir, name));
      const { size } = await handle.stat();
      if (size > limit) throw tooBig();
      // A file still being written (a live capture's) is read as far as it goes, and no further than the limit.
      let buffer = Buffer.allocUnsafe(Math.min(limit, size + (1 << 16)) + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > limit) throw tooBig();
        if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(Math.min(limit + 1, buffer.length * 2) - buffer.length)]);
      }
      return buffer.toString('utf8', 0, length);
    } finally {
      await handle.close();
    }
  }
}

/** A file name inside the bundle: no directories, no "..", nothing absolute. */
function isPlainName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\0') && name !== '.' && name !== '..';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * How deep a value of meta.json that orphanmap does not know may nest arrays
 * and objects to be carried into the report's environment. The capture's own
 * nest 2 deep (threads[].comm); a field nested 5,000 deep overflowed the
 * stack of every JSON writer (review 5).
 */
const MAX_UNKNOWN_DEPTH = 16;

/** Whether `value` nests arrays and objects more than `limit` deep: found without recursion, which such a value would overflow. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth === limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The fields of meta.json that orphanmap knows (BundleMeta), and the keys of a thread. */
const META_FIELDS: ReadonlySet<string> = new Set([
  'schema',
  'backend',
  'pid',
  'mode',
  'comm',
  'cmdline',
  'cwd',
  'threads',
  'kernel',
  'hostname',
  'tracerVersion',
  'jvmVersion',
  'maxMapCount',
  'mapCountStart',
  'mapCountEnd',
  'startTime',
  'endTime',
  'command',
  'traceFiles',
  'lostEvents',
  'truncatedEvents',
  'stopAfterByte',
  'leftRunning',
  'sameView',
  'childrenAtAttach',
  'exitReason',
  'canDetach',
  'noDetachReason',
  'mappedGoneUnchecked',
  'mapsStartRead',
  'complete',
  'attached',
] satisfies (keyof BundleMeta)[]);
const THREAD_KEYS: ReadonlySet<string> = new Set(['tid', 'tgid', 'comm']);

/** The capture names at most 100 (OM_MAX_CHILDREN_NAMED); a few more are allowed, not thousands. */
const MAX_CHILDREN_AT_ATTACH = 1000;

/** How many fields left out for their depth a warning names. */
const MAX_DEEP_FIELDS_NAMED = 3;

/**
 * meta.json as received: every field the analysis uses or a view draws is
 * checked, by type and, where the capture writes one of a few values, by
 * value; the first bad one refuses the bundle, named. Fields orphanmap does
 * not know (a newer capture's, or added by hand), and keys of a thread other
 * than tid, tgid and comm, pass through unchecked into report.json's
 * environment, drawn nowhere else; but one that nests deeper than
 * MAX_UNKNOWN_DEPTH is left out, and a warning in `warnings` names it.
 */
function checkMeta(value: unknown, path: string, warnings: string[]): BundleMeta {
  const bad = (field: string, want: string): never => {
    throw new InputError(`bundle metadata field "${field}" must be ${want}`, path);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('(top level)', 'an object');
  const meta = value as Record<string, unknown>;
  if (meta.pid !== undefined && meta.pid !== null && !(isCount(meta.pid) && meta.pid > 0)) bad('pid', 'a positive integer or null');
  if (meta.mode !== undefined && meta.mode !== 'launched' && meta.mode !== 'attached') bad('mode', '"launched" or "attached"');
  if (meta.threads !== undefined && meta.threads !== null) {
    if (!Array.isArray(meta.threads)) bad('threads', 'an array of {tid, tgid}');
    (meta.threads as unknown[]).forEach((thread, index) => {
      const t = thread as Record<string, unknown> | null;
      if (t === null || typeof t !== 'object' || !(isCount(t.tid) && t.tid > 0) || !(isCount(t.tgid) && t.tgid > 0)) bad(`threads[${index}]`, 'an object with positive integer tid and tgid');
    });
  }
  if (meta.traceFiles !== undefined && meta.traceFiles !== null) {
    if (!Array.isArray(meta.traceFiles) || meta.traceFiles.length === 0) bad('traceFiles', 'a non-empty array of file names');
    // Each name once: every entry is read and analysed, so a repeat counts one
    // trace twice, and 500 repeats of one file took 21 s (review 2, F7).
    const firstIndexOf = new Map<string, number>();
    (meta.traceFiles as unknown[]).forEach((file, index) => {
      if (typeof file !== 'string' || !isPlainName(file)) bad(`traceFiles[${index}]`, 'the name of a file inside the bundle (no directory, no "..")');
      const first = firstIndexOf.get(file as string);
      if (first !== undefined) bad(`traceFiles[${index}]`, `a file not listed before (traceFiles[${first}] names the same file)`);
      firstIndexOf.set(file as string, index);
    });
  }
  for (const field of ['lostEvents', 'truncatedEvents', 'stopAfterByte', 'leftRunning', 'maxMapCount', 'mapCountStart', 'mapCountEnd'] as const) {
    if (meta[field] !== undefined && meta[field] !== null && !isCount(meta[field])) bad(field, 'a non-negative integer or null');
  }
  // Every field a view draws, by type: a report's table cell is text, never an object a renderer would draw as markup.
  for (const field of ['schema', 'comm', 'cwd', 'kernel', 'hostname', 'tracerVersion', 'jvmVersion', 'command', 'startTime', 'endTime', 'noDetachReason', 'mappedGoneUnchecked'] as const) {
    if (meta[field] !== undefined && meta[field] !== null && typeof meta[field] !== 'string') bad(field, 'a string or null');
  }
  if (meta.backend !== undefined && meta.backend !== null && meta.backend !== 'strace' && meta.backend !== 'bpftrace') bad('backend', '"strace" or "bpftrace"');
  const read = meta.mapsStartRead;
  if (read !== undefined && read !== null && !(Array.isArray(read) && read.length === 2 && read.every((time) => typeof time === 'number' && Number.isFinite(time) && time >= 0) && read[0] <= read[1]))
    bad('mapsStartRead', 'two times in seconds, the first not after the second, or null');
  if (meta.exitReason !== undefined && meta.exitReason !== null && !(EXIT_REASONS as readonly unknown[]).includes(meta.exitReason))
    bad('exitReason', `one of ${EXIT_REASONS.map((reason) => `"${reason}"`).join(', ')}, or null`);
  for (const field of ['complete', 'canDetach'] as const) {
    if (meta[field] !== undefined && typeof meta[field] !== 'boolean') bad(field, 'true or false');
  }
  if (meta.attached !== undefined && meta.attached !== null && typeof meta.attached !== 'boolean') bad('attached', 'true, false or null');
  if (meta.sameView !== undefined && meta.sameView !== null && typeof meta.sameView !== 'boolean') bad('sameView', 'true, false or null');
  if (
    meta.childrenAtAttach !== undefined &&
    (!Array.isArray(meta.childrenAtAttach) || meta.childrenAtAttach.length > MAX_CHILDREN_AT_ATTACH || meta.childrenAtAttach.some((pid) => !(isCount(pid) && pid > 0)))
  )
    bad('childrenAtAttach', `an array of at most ${MAX_CHILDREN_AT_ATTACH} positive integers`);
  (Array.isArray(meta.threads) ? meta.threads : []).forEach((thread, index) => {
    const comm = (thread as Record<string, unknown>).comm;
    if (comm !== undefined && comm !== null && typeof comm !== 'string') bad(`threads[${index}].comm`, 'a string or null');
  });
  if (meta.cmdline !== undefined && meta.cmdline !== null && (!Array.isArray(meta.cmdline) || meta.cmdline.some((arg) => typeof arg !== 'string'))) bad('cmdline', 'an array of strings');
  const deep: string[] = [];
  const shallow = (fields: Record<string, unknown>, known: ReadonlySet<string>, prefix: string): Record<string, unknown> => {
    const kept: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(fields)) {
      if (!known.has(field) && nestsDeeperThan(value, MAX_UNKNOWN_DEPTH)) deep.push(`${prefix}${field}`);
      else kept[field] = value;
    }
    return kept;
  };
  const checked = shallow(meta, META_FIELDS, '');
  const threads = Array.isArray(meta.threads) ? meta.threads.map((thread, index) => shallow(thread as Record<string, unknown>, THREAD_KEYS, `threads[${index}].`)) : undefined;
  if (deep.length > 0) {
    const named = deep
      .slice(0, MAX_DEEP_FIELDS_NAMED)
      .map((field) => JSON.stringify(field))
      .join(', ');
    const more = deep.length > MAX_DEEP_FIELDS_NAMED ? `, and ${deep.length - MAX_DEEP_FIELDS_NAMED} more` : '';
    warnings.push(
      `${path}: ${deep.length === 1 ? 'field' : 'fields'} ${named}${more}, which orphanmap does not know, ${deep.length === 1 ? 'nests' : 'nest'} arrays or objects more than ${MAX_UNKNOWN_DEPTH} deep, ` +
        "as no capture writes: left out of the report's environment",
    );
  }
  const traceFiles = meta.traceFiles === null ? undefined : meta.traceFiles;
  const pid = meta.pid === null ? undefined : meta.pid;
  return { ...(checked as BundleMeta), threads: threads as BundleMeta['threads'], traceFiles: traceFiles as BundleMeta['traceFiles'], pid: pid as BundleMeta['pid'] };
}

/**
 * A `still-mapped` finding of the captured process is confirmed when
 * maps-end.txt still lists its address (deleted, for an unlink finding).
 * Returns the findings whose `confirmedByMaps` changed: an NDJSON stream
 * writes them again (review 56, F1: its last line of each said null).
 */
export function confirmWithMaps(findings: readonly Finding[], bundle: Bundle): Finding[] {
  const changed: Finding[] = [];
  if (bundle.meta.pid === undefined) return changed;
  if (bundle.mapsEnd !== null) confirmProcess(findings, bundle.meta.pid, bundle.mapsEnd, changed);
  // Each other traced process alive at the end by its own maps-end.N.txt, by the same rule.
  for (const [pid, lines] of bundle.mapsEndOthers ?? []) if (pid !== bundle.meta.pid) confirmProcess(findings, pid, lines, changed);
  return changed;
}

function confirmProcess(findings: readonly Finding[], pid: number, mapsEnd: readonly MapsLine[], changed: Finding[]): void {
  const lineAt = mapsLookup(mapsEnd);
  for (const finding of findings) {
    if (finding.resolution !== 'still-mapped' || finding.pid !== pid) continue;
    const line = lineAt(findingStart(heldNow(finding)[0]!));
    const confirmed = line !== undefined && (finding.kind !== 'unlinked-while-mapped' || (line.deleted && findingNameMayBe(finding, fromKernelName(line.path))));
    if (finding.confirmedByMaps === confirmed) continue;
    finding.confirmedByMaps = confirmed;
    changed.push(finding);
  }
}

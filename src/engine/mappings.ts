// Address spaces and the file mappings live in them: mmap (MAP_FIXED
// replaces), munmap (a partial one splits), mremap (moves, resizes), a fork's
// copy, and the release at exec and exit. Anonymous mappings are not kept, but
// they still evict what they replace. Munmap takes effect at its entry.
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MREMAP_DONTUNMAP,
  type EventBase,
  type Inode,
  type MadviseEvent,
  type MmapEvent,
  type MremapEvent,
  type MunmapEvent,
  type MunmapFailedEvent,
  type TraceEvent,
} from '../parse/events.js';
import { AddressSpace, pageEnd, type Piece, type Pieced } from './address-space.js';
import { GoneAfterRelease, type NamedAfter, nameTouched, type Release as GoneRelease } from './gone-after-release.js';
import type { Counters } from './counters.js';
import type { Fds } from './fds.js';
import { DoubtfulCalls, type FileNode, type Files } from './files.js';
import { sameInode as sameInodes } from './inode.js';
import { total, UNNAMED_HOLDERS } from './replaced-names.js';
import type { EvidenceMark } from './kept-evidence.js';
import type { RunningImages } from './images.js';
import { atOf, heldOf, stillMapped, type FindingLog, type Held } from './finding-log.js';
import { jvmOwnPerfData, MAPPED_WITH_NO_NAME, mappedWithNoName, type BenignRule } from './benign.js';
import { type At, type Finding, type HeldLater, hex, type Resolution } from './findings.js';
import type { Task } from './tasks.js';
import { flatCopy } from '../parse/flat-copy.js';
import { firstEndingAfter } from '../parse/maps.js';

/** One mmap's result and the findings about it. */
export interface MappingState extends Pieced {
  id: number;
  file: FileNode;
  space: Space;
  /** What mmap returned (moved by mremap while the mapping is whole). */
  address: number;
  length: number;
  offset: number;
  /** Engine sequence number of the mmap, to order it against size changes. */
  seq: number;
  /** Live pieces; the mapping is gone when this reaches 0. */
  pieces: number;
  mappedAt: At | null;
  unlinkFinding: Finding | null;
  remapFinding: Finding | null;
  /** A mapping of a file already gone whose finding waits to see the mapping live on (see PendingOrphan). */
  pendingOrphan: PendingOrphan | null;
  /** Seeded from maps-start.txt: there at the attach, unless the snapshot was read after the trace made it. */
  seeded: boolean;
  /** The remap of a seeded mapping, decided once the mapping is seen to have been there (FindingLog.remapped). */
  pendingRemap: PendingRemap | null;
  /** The tid of the task that made it when that was one the trace never showed cloned (Task.uncloned); else 0. */
  unclonedMaker: number;
}

/** A remap-without-unmap finding held back (FindingLog.remapped): its facts, its time, its note, what the old mapping held then. */
export interface PendingRemap {
  facts: { remappedAt: At; newAddress: string; unlinkedAt?: At };
  seconds: number | null;
  note: string | null;
  held: Held;
}

export type Space = AddressSpace<MappingState>;

/**
 * A mapping of a deleted file that the engine did not see orphaned: one in the
 * start snapshot of an attached capture, or one a fork copied into a child.
 * Its finding is decided only once the mapping is seen to live on (unmapped,
 * released at exit, or still there at the end), because a snapshot can hold
 * a mapping that the trace then shows being made (the snapshot was read after
 * the attach), and a forked child that execs at once never uses what it inherited.
 */
export interface PendingOrphan {
  /** `continued`: made by a space that held the file mapped when its last name went (Mappings.continued). */
  origin: 'snapshot' | 'fork' | 'continued';
  unlinkedAt: At | null;
  /** When the finding's delay starts: the unlink, the fork that copied an orphan, or for a mapping made with no name left (`rule`), the parent's mmap. */
  unlinkedSeconds: number | null;
  /** null when the rule's own note (with the fork's parent) is said instead. */
  note: string | null;
  /** The mapping the fork copied was made with no name left (MAPPED_WITH_NO_NAME): benign, until a link and unlink of the file while it lives. */
  rule: BenignRule | null;
  parentTgid: number;
  /**
   * What the mapping held after the last call that cut or moved it: the
   * finding is decided once its last piece is gone (munmap, exit), when the
   * space no longer shows what that piece was.
   */
  held: Held | null;
  /**
   * Made when its file had no name left: a leak going on (`continued`), or a
   * fork's copy of an orphan. It held nothing when the name went, so no
   * "held when unlinked" counts it (Finding.mappedAfterUnlink).
   */
  madeAfterUnlink: boolean;
  /** `continued`: how many other mappings of the leak its space made and unmapped, each followed by another (set when decided). */
  remapped?: number;
  /**
   * `snapshot`: the trace's own mapping, made before maps-start.txt was read
   * and shown there with its file deleted (Mappings.seedTaken): an unlink the
   * trace shows names the call; an mmap over it does not make it unused.
   */
  traced?: true;
}

/** The last mapping of a leak going on (Mappings.continued), unmapped, while the next one is awaited. */
interface Continuation {
  mapping: MappingState;
  pending: PendingOrphan;
  unmapped: EventBase | null;
  /** Where its finding's evidence ends: at its unmap, not when it is decided (EvidenceMark). */
  evidenceEnd: EvidenceMark;
}

/** Why mappings went away: a pending orphan is dropped for some causes and decided for others. */
type Release = 'munmap' | 'replaced' | 'exec' | 'exit';

/** A mapping that existed before the trace: a line of a bundle's maps-start.txt. */
export interface SeedMapping {
  start: number;
  end: number;
  offset: number;
  path: string;
  deleted: boolean;
  inode?: Inode;
  place: { file: string; line: number };
  text: string;
  /** Marked MADV_DONTFORK when the capture read it (a bundle's maps-start.dontfork): a fork does not copy it. */
  dontFork?: boolean;
  /** The line's device and inode, as the tracer gives an inode's (Mappings.seedTaken, Files.seedInodeOf). */
  mapsInode?: Inode;
  /**
   * Its file's links, counted by the capture (a bundle's maps-start.nlink),
   * when they are more than its printed name: two or more, or any for one
   * printed "(deleted)" (hard links made before the trace keep it).
   */
  nlink?: number;
}

/**
 * A deleted file's mapping that the captured process's maps at the end of
 * the capture (a bundle's maps-end.txt) list and no finding explains.
 */
export interface EndMapping {
  start: number;
  end: number;
  offset: number;
  /** The name /proc printed, without " (deleted)" (its \012 read back as a newline). */
  path: string;
  /** As a tracer names inodes; null when the line has none. */
  inode: Inode | null;
  place: { file: string; line: number };
  text: string;
  /** The capture counted the file's links just after the read (maps-end.nlink), and none was left. */
  noLinkLeft?: boolean;
}

/** What every finding of deletedAtEnd says, the trace having shown no removal of the file's last name. */
const GONE_OUT_OF_SIGHT =
  'maps-end.txt shows the file deleted, and its last name went during the capture (maps-start.txt did not show it deleted, or the mapping is newer) ' +
  "by a call the trace does not show: another process removed or replaced the file, the capture's filter left the call out, " +
  'or it went after the trace ended (maps-end.txt is read just after the tracer stops). ' +
  '(/proc says deleted too when a hard link made out of sight of the trace keeps the file under another name.)';
/**
 * The same for a process whose maps at the end were read before the capture
 * stopped it (a launched command), so that the trace goes on to its exit.
 */
const GONE_BEFORE_STOP =
  'maps-end.txt shows the file deleted, and its last name went during the capture (maps-start.txt did not show it deleted, or the mapping is newer) ' +
  "by a call the trace does not show: another process removed or replaced the file, or the capture's filter left the call out " +
  '(maps-end.txt is read before the capture stops the command, and the trace goes on to its exit). ' +
  '(/proc says deleted too when a hard link made out of sight of the trace keeps the file under another name.)';

/**
 * A process's mappings as its exit released them, kept for its maps at the
 * end when those were read before the capture stopped it (Mappings.mapsReadBeforeExit).
 */
export interface ExitedSpace {
  /** Its pieces, in address order (the records' own piece counts are 0 by now). */
  pieces: readonly Piece<MappingState>[];
  /** The exit, copied (an event object may be refilled for the next line); null when none released it. */
  exit: EventBase | null;
}

/** What a capture found gone once its process had exited (a bundle's maps-start-gone.txt and maps-start-gone-late.txt). */
export interface GoneAtExit {
  pid: number;
  /** maps-start.txt lines whose files' directories last changed before the exit: removed while the process lived. */
  lines: readonly EndMapping[];
  /** Those whose directories changed about the exit or after (removed then, or just after it), or whose names could not be looked up. */
  late: readonly EndMapping[];
  /** maps-start.txt, as the mappings it seeded name it (their mappedAt). */
  startFile: string;
}

/**
 * An open of a watched seed's name by a traced process (Mappings.nameOpened)
 * that may have reached another file than the one maps-start.txt listed:
 * strace names no inode, and bpftrace's may be another.
 */
interface Reopened {
  /** Where, as `file:line`. */
  at: string;
  /** The inode the open reached (bpftrace), null when the trace does not say (strace). */
  reached: Inode | null;
  /** The inode maps-start.txt gave the mapped file. */
  listed: Inode | null;
}

/**
 * A mapping maps-start.txt seeded at the start of a line of
 * maps-start-gone.txt or maps-start-gone-late.txt (GoneAtExit), watched
 * until it goes (Mappings.seedReleased).
 */
interface WatchedSeed {
  start: number;
  /** The name its maps-start.txt line gives (seedsNamed). */
  name: string;
  /** Its line is one of GoneAtExit.late: the directory changed about the exit or after it. */
  late: boolean;
  /** The inode of its maps-start.txt line (column 5, with the device). */
  inode: Inode | null;
  /** An open of its name that may have reached another file, before the trace removed the name (the first; Mappings.nameOpened). */
  reopened: Reopened | null;
  /**
   * Where the trace removed its name while it was mapped (Mappings.nameChanged),
   * as `file:line`: maps-start-gone.txt's line of it is that removal's, and
   * the doubt at the exit, if any, is only of names the trace does not know.
   */
  removedWhileMapped?: string;
}

/**
 * A mapping maps-start.txt seeded that its own process gave up during the
 * capture (its munmap or mremap, an mmap over it, its exec), of a file
 * maps-start-gone.txt or its -late twin list (GoneAtExit).
 */
interface ReleasedSeed extends WatchedSeed {
  mapping: MappingState;
  /** The call that released it: munmap, mremap, mmap or execve. */
  call: string;
  /** Where, as `file:line`. */
  at: string;
  /** The trace shows its name removed, renamed or replaced after the release (Mappings.nameChanged): it went then, not before, unless `reopened`. */
  nameChanged: boolean;
  /** Where a traced call changed its name's directory after the release (an unlink, rename, link or symlink in it), as `file:line`; null if none. */
  dirChangedAt: string | null;
  /**
   * A link count the trace saw after the release was above 0 (bpftrace's
   * close, mmap or ftruncate of the file: Mappings.stillNamed), or an open
   * of its name reached it (bpftrace's inode: Mappings.nameOpened): it had a
   * name left then, so at the release too.
   */
  namedAfter?: true;
}

/** A mapping of a file found gone at its process's exit that the process had released itself before: in doubt (Mappings.goneReleased). */
export interface ReleasedGone {
  /** The process that held the mapping: the one that exited, or a fork of it that held a copy. */
  pid: number;
  /** The process whose exit the capture looked up the file after (maps-start-gone.txt's). */
  exited: number;
  name: string;
  /** Its maps-start-gone.txt (or -late) line, as `file:line`. */
  goneAt: string;
  /** The file that line gives, where it gives one. */
  inode: Inode | null;
  call: string;
  releasedAt: string;
  /** Its line is of maps-start-gone-late.txt, and the trace shows its directory changed after the release, here. */
  dirChangedAt: string | null;
  /** The trace shows the name removed after the release, but also opened while mapped, reaching a file it cannot tell to be the mapped one. */
  reopened: Reopened | null;
  /** Where the trace removed the name while the mapping lived, other names keeping the file then (names it does not know), or null. */
  removedWhileMapped: string | null;
}

/**
 * The file systems whose births and inode numbers tell one file from another
 * as the kernel knows it: ext2/3/4, XFS, Btrfs, tmpfs, F2FS (statfs magic
 * numbers). Not overlayfs: a file copied up to the upper layer (on a
 * `touch`, a `chmod`, an open for writing) gets a new birth under the same
 * inode number (code review 71, F3: false doubts in containers), and with
 * xino its numbers are not the lower file system's. Not network or FUSE file
 * systems: their births are another host's clock.
 */
const LOCAL_FILE_SYSTEMS: ReadonlySet<number> = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0xf2f52010]);

/** The most fork copies of watched seeds watched (Mappings.watchCopy): a pre-fork server's workers, not a fork per request. */
const MAX_WATCHED_COPIES = 1024;

/** The earliest time a wall-clock trace (strace -ttt) can show: 2001, in seconds. A time of day (-t, -tt) is less. */
const WALL_CLOCK_FROM = 1e9;

/** The note of a mapping the trace made that maps-start.txt, read after, shows deleted (Mappings.seedTaken). */
const DELETED_WHEN_READ =
  "maps-start.txt, read once the tracer had attached, shows this very mapping with its file deleted, after the trace's mmap of it: its last name went in " +
  "the capture's first moments, by a call the trace does not show (bpftrace attaches its probes one at a time, strace a process's threads one by one, " +
  'so a call made meanwhile may be missed while those around it are not), or by a process the trace does not follow.';

/**
 * What every finding of goneWhenExited says: the process exited during the
 * capture, so no maps-end.txt; its file was found gone right after.
 */
const GONE_BEFORE_EXIT =
  'The process exited during the capture, so its maps at the end could not be read; right after it exited, the capture found this file gone from its name, ' +
  'its directory last changed before the exit (maps-start-gone.txt lists its maps-start.txt line), and the trace shows neither its removal nor an munmap of this mapping: ' +
  'another process, which the trace does not follow, removed or replaced the file while this mapping lived.';
/** The note of goneFromOthers' findings: another process's mapping of a file found gone once process `pid` had exited. */
function inheritedGoneNote(pid: number): string {
  return (
    `Process ${pid} exited during the capture; right after, the capture found this file gone from its name, its directory last changed before that exit ` +
    `(maps-start-gone.txt lists process ${pid}'s maps-start.txt line), and the trace shows neither its removal nor an munmap of this mapping, live in this process then: ` +
    'another process, which the trace does not follow, removed or replaced the file while this mapping lived.'
  );
}
/** Added when the trace does not show the mapping made either: the finding's "mapped" is its maps-end.txt line. */
const MAPPED_OUT_OF_SIGHT = ' Nor does the trace show the mapping made (a call the filter left out, or made after the trace ended): "mapped" is its maps-end.txt line.';

/** A maps-end.txt line of a file the trace saw lose its last name at `went`, an fd holding it, and no mapping of it there (Mappings.deletedAtEnd). */
function mappedAfterTraceNote(went: At): string {
  return (
    `maps-end.txt shows the file deleted, and the trace shows a file of that name lose its last name at ${went.file}:${went.line} while an fd held it ` +
    '(the same file, unless another took the name since: strace names no inode). The trace does not show this mapping made: through that fd after the trace ended, ' +
    `or by a call the filter left out; "mapped" is its maps-end.txt line.`
  );
}

/**
 * The notes above name maps-end.txt; for another process's snapshot of the
 * end (maps-end.N.txt, a bundle's other traced processes) they name that file.
 */
function snapshotNamed(file: string): (note: string) => string {
  const name = file.slice(file.lastIndexOf('/') + 1);
  return /^maps-end\.[1-9][0-9]*\.txt$/.test(name) ? (note) => note.replaceAll('maps-end.txt', name) : (note) => note;
}

export interface MappingStats {
  liveMappings: number;
  deletedMappings: number;
  deletedBytes: number;
}

/** How many threads' munmaps applied at entry are remembered while their resumes are awaited (a thread is in one call at a time). */
const MAX_UNMAPS_AT_ENTRY = 4096;

/** What a munmap applied at its entry took (Mappings.takenAtEntry). */
interface UnmapAtEntry {
  space: Space;
  address: number;
  end: number;
  parts: Piece<MappingState>[];
  /** Its line, file:line. */
  at: string;
}

/**
 * Mappings a munmap took whole at its entry, whose resume then said it failed
 * (Mappings.munmapFailed): still mapped, but the engine had settled them as
 * unmapped. If their file lost its last name after, the leak is missed: each
 * is in doubt unless a finding of its process and file covers it. The first
 * kept for the warning.
 */
export class FailedUnmaps extends DoubtfulCalls<{ pid: number; name: string; error: string; at: string }> {
  /** `mapping`, taken whole by a munmap at `at` (file:line) that failed with `error`. */
  failed(mapping: MappingState, error: string, at: string): void {
    const name = mapping.file.displayName;
    this.add({ pid: mapping.space.ownerTgid, name, error, at });
    this.doubt([mapping], name);
  }

  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return (
      `process ${first.pid} called munmap at ${first.at}, which strace printed unfinished and which then failed (${first.error})${more}: a munmap is applied at its entry ` +
      `(another thread's mmap may reuse the range before its resume is printed), and the mapping it took whole was settled as unmapped, though the kernel kept it; ` +
      `if ${first.name} lost its last name after that, a mapping that outlived it is missed: in doubt`
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.name];
  }
}

/** How many unnamed mappings are held before those unmapped since are let go (UnnamedMappings.mapped). */
const UNNAMED_PRUNED_AT = 4096;

/**
 * Mappings of a file nothing names (Fds.mappedUnknownFd: an fd no call of
 * the trace made, no -y annotation, no inode), while they live. A name
 * removed meanwhile, by any process, may have been that file's last
 * (review 28, exactness 6: an fd made by an fcntl the filter left out,
 * mapped, and its file unlinked by the name the trace knew it by: "no
 * mapping outlived its file", exit 0): each such mapping is in doubt then,
 * unless a finding of its process and that name covers it. A trace with -y
 * or from bpftrace names each mapped file, and never gets here.
 */
export class UnnamedMappings extends DoubtfulCalls<{ pid: number; fd: number; mappedAt: string; name: string; removedAt: string }> {
  private readonly live = new Map<MappingState, { fd: number; mappedAt: string }>();

  mapped(mapping: MappingState, fd: number, mappedAt: At): void {
    // Those unmapped since go when the list grows: it holds the live ones, not every one ever made.
    if (this.live.size >= UNNAMED_PRUNED_AT) for (const kept of this.live.keys()) if (kept.pieces === 0) this.live.delete(kept);
    this.live.set(mapping, { fd, mappedAt: `${mappedAt.file}:${mappedAt.line}` });
  }

  /** Whether any such mapping is live to doubt: nothing else is looked at otherwise. */
  get watching(): boolean {
    return this.live.size > 0;
  }

  /**
   * `removed`, the file the trace knows by `name`, lost that name (unlinked,
   * or renamed over) at `event`. It may have been the one a mapping here is
   * of only if the trace holds it open and it has no mapping of its own: an
   * fd the filter let no close of through, whose copy was mapped (review
   * 28). A file the trace saw closed, or knows mapped, is not it, nor is a
   * name the trace never saw opened (review 29: a memfd mapped without -y,
   * then any unlink, made a doubt). Each mapping is doubted once.
   */
  nameRemoved(removed: FileNode | undefined, name: string, event: EventBase): void {
    if (removed === undefined || removed.fdRefs === 0 || removed.recordCount > 0) return;
    for (const [mapping, how] of this.live) {
      this.live.delete(mapping);
      if (mapping.pieces === 0) continue;
      this.add({ pid: mapping.space.ownerTgid, fd: how.fd, mappedAt: how.mappedAt, name, removedAt: `${event.place.file}:${event.place.line}` });
      this.doubt([mapping], name);
    }
  }

  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return (
      `${first.name} was removed at ${first.removedAt} while process ${first.pid} mapped a file through fd ${first.fd} at ${first.mappedAt}, an fd no traced call made${more}: ` +
      'that file may have been the one removed, and its mapping may have outlived it: in doubt. Capture with -y (or orphanmap capture), whose annotation names each mapped file'
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.name];
  }
}

/** How many ranges reused by a non-fixed mmap are remembered per space while their munmap is awaited. */
const MAX_UNMAPS_IN_FLIGHT = 64;

export class Mappings {
  /** Mappings whose PendingOrphan waits to be decided. */
  private readonly pendingOrphans = new Set<MappingState>();
  /**
   * Mappings cut or moved again since their findings (or the orphan waiting
   * for one) last said what they hold, with the last such call: said when a
   * finding is read or resolved (sayHeld), not at every cut, which rebuilt
   * every piece (code review 60, F9: a leak cut into 20,000 pieces took 47 s).
   */
  private readonly heldStale = new Map<Space, Map<MappingState, { by: HeldLater['by']; at: At }>>();
  /**
   * The open findings of those mappings: one whose other facts change is
   * said first (sayHeldOf; code review 62, F2: an `updated` line carried what
   * the mapping held two cuts before). By space above, so that an exit looks
   * at its own (code review 62, F3: every exit walked every process's).
   */
  private readonly staleFindings = new Map<Finding, MappingState>();
  /** Per space, start → end of ranges whose munmap is still to be printed (see expectUnmapsInFlight). */
  private readonly unmapsInFlight = new WeakMap<Space, Map<number, number>>();
  /** By tid, what its last munmap applied at entry took (takenAtEntry), until its resume says whether it failed. */
  private readonly unmapsAtEntry = new Map<number, UnmapAtEntry>();
  /** Mappings a failed munmap took whole at its entry (munmapFailed). */
  readonly failedUnmaps = new FailedUnmaps();
  /** Mappings of files no call of the trace opened, nothing names (Fds.mappedUnknownFd): which file a removal took is not known. */
  readonly unnamed = new UnnamedMappings();
  /** Per file, the last mapping of its leak going on, unmapped: decided unless another follows (continued). */
  private readonly continuations = new Map<FileNode, Continuation>();
  /**
   * Per space and file, the mappings of a leak going on that were unmapped
   * and then superseded as its last (another unmapped after it, or mapped
   * after it): no finding lists them, and the next finding decided there says
   * how many (continuedNote), then counts from 0. Counted as each is
   * superseded, not along a chain from one to the next: Apache maps the next
   * 4 MiB window of a deleted file before it unmaps the last, and a chain
   * restarted there (review 20: "3" where the trace showed 32).
   */
  private readonly unlistedContinued = new WeakMap<Space, Map<FileNode, number>>();

  /**
   * The captured process's files found gone once it exited (EngineOptions.goneAtExit), until its exit asks
   * for them (release); null after, or with none.
   */
  goneAtExit: GoneAtExit | null = null;
  /** The names of files the trace shows mapped found gone once it ended (EngineOptions.mappedGone), or null with none. */
  mappedGone: ReadonlySet<string> | null = null;
  /** The files the other names led to then (EngineOptions.mappedNamed), or null with none. */
  mappedNamed: ReadonlyMap<string, NamedAfter> | null = null;
  /** Whether the capture looked the mapped names up once the trace ended (mappedGone, mappedNamed). */
  private get lookedUpAfter(): boolean {
    return this.mappedGone !== null || this.mappedNamed !== null;
  }
  /** The mappings of those files released during the capture: exited, exec'd or unmapped (checkGoneAfterRelease). */
  readonly goneAfterRelease = new GoneAfterRelease((name) => this.mappedNamed?.get(name));
  /**
   * Mappings of files found gone only as the exit was seen (GoneAtExit.late),
   * living until it: in doubt (review 24: a directory changed about the exit,
   * by the program or a supervisor, read as clean, exit 0). Each, and the first
   * for the warning. And (`afterTrace`) every file found gone when the trace
   * ended before the exit did: see goneWhenExited.
   */
  readonly goneLate: { mappings: { pid: number; name: string }[]; first: { pid: number; path: string; at: string } | null; afterTrace: boolean } = {
    mappings: [],
    first: null,
    afterTrace: false,
  };
  /**
   * The mappings of maps-start-gone.txt's files that their process released
   * itself during the capture (munmap, an mmap over it, exec): the lookup
   * tells a removal before the exit from one about it, not from one before
   * that release, so each is in doubt (review 26: a C server's reload
   * unmapped a data file a deploy had replaced 1.3 s before, and the verdict
   * was clean, exit 0).
   */
  readonly goneReleased: ReleasedGone[] = [];
  /** Fork copies of watched seeds watched (watchCopy), and those past MAX_WATCHED_COPIES not watched. */
  private copiesWatched = 0;
  copiesUnwatched = 0;
  /** Ranges of each address space marked MADV_DONTFORK, in address order: a fork copies none of them (madvise). */
  private readonly noFork = new WeakMap<Space, [number, number][]>();
  /**
   * The seeded mappings at a maps-start-gone.txt (or -late) line's start, of the process it is about, and the copies a
   * fork of it made (a server's workers), until they go (seedReleased).
   */
  private readonly goneSeeds = new Map<MappingState, WatchedSeed>();
  /**
   * Mappings that took a deleted file's seed (seedTaken) and were released
   * while the trace still knew their file by a name. Decided at the end: a
   * later mmap of the same file at the same range takes the seed from them
   * (windowRetaken; review 48, C2: a file mapped, unmapped and mapped again at
   * one address while bpftrace attached, the seed the second's). One that none
   * takes it from is the mapping maps-start.txt listed, its file deleted then:
   * its name went before that read, and the release came after it, whatever
   * removal of that name the trace shows later (another file's: review 49, D5,
   * a new file renamed over the name).
   */
  private readonly windowReleased = new Map<number, { mapping: MappingState; pending: PendingOrphan; how: Resolution; event: EventBase | null }[]>();
  /** The seeds of deleted files' mappings, until the trace takes their range or they go (seedTaken). */
  private readonly deletedSeeds = new Map<MappingState, { path: string; inode: Inode | undefined }>();
  /** The watched seeds (and their copies) by the name maps-start.txt gives them, for the opens of the trace (nameOpened). */
  private readonly seedsNamed = new Map<string, { mapping: MappingState; start: number }[]>();
  /** Those released by their own process (a copy: by its exit too), each by its mapping. */
  private readonly releasedSeeds = new Map<MappingState, ReleasedSeed>();
  /**
   * Processes whose maps at the end were read before the capture stopped
   * them (EngineOptions.mapsReadBeforeExit), and what each held as it exited:
   * maps-end.txt's deleted files are looked for there (deletedAtEnd), not in
   * an empty space (review 24, D3: the mmaps the trace shows read as made out
   * of sight, one finding per line /proc printed, still mapped after the exit).
   */
  mapsReadBeforeExit: ReadonlySet<number> = new Set();
  private readonly exitedSpaces = new Map<number, ExitedSpace>();

  constructor(
    private readonly counters: Counters,
    private readonly files: Files,
    private readonly fds: Fds,
    private readonly log: FindingLog,
    private readonly images: RunningImages,
    /** Lines are in entry-time order (merged strace -ff files). */
    private readonly entryOrdered: boolean,
  ) {}

  get pendingOrphanCount(): number {
    return this.pendingOrphans.size;
  }

  /**
   * Address spaces whose every mapping the trace shows: made by an execve in
   * it, or a fork of one. Any other (an attached process's, and its fork
   * children's, review 49, D1) may hold mappings made before the trace.
   */
  private readonly fromStart = new WeakSet<Space>();

  /** An execve in the trace made `space` (Tasks.exec). */
  execed(space: Space): void {
    this.fromStart.add(space);
  }

  /** Whether the trace shows every mapping `space` holds (fromStart). */
  seenFromStart(space: Space): boolean {
    return this.fromStart.has(space);
  }

  newSpace(ownerTgid: number): Space {
    return new AddressSpace<MappingState>(this.counters.nextId(), ownerTgid);
  }

  mmap(task: Task, event: MmapEvent): void {
    const space = task.space;
    const end = pageEnd(event.address, event.length);
    // MAP_FIXED replaces what was there; a non-fixed mmap that returns a live
    // range proves that range was unmapped already (a munmap in flight).
    const replaced = this.removeRange(space, event.address, end);
    const seedTaken = this.deletedSeeds.size > 0 ? this.seedTaken(replaced, event, end) : null;
    this.clearNoFork(space, event.address, end);
    if (this.entryOrdered && (event.flags & MAP_FIXED) === 0) this.expectUnmapsInFlight(space, replaced);
    this.settle(replaced, 'unmapped', event, 'replaced');
    if (event.fd < 0 || (event.flags & MAP_ANONYMOUS) !== 0) return;
    const unnamed = this.fds.mappedUnknownFd(task, event.fd, event.fdHint, event.inode, event);
    const file = this.fds.fileOfFd(task, event.fd, event.fdHint, event, event.inode, event.fdDeleted === true);
    if (file === null) return;
    file.note(event, this.files.keeper);
    // strace -y names the fd's file as the kernel does: by a name the trace knows it, the file still had that name,
    // as an open by it would show (ReplacedNames: review 59, M3, a file grown by 50 remaps, each unmapped first, then
    // removed out of sight, made 50 doubts where /proc showed 1).
    // Only when a mapping went since the last sighting (its count is more than those live): otherwise the count is
    // those live already, and a walk of them per mmap made 40,000 windows of one file quadratic (code review 60, F1).
    if (event.fdHint !== undefined && event.fdDeleted !== true && file.heldSince !== null && !file.gone && file.names.has(event.fdHint) && total(file.heldSince) !== file.recordCount) {
      file.sighted();
    }
    // The file's link count (bpftrace) may say what its names could not: before this mapping is made.
    if (event.nlink !== undefined) this.files.linkCountSeen(file, event.nlink, event, 'mmap', space);
    const mappedAt = atOf(event);
    this.log.remapped(file, space, event, mappedAt);
    const mapping = this.add(space, file, event.address, event.length, event.offset, mappedAt, end);
    if (unnamed) this.unnamed.mapped(mapping, event.fd, mappedAt);
    if (task.uncloned) mapping.unclonedMaker = task.tid;
    // A mapping that took a seed and was released, of this file at this range: the seed is this later one's (C2).
    const retaken = seedTaken === null && this.windowReleased.size > 0 && (event.flags & MAP_FIXED) === 0 ? this.windowRetaken(space, event.address, end, file) : false;
    if (retaken || (seedTaken !== null && !file.gone && seedIsOf(seedTaken, file))) {
      // An fd whose open the trace does not show (bpftrace's open probe not yet attached, the fd closed before fds-start.txt):
      // named as the kernel named it.
      if (seedTaken !== null && file.names.size === 0 && file.history.length === 0) file.record(flatCopy(seedTaken.path));
      this.awaitOrphan(mapping, { origin: 'snapshot', unlinkedAt: null, unlinkedSeconds: null, note: DELETED_WHEN_READ, rule: null, parentTgid: 0, held: null, madeAfterUnlink: false, traced: true });
    }
    file.heldBy(space.ownerTgid);
    if (!file.gone && !file.unnamed) file.mappedNamedIn = space;
    else if (file.gone && file.leakedIn?.includes(space) === true) this.continued(mapping, event);
    else this.log.mappedWithNoName(mapping, event.seconds);
  }

  /**
   * The seed of a deleted file's mapping at exactly the range a non-fixed
   * mmap returned (`replaced`, before they settle), or null. Such an mmap
   * never returns a live range: maps-start.txt was read after it, and its
   * line is this very mapping, its file deleted by then. Review 46, L2:
   * bpftrace attached its unlink probes after its mmap probes, Lucene
   * removed the files it had just packed into a compound file in those
   * moments, and 22 leaks read as clean; the seed, taken by the mmap, was
   * dropped as a mapping the snapshot saw made. Not in a merged -ff trace
   * (expectUnmapsInFlight).
   */
  private seedTaken(replaced: readonly MappingState[], event: MmapEvent, end: number): { path: string; inode: Inode | undefined } | null {
    let taken: { path: string; inode: Inode | undefined } | null = null;
    for (const mapping of replaced) {
      const seed = this.deletedSeeds.get(mapping);
      if (seed === undefined) continue;
      this.deletedSeeds.delete(mapping);
      const exact = mapping.address === event.address && pageEnd(mapping.address, mapping.length) === end && mapping.pieces === 0;
      if (exact && (event.flags & MAP_FIXED) === 0 && !this.entryOrdered) taken = seed;
    }
    return taken;
  }

  /**
   * Whether a released mapping that took a deleted file's seed (windowReleased)
   * was of `file` at exactly [address, end) in `space`: a later mmap of the
   * same file at that range is the one maps-start.txt listed (review 48, C2).
   * That one is let go.
   */
  private windowRetaken(space: Space, address: number, end: number, file: FileNode): boolean {
    const released = this.windowReleased.get(address);
    if (released === undefined) return false;
    // The file node may be a new one (the old one let go once its fd and mapping went): the same by inode, else by a name.
    const same = (other: FileNode) => other === file || (other.inode !== null && file.inode !== null ? sameInodes(other.inode, file.inode) : other.history.some((name) => file.names.has(name)));
    const at = released.findIndex(({ mapping }) => mapping.space === space && pageEnd(address, mapping.length) === end && same(mapping.file));
    if (at < 0) return false;
    released.splice(at, 1);
    if (released.length === 0) this.windowReleased.delete(address);
    return true;
  }

  /**
   * A mapping of a file its last name went from while this address space
   * held it (FileNode.leakedIn): the leak going on, not the shared-memory
   * idiom (review 9, R9-1: tdb and gdbm unmap and map the replaced database
   * again at each resize, 97 times for gdbm). One error for the leak's last
   * mapping, the one /proc shows "(deleted)" at the end: decided once it is
   * known to be the last (still mapped at the end, released at exit, or
   * unmapped with no other made after it); each one unmapped and followed by
   * another is counted in its note, not listed.
   */
  private continued(mapping: MappingState, event: MmapEvent): void {
    const file = mapping.file;
    const before = this.continuations.get(file);
    // The one before was unmapped, and this one goes on from it: it is counted (unlistedContinued), not listed.
    if (before !== undefined && before.mapping.space === mapping.space) {
      this.continuations.delete(file);
      this.superseded(before.mapping);
    } else if (before !== undefined) this.decideContinuation(file);
    const lastName = file.wentHeld?.at ?? null;
    this.awaitOrphan(mapping, {
      origin: 'continued',
      unlinkedAt: lastName,
      unlinkedSeconds: event.seconds,
      note: null,
      rule: null,
      parentTgid: 0,
      held: null,
      madeAfterUnlink: true,
    });
  }

  /** An unmapped mapping of a leak going on is no longer its last: counted, never listed (unlistedContinued). */
  private superseded(mapping: MappingState): void {
    let counts = this.unlistedContinued.get(mapping.space);
    if (counts === undefined) {
      counts = new Map();
      this.unlistedContinued.set(mapping.space, counts);
    }
    counts.set(mapping.file, (counts.get(mapping.file) ?? 0) + 1);
  }

  /** The count of unlisted mappings for the note of `mapping`'s finding, decided now: from then on, counted from 0. */
  private takeUnlisted(mapping: MappingState): number {
    const counts = this.unlistedContinued.get(mapping.space);
    const count = counts?.get(mapping.file) ?? 0;
    counts?.delete(mapping.file);
    return count;
  }

  /** The leak's mapping unmapped, with no other made after it: decided, as unmapped where it was (continued). */
  private decideContinuation(file: FileNode): void {
    const last = this.continuations.get(file);
    if (last === undefined) return;
    this.continuations.delete(file);
    last.pending.remapped = this.takeUnlisted(last.mapping);
    this.log.decidePending(last.mapping, last.pending);
    const finding = last.mapping.unlinkFinding;
    if (finding !== null) this.log.resolve(finding, 'unmapped', last.unmapped, last.evidenceEnd);
    this.files.forgetIfUnused(file);
  }

  /**
   * madvise(MADV_DONTFORK) of a range: a fork copies none of it into the
   * child (review 27: QEMU's guest RAM, DPDK and RDMA buffers; a child was
   * charged with a mapping it never had, and its parent's removal of the
   * file read as the child's leak, exit 3). MADV_DOFORK gives it back. The
   * kernel keeps the mark on the mapping: an mmap over the range, an munmap or
   * an mremap of it takes it off (clearNoFork).
   */
  madvise(space: Space, event: MadviseEvent): void {
    this.markFork(space, event.address, pageEnd(event.address, event.length), event.dontFork);
  }

  /** [start, end) of `space` is marked MADV_DONTFORK (`dontFork`), or not. */
  private markFork(space: Space, start: number, end: number, dontFork: boolean): void {
    const ranges = withoutRange(this.noFork.get(space) ?? [], start, end);
    if (dontFork) ranges.push([start, end]);
    if (ranges.length === 0) this.noFork.delete(space);
    else
      this.noFork.set(
        space,
        ranges.sort((a, b) => a[0] - b[0]),
      );
  }

  /** The range holds no mapping marked MADV_DONTFORK any more: unmapped, mapped over or moved. */
  private clearNoFork(space: Space, start: number, end: number): void {
    const ranges = this.noFork.get(space);
    if (ranges === undefined) return;
    const left = withoutRange(ranges, start, end);
    if (left.length === 0) this.noFork.delete(space);
    else this.noFork.set(space, left);
  }

  munmap(space: Space, event: MunmapEvent): void {
    const end = pageEnd(event.address, event.length);
    this.clearNoFork(space, event.address, end);
    // Only an entry-ordered trace remembers unmaps in flight (mmap): no lookup otherwise.
    if (this.entryOrdered && this.consumeUnmapInFlight(space, event.address, end)) return;
    if (event.atEntry === true) this.takenAtEntry(space, event, end);
    const touched = this.removeRange(space, event.address, end);
    this.settle(touched, 'unmapped', event, 'munmap');
    // Each file once, in the order its mappings come (a munmap most often takes one mapping: no set for it).
    if (touched.length === 1) this.files.noteUnlessForgotten(touched[0]!.file, event);
    else if (touched.length > 1) for (const file of new Set(touched.map((mapping) => mapping.file))) this.files.noteUnlessForgotten(file, event);
  }

  /**
   * What a munmap applied at its entry (MunmapEvent.atEntry) takes, kept
   * until its thread's next one: its resume may say it failed. Only what it
   * takes of file mappings (anonymous ones are not kept), so most keep nothing.
   */
  private takenAtEntry(space: Space, event: MunmapEvent, end: number): void {
    const parts = space.partsWithin(event.address, end);
    if (parts.length === 0) {
      this.unmapsAtEntry.delete(event.tid);
      return;
    }
    this.unmapsAtEntry.set(event.tid, { space, address: event.address, end, parts, at: `${event.place.file}:${event.place.line}` });
    while (this.unmapsAtEntry.size > MAX_UNMAPS_AT_ENTRY) this.unmapsAtEntry.delete(this.unmapsAtEntry.keys().next().value as number);
  }

  /**
   * The resume of a munmap applied at its entry says it failed (review 27,
   * F6: ENOMEM, a split past vm.max_map_count, at a host near that limit):
   * the kernel unmapped nothing. What it cut from a mapping that still lives
   * is put back, the mapping whole again if nothing took the range since (a
   * failed munmap frees nothing another mmap could reuse); a mapping it took
   * whole was settled as unmapped, its file perhaps forgotten, which cannot
   * be undone: it is in doubt, unless a finding of its file covers it.
   */
  munmapFailed(space: Space, event: MunmapFailedEvent): void {
    const taken = this.unmapsAtEntry.get(event.tid);
    if (taken === undefined || taken.space !== space || taken.address !== event.address || taken.end !== pageEnd(event.address, event.length)) return;
    this.unmapsAtEntry.delete(event.tid);
    for (const part of taken.parts) {
      const mapping = part.record;
      if (mapping.pieces === 0) {
        this.failedUnmaps.failed(mapping, event.error, taken.at);
        continue;
      }
      if (!space.restore(part)) continue;
      // Its findings say what it holds again: whole, as when decided, or what an earlier call left (code review 60, F10).
      this.heldLater(mapping, 'munmap', event);
    }
  }

  mremap(space: Space, event: MremapEvent): void {
    const oldEnd = pageEnd(event.oldAddress, event.oldLength);
    const newEnd = pageEnd(event.newAddress, event.newLength);
    // The mark moves with the mapping in the kernel; here it goes, and a fork copies the moved range (never fewer than the kernel does).
    this.clearNoFork(space, event.oldAddress, oldEnd);
    this.clearNoFork(space, event.newAddress, newEnd);
    const moved = space.firstOverlapping(event.oldAddress, oldEnd)?.record;
    const touched: MappingState[] = [];
    // Not push(...): a range can hold more pieces than a call takes arguments.
    if ((event.flags & MREMAP_DONTUNMAP) === 0) for (const mapping of this.removeRange(space, event.oldAddress, oldEnd)) touched.push(mapping);
    for (const mapping of this.removeRange(space, event.newAddress, newEnd)) touched.push(mapping);
    if (moved !== undefined) {
      // Same mapping, new place: its findings follow it.
      if (moved.address === event.oldAddress && moved.pieces === 0) {
        moved.address = event.newAddress;
        moved.length = event.newLength;
        // A doubt of its cut name follows it (review 58, F13); its findings learn where it is in settle.
        if (event.newAddress !== event.oldAddress && !this.files.cut.empty) this.files.cut.mappingMoved(moved.file, hex(event.oldAddress), hex(event.newAddress));
      }
      // A benign rule by size holds only while the mapping stays that small (review 23: a semaphore's page grown to 256 MiB).
      if (moved.unlinkFinding?.benign !== undefined) this.log.grew(moved.unlinkFinding, event.newLength, event);
      space.insert({ start: event.newAddress, end: newEnd, record: moved });
      moved.file.addRecord(moved);
      moved.file.note(event, this.files.keeper);
      // MREMAP_DONTUNMAP left it where it was too: its findings say it holds both (code review 62, P1).
      if (!touched.includes(moved)) touched.push(moved);
    }
    // One that leaves the mapping where and as long as it was changes nothing (code review 62, F1: it was named as the last change).
    this.settle(touched, 'unmapped', event, 'munmap', event.newAddress === event.oldAddress && newEnd === oldEnd ? undefined : moved, moved);
  }

  /** The mappings that existed before the trace; those of files already deleted wait to be seen living on. */
  seed(space: Space, seeds: readonly SeedMapping[]): void {
    const gone = this.goneAtExit;
    const goneLines = gone !== null && gone.pid === space.ownerTgid ? goneLinesByStart(gone) : null;
    for (const seed of seeds) {
      const file = this.files.seeded(seed);
      // Printed "(deleted)" but linked, as the capture counted: a file that lives on, by names the trace does not know.
      const deleted = seed.deleted && file.gone;
      file.note({ place: seed.place, time: null, seconds: null, tid: 0, raw: seed.text }, undefined);
      const at: At = { file: seed.place.file, line: seed.place.line, time: null, seconds: null, tid: null };
      const mapping = this.add(space, file, seed.start, seed.end - seed.start, seed.offset, at, seed.end);
      mapping.seeded = true;
      if (seed.dontFork === true) this.markFork(space, seed.start, seed.end, true);
      // A child forked before the attach, untraced, may hold a copy (review 64, F-4).
      // Two names of one inode are one file's only with two links or more (hard links): a bind mount shows one link by two
      // paths, and the removal by either takes it (code review 71, F6).
      else if (!deleted) this.files.copiedToUntraced?.mapped(seed.path, (seed.nlink ?? 0) >= 2 ? seed.mapsInode : undefined);
      // Mapped before the trace, so since any open of it the trace shows (ReplacedNames).
      if (!deleted) file.heldBy(space.ownerTgid);
      // Watched until it goes: its process may release it before the exit that shows its file gone (seedReleased).
      const goneLine = seed.deleted ? undefined : goneLines?.get(seed.start);
      if (goneLine !== undefined && goneLine.line.path === seed.path) {
        this.goneSeeds.set(mapping, { start: seed.start, name: seed.path, late: goneLine.late, inode: goneLine.line.inode, reopened: null });
        const named = this.seedsNamed.get(seed.path);
        if (named === undefined) this.seedsNamed.set(seed.path, [{ mapping, start: seed.start }]);
        else named.push({ mapping, start: seed.start });
      }
      if (!deleted) continue;
      this.deletedSeeds.set(mapping, { path: seed.path, inode: seed.mapsInode });
      this.awaitOrphan(mapping, {
        origin: 'snapshot',
        unlinkedAt: null,
        unlinkedSeconds: null,
        // Read once the tracer had attached (review 32, exactness 7: an unlink in the trace's first moments came before the read).
        note: 'The file was already deleted when the capture read the maps at its start (maps-start.txt, read once the tracer had attached): its unlink came before the trace, or in its first moments, and is not tied to this mapping.',
        rule: null,
        parentTgid: 0,
        held: null,
        // When it was made, before the capture, is not known: counted as held, as the snapshot shows it.
        madeAfterUnlink: false,
      });
    }
  }

  /**
   * After the trace: the mappings of deleted files that the space's maps at
   * the end list and no finding explains (`lines`, in address order) are
   * findings whose unlink the trace does not show. The mapping the trace
   * holds at the same address, when it is of the same file, is the one:
   * its mmap (or maps-start.txt line) is where it was mapped. A file the
   * trace shows keeping another name once the name it was mapped by went
   * (a hard link) is left out: /proc shows it deleted though it lives.
   */
  deletedAtEnd(space: Space, lines: readonly EndMapping[], exited: ExitedSpace | null = null): void {
    const decided = new Set<MappingState>();
    for (const line of lines) {
      const piece = exited === null ? space.firstOverlapping(line.start, line.end) : firstOverlappingOf(exited.pieces, line.start, line.end);
      // A later segment of a mapping an earlier line made a finding of (mprotect splits what /proc shows, not what the engine holds).
      if (piece !== undefined && decided.has(piece.record)) continue;
      // Read before the exit, the maps saw the mapping the exit released unless the trace shows it replaced since, by a
      // file given the same inode: an inode is the file's alone while mapped. Its name need not agree, then: bpftrace names
      // a library by the symlink ld.so opened (review 24, D3). Read after the trace, they may see a file made since.
      const byName = piece !== undefined && (exited === null ? sameFile(piece.record.file, line) : sameInode(piece.record.file, line));
      // Renamed out of sight: the names the trace knows are ones the file no longer has, and keep it by none.
      const renamedUnseen = piece !== undefined && exited === null && !byName && samePiece(piece, line, this.files.seedInodeOf(piece.record.file));
      const traced = piece !== undefined && piece.start === line.start && (byName || renamedUnseen) ? piece.record : null;
      if (traced !== null && exited !== null) this.files.namedByMaps(traced.file, line.path);
      // Another name the trace knows or the kernel counted may keep the file, unless the capture found none left at
      // the end (review 33 attack, F9: another process removed a hard link made before the trace). Renamed out of
      // sight, one fewer: the rename took one of its names (code review 68, F4: a leak read clean once /proc's name
      // was recorded first; code review 69, F1: a link the trace saw made kept the file, and read as a leak).
      if (traced !== null && line.noLinkLeft !== true && (renamedUnseen ? keptOnceRenamed(traced.file) : keptByAnotherName(traced.file, line.path))) continue;
      // The name /proc shows, where a rename out of sight gave it another: the finding names it so.
      if (renamedUnseen && traced !== null) traced.file.record(flatCopy(line.path));
      // Its name gone out of sight, but the kernel counted others the trace does not know: in doubt.
      if (traced !== null && line.noLinkLeft !== true && this.files.hidden.goneOutOfSight(traced.file, `${line.place.file}:${line.place.line}`, [traced])) continue;
      let mapping = traced;
      const named = snapshotNamed(line.place.file);
      let note = named(exited === null ? GONE_OUT_OF_SIGHT : GONE_BEFORE_STOP);
      if (mapping === null || mapping.unlinkFinding !== null) {
        // The trace holds something else there, or nothing: what /proc shows replaces it.
        this.settle(this.removeRange(space, line.start, line.end), 'unmapped', null, 'replaced');
        const file = this.files.seeded({ start: line.start, end: line.end, offset: line.offset, path: line.path, deleted: true, place: line.place, text: line.text });
        const at: At = { file: line.place.file, line: line.place.line, time: null, seconds: null, tid: null };
        mapping = this.add(space, file, line.start, line.end - line.start, line.offset, at, line.end);
        // A file of that name the trace saw lose its last name while an fd held it: mapped through that fd after the
        // trace, as far as the trace can tell (review 50: H2's writer mapped a database the traced JVM had removed,
        // after strace let go, and the note sent the reader after another process).
        // Not when the trace knows a file made at that name since (review 54, T2: the note named the old file's unlink).
        const went = this.files.named(line.path) === undefined ? this.files.goneNamed(line.path)?.wentHeld?.at : undefined;
        note = went === undefined ? note + named(MAPPED_OUT_OF_SIGHT) : named(mappedAfterTraceNote(went));
      }
      mapping.file.note({ place: line.place, time: null, seconds: null, tid: 0, raw: line.text }, undefined);
      if (exited === null) this.log.deletedOutOfSight(mapping, note);
      else
        this.log.deletedBeforeExit(
          mapping,
          note,
          mapping === traced
            ? heldOf(
                mapping,
                exited.pieces.filter((kept) => kept.record === mapping),
              )
            : stillMapped(mapping),
          exited.exit,
        );
      decided.add(mapping);
      // Its fork children and other processes that held the file and gave it up before the end may have outlived it
      // too (review 24: a daemon's children held a reinstalled library (deleted) for seconds, unreported).
      // Named as its finding names it, which the finding's own process is then told from.
      if (mapping === traced) this.files.goneOutOfSight(mapping.file, mapping.unlinkFinding?.path ?? line.path, line.place, 'deleted-at-end', space.ownerTgid);
    }
  }

  /** What process `pid` held as it exited, if its maps at the end were read before (mapsReadBeforeExit) and the trace shows that exit. */
  exitedSpace(pid: number): ExitedSpace | null {
    return this.exitedSpaces.get(pid) ?? null;
  }

  /**
   * The files of maps-start.txt found gone from their names once the process
   * had exited (`lines`, a bundle's maps-start-gone.txt): each of those
   * mappings still live in `space`, of the same file, whose removal the trace
   * does not show, is a finding of a removal out of sight, as maps-end.txt
   * makes one (deletedAtEnd). Asked as the process exits, or at the end of
   * the trace if its exit is not in it. What the trace shows unmapped, or
   * holds another file at, is no finding: the check came after the exit.
   */
  goneWhenExited(space: Space, gone: GoneAtExit, traceEndedFirst = false): void {
    const files = new Set<FileNode>();
    // The process exited after the trace ended (as bpftrace let go of its probes, seconds after its stop record): a
    // removal between the two is not in the trace, nor an munmap before it, however long before the exit the directory
    // changed. Each file found gone is in doubt (review 46, L4: a JVM's own removal of its hsperfdata file at its exit
    // read as another process's, an error).
    if (traceEndedFirst) this.goneLate.afterTrace = true;
    // By their maps-start.txt start: a line is asked about each (a broker's lines, and its workers' copies, can be 10^5).
    const released = groupedByStart(this.releasedSeeds.values(), (seed) => seed.start);
    const copies = groupedByStart(
      [...this.goneSeeds].filter(([mapping]) => mapping.space !== space),
      ([, watched]) => watched.start,
    );
    for (const line of traceEndedFirst ? [] : gone.lines) {
      const mapping = this.seededAt(space, line, gone.startFile);
      this.releasedBeforeExit(space, line, mapping === null, released.get(line.start));
      if (mapping === null) {
        this.copiesLiveAtExit(space, line, false, copies.get(line.start));
        continue;
      }
      // Links the capture counted at the attach that the trace does not know may keep it: in doubt (review 32).
      if (this.files.hidden.goneOutOfSight(mapping.file, `${line.place.file}:${line.place.line}`, [mapping])) continue;
      mapping.file.note({ place: line.place, time: null, seconds: null, tid: 0, raw: line.text }, undefined);
      this.log.goneOutOfSight(mapping, GONE_BEFORE_EXIT);
      if (!files.has(mapping.file)) {
        files.add(mapping.file);
        this.goneFromOthers(mapping, space, line);
      }
    }
    // Gone by the time the exit was seen, but perhaps after it: in doubt.
    for (const line of traceEndedFirst ? [...gone.lines, ...gone.late] : gone.late) {
      const own = this.seededAt(space, line, gone.startFile) === null;
      this.releasedBeforeExit(space, line, own, released.get(line.start));
      if (own) {
        this.copiesLiveAtExit(space, line, true, copies.get(line.start));
        continue;
      }
      // The JVM's own hsperfdata file, named by its pid: the JVM removes it as it exits, after the trace here, as the
      // benign rule says it does in a trace (review 51, A6: a fixed broker that exited while bpftrace took its probes
      // off was in doubt, --fail-on exit 2, for that file alone).
      if (traceEndedFirst && jvmOwnPerfData(line.path, space.ownerTgid)) continue;
      this.goneLate.mappings.push({ pid: space.ownerTgid, name: line.path });
      if (this.goneLate.first === null) this.goneLate.first = { pid: space.ownerTgid, path: line.path, at: `${line.place.file}:${line.place.line}` };
    }
    this.goneSeeds.clear();
    this.releasedSeeds.clear();
    this.seedsNamed.clear();
  }

  /**
   * A mapping maps-start.txt seeded went (settle, by `cause`): if it is one
   * goneWhenExited will ask about, and its own process gave it up (an
   * munmap, an mmap over it, an exec), where is kept (releasedBeforeExit). A
   * non-fixed mmap over a seed in a trace in the order calls returned is no
   * release: the seed was that mmap's, read into maps-start.txt after it (settle).
   */
  private seedReleased(mapping: MappingState, event: EventBase | null, cause: Release): void {
    const watched = this.goneSeeds.get(mapping);
    if (watched === undefined) return;
    const copy = this.goneAtExit === null || mapping.space.ownerTgid !== this.goneAtExit.pid;
    // The exit of the process maps-start-gone.txt is about is where its seeds are looked at (goneWhenExited).
    if (cause === 'exit' && !copy) return;
    this.goneSeeds.delete(mapping);
    // A fork's copy dropped by an exec was never the child's to use (droppedUnused; review 23: a child that execs at once).
    if (event === null || (copy && cause === 'exec')) return;
    if (cause === 'replaced' && ((event as MmapEvent).flags & MAP_FIXED) === 0 && !this.entryOrdered) return;
    const call = cause === 'exec' ? 'execve' : cause === 'exit' ? 'exit' : (event as TraceEvent).kind;
    this.releasedSeeds.set(mapping, { ...watched, mapping, call, at: `${event.place.file}:${event.place.line}`, nameChanged: false, dirChangedAt: null });
  }

  /**
   * A fork copied `source` to `copy`: a copy of a watched seed is watched as
   * the seed is, for the exit of the process maps-start-gone.txt is about
   * (review 81, F2: a server's workers forked under the capture held the
   * file until they exited, after a deploy replaced it; the server had
   * reloaded it, and only its own mapping was looked at).
   */
  private watchCopy(source: MappingState, copy: MappingState): void {
    const watched = this.goneSeeds.get(source);
    if (watched === undefined) return;
    // Each watched copy, once released, is walked at every removal, rename and bpftrace link count (nameChanged,
    // stillNamed): a fork-per-request server makes 10^5 (code review 83). Past the bound, copies are not watched, and said.
    if (this.copiesWatched >= MAX_WATCHED_COPIES) {
      this.copiesUnwatched++;
      return;
    }
    this.copiesWatched++;
    this.goneSeeds.set(copy, { ...watched });
    this.seedsNamed.get(watched.name)?.push({ mapping: copy, start: watched.start });
  }

  /**
   * The copies of the seed at `line`'s start (`copies`, those of other
   * processes watched then) still live as process `space` exits, having
   * released its own: each outlived the file (a removal before the exit,
   * `late` false), as goneFromOthers finds of a seed held until the exit, or
   * may have (`late`: in doubt).
   */
  private copiesLiveAtExit(space: Space, line: EndMapping, late: boolean, copies: readonly (readonly [MappingState, WatchedSeed])[] | undefined): void {
    const found: MappingState[] = [];
    for (const [mapping] of copies ?? []) {
      if (mapping.pieces === 0 || mapping.unlinkFinding !== null || mapping.pendingOrphan !== null) continue;
      if (!sameFile(mapping.file, line) || keptByAnotherName(mapping.file, line.path)) continue;
      found.push(mapping);
    }
    if (found.length === 0) return;
    if (late) {
      for (const mapping of found) this.goneLate.mappings.push({ pid: mapping.space.ownerTgid, name: line.path });
      if (this.goneLate.first === null) this.goneLate.first = { pid: found[0]!.space.ownerTgid, path: line.path, at: `${line.place.file}:${line.place.line}` };
      return;
    }
    const note = inheritedGoneNote(space.ownerTgid);
    for (const mapping of found) this.log.goneOutOfSight(mapping, note);
    this.files.goneOutOfSight(found[0]!.file, line.path, line.place, 'gone-at-exit', space.ownerTgid);
  }

  /**
   * The trace shows `name` removed, renamed or replaced (or, with `under`, a
   * directory above it renamed), by any traced process: a seed released
   * before and mapping a file of that name lost it then, after its release,
   * as far as the trace can tell (unless an open of the name before may have
   * reached another file: nameOpened). Its directory changed then too
   * (entryChanged).
   */
  nameChanged(name: string, under: boolean, event: EventBase): void {
    // Removed while still mapped: maps-start-gone.txt's line of it is that removal's (review 33 exactness, 1: a file
    // kept by a hard link made before the trace, unlinked, then released, was put in doubt, "the trace shows no removal").
    for (const { mapping } of this.seedsNamed.get(name) ?? []) {
      const watched = this.goneSeeds.get(mapping);
      if (watched !== undefined) watched.removedWhileMapped ??= `${event.place.file}:${event.place.line}`;
    }
    for (const released of this.releasedSeeds.values()) {
      if (released.nameChanged) continue;
      const names = released.mapping.file.history;
      if (nameTouched(names, name, under)) released.nameChanged = true;
    }
    if (this.goneAfterRelease.watching) this.goneAfterRelease.nameChanged(name, under);
    this.entryChanged(name, event);
  }

  /**
   * A traced call made, removed or renamed the entry `name` (an unlink, a
   * rename's either side, a link, a symlink): its directory changed then. A
   * seed released before, of a name in that directory (or below `name`, a
   * directory removed or moved), may owe its maps-start-gone-late.txt line to
   * that change, not to a removal about the exit (releasedBeforeExit).
   */
  entryChanged(name: string, event: EventBase): void {
    const dir = directoryOf(name);
    for (const released of this.releasedSeeds.values()) {
      if (!released.late || released.dirChangedAt !== null) continue;
      const names = released.mapping.file.history;
      if (names.some((known) => directoryOf(known) === dir || known.startsWith(`${name}/`))) released.dirChangedAt = `${event.place.file}:${event.place.line}`;
    }
  }

  /** The trace saw `file` with a link count above 0 (Files.linkCountSeen): a seed of it released before had a name left. */
  stillNamed(file: FileNode): void {
    // Asked at every bpftrace mmap, ftruncate and close that counts a link: most traces have no released seed.
    if (this.releasedSeeds.size === 0) return;
    for (const released of this.releasedSeeds.values()) if (released.mapping.file === file) released.namedAfter = true;
  }

  /** Whether a seed released during the capture waits for its process's exit, or a mapping held until an exit for the lookup after the trace (nameChanged and entryChanged need asking). */
  get watchesReleasedNames(): boolean {
    return this.releasedSeeds.size > 0 || this.goneAfterRelease.watching;
  }

  /** Whether a seed of a line of maps-start-gone.txt or its -late twin, mapped or released, waits for its process's exit (nameOpened needs asking). */
  get watchesSeededNames(): boolean {
    return this.seedsNamed.size > 0;
  }

  /**
   * A traced process opened `name` (`spelled` as -y resolved it), reaching
   * `inode` (bpftrace), or a file the trace does not name (strace). For a
   * watched seed, of a file of that name, mapped or released but its name
   * not yet removed in the trace, the open may have reached another file
   * than the one maps-start.txt listed: if it did, the mapped file had lost
   * that name before (a reload after a deploy replaced it), and a later
   * removal of the name removed the new file, not the mapped one
   * (releasedBeforeExit). strace cannot say which; bpftrace can.
   */
  nameOpened(name: string, spelled: string | undefined, inode: Inode | null, event: EventBase): void {
    const seeds = this.seedsNamed.get(name) ?? (spelled === undefined ? undefined : this.seedsNamed.get(spelled));
    if (seeds === undefined) return;
    for (const { mapping } of seeds) {
      const released = this.releasedSeeds.get(mapping);
      const watched = this.goneSeeds.get(mapping) ?? (released?.mapping === mapping && !released.nameChanged ? released : undefined);
      if (watched === undefined || watched.reopened !== null) continue;
      // The very file, by its inode: the name still led to it then. After the release, it did at the release too: the
      // name went after it (review 47, P3: a PostgreSQL backend's DSM segment, unmapped, opened again, mapped and
      // unmapped, then removed by a worker the capture does not trace, was put in doubt at the exit, --fail-on exit 2).
      if (inode !== null && watched.inode !== null && inode.dev === watched.inode.dev && inode.ino === watched.inode.ino) {
        if (watched === released) released.namedAfter = true;
        continue;
      }
      watched.reopened = { at: `${event.place.file}:${event.place.line}`, reached: inode, listed: watched.inode };
    }
  }

  /**
   * `line` of maps-start-gone.txt (its file went before `space`'s process
   * exited) maps nothing the trace shows living until the exit: if the
   * process itself released that very mapping during the capture, and the
   * trace shows no removal of the file, neither while mapped (a finding then)
   * nor after (it went then), whether the file went before the release is not
   * known: in doubt. The lookup's directory time tells before the exit from
   * about it, not from a release earlier in the capture.
   */
  private releasedBeforeExit(space: Space, line: EndMapping, own: boolean, released: readonly ReleasedSeed[] | undefined): void {
    for (const seed of released ?? []) {
      // Its own seed (when it did not hold it to the exit), or a fork's copy (review 81, F2).
      const copy = seed.mapping.space.ownerTgid !== space.ownerTgid;
      if (copy || own) this.releasedGone(space, line, seed, copy);
    }
  }

  /** `released`, a seed of `line` or a fork's copy of it (`copy`), given up before process `space` exited: in doubt, unless what the trace shows after says the file went then. */
  private releasedGone(space: Space, line: EndMapping, released: ReleasedSeed, copy: boolean): void {
    // A -late line says the directory changed about the exit or after it, as a cleanup after the exit does: no doubt,
    // unless the trace shows a traced call changing that directory after the release, whose change the capture may
    // have seen instead of the removal (review 27, F7: the program's own unlink at its exit).
    if (released.late && released.dirChangedAt === null) return;
    // A name left after the release: whatever the exit look-up found gone at the name maps-start.txt gave, another name
    // kept the file (review 44, H2: dovecot's log rotated by a hard link to .log.2, a new one renamed over .log).
    if (released.namedAfter === true) return;
    // The name removed after the release tells that the file went then only if the name still led to it: an open of it
    // that may have reached another file (a reload after a deploy) leaves the removal perhaps to the new one.
    if (released.nameChanged && released.reopened === null) return;
    const mapping = released.mapping;
    if ((!copy && mapping.space.ownerTgid !== space.ownerTgid) || mapping.unlinkFinding !== null) return;
    // The mapping is the line's own (seeded from that very maps-start.txt line, seed): by its name, not by an inode a
    // later open gave its file node, which may be the new file's.
    if (!mapping.file.history.includes(line.path) || keptByAnotherName(mapping.file, line.path)) return;
    this.goneReleased.push({
      pid: mapping.space.ownerTgid,
      exited: space.ownerTgid,
      name: line.path,
      goneAt: `${line.place.file}:${line.place.line}`,
      inode: line.inode,
      call: released.call,
      releasedAt: released.at,
      dirChangedAt: released.late ? released.dirChangedAt : null,
      reopened: released.nameChanged ? released.reopened : null,
      removedWhileMapped: released.removedWhileMapped ?? null,
    });
  }

  /**
   * The file of `found` (`line`) went before process `space` exited (goneWhenExited):
   * the same file mapped in other processes (a fork's copy, most often: a
   * server's workers, a shell's subshells) outlived it too if live now, and
   * may have if they unmapped it since the trace last saw a name reach it
   * (a doubt, ReplacedNames). Review 23, D6: only the captured process's
   * own mappings were checked, and its children holding the file were not
   * reported.
   */
  private goneFromOthers(found: MappingState, space: Space, line: EndMapping): void {
    const file = found.file;
    const note = inheritedGoneNote(space.ownerTgid);
    for (const other of [...file.liveRecords()]) {
      if (other.space === space || other.unlinkFinding !== null || other.pendingOrphan !== null) continue;
      this.log.goneOutOfSight(other, note);
    }
    this.files.goneOutOfSight(file, found.unlinkFinding?.path ?? line.path, line.place, 'gone-at-exit', space.ownerTgid);
  }

  /**
   * The mapping `space` holds at `line`'s address that maps-start.txt
   * (`startFile`) seeded, of the same file, whose removal the trace does not
   * show; null if the trace unmapped it, mapped another file there since (a
   * reload by the same name, after the file was replaced), or saw it go.
   */
  private seededAt(space: Space, line: EndMapping, startFile: string): MappingState | null {
    const piece = space.firstOverlapping(line.start, line.end);
    if (piece === undefined || piece.start !== line.start) return null;
    const mapping = piece.record;
    if (mapping.mappedAt?.file !== startFile || mapping.unlinkFinding !== null) return null;
    if (!sameFile(mapping.file, line) || keptByAnotherName(mapping.file, line.path)) return null;
    return mapping;
  }

  /**
   * A fork without CLONE_VM: the child's space holds a copy of every mapping,
   * one per mapping however many pieces it has. `seconds`: when the clone
   * returned; a copy of an orphan outlives its file from then, not from the
   * unlink (a child that execs at once held it for milliseconds, review 23).
   */
  fork(parent: Space, childTgid: number, parentTgid: number, seconds: number | null): Space {
    const space = this.newSpace(childTgid);
    space.forkedAt = this.counters.seq;
    if (this.fromStart.has(parent)) this.fromStart.add(space);
    const copies = new Map<MappingState, MappingState>();
    const orphans: MappingState[] = [];
    const noFork = this.noFork.get(parent);
    for (const whole of parent.pieces()) {
      const source = whole.record;
      // What madvise(MADV_DONTFORK) left of the piece to copy: most often all of it.
      for (const piece of noFork === undefined ? [whole] : withoutRanges(whole, noFork)) {
        const known = copies.get(source);
        if (known !== undefined) {
          space.insert({ start: piece.start, end: piece.end, record: known });
          continue;
        }
        const copy = this.add(space, source.file, piece.start, source.length, source.offset, source.mappedAt, piece.end, source.address);
        copies.set(source, copy);
        // The child holds the file as much as the parent: a name lost out of sight makes its copy in doubt too (ReplacedNames).
        if (!source.file.gone) source.file.heldBy(childTgid);
        copy.seq = source.seq;
        copy.unclonedMaker = source.unclonedMaker;
        if (this.goneSeeds.size > 0) this.watchCopy(source, copy);
        const orphan = source.unlinkFinding ?? source.pendingOrphan;
        if ((!source.file.gone && !source.file.unnamed) || orphan === null) continue;
        // What the parent's mapping is: an orphan, or one made with no name left (benign, as the parent's is).
        const rule = source.unlinkFinding !== null ? (mappedWithNoName(source.unlinkFinding) ? MAPPED_WITH_NO_NAME : null) : (source.pendingOrphan?.rule ?? null);
        this.awaitOrphan(copy, {
          origin: 'fork',
          unlinkedAt: orphan.unlinkedAt,
          unlinkedSeconds: rule === null && seconds !== null ? seconds : this.orphanSince(source),
          note: rule === null ? `Inherited by fork from process ${parentTgid}, whose mapping of this file outlived it too.` : null,
          rule,
          parentTgid,
          held: null,
          // Copied from an orphan, the file already gone; one made with no name left (rule) becomes an orphan only at a later unlink.
          madeAfterUnlink: rule === null,
        });
        orphans.push(copy);
      }
    }
    // The pieces a partial munmap left in the parent are the child's too, and its finding shows them.
    for (const copy of orphans) copy.pendingOrphan!.held = stillMapped(copy);
    this.images.forked(parent, space);
    return space;
  }

  /** When `mapping`'s finding decided, or will decide, that it outlived its file. */
  private orphanSince(mapping: MappingState): number | null {
    return mapping.unlinkFinding !== null ? this.log.decidedSecondsOf(mapping.unlinkFinding) : (mapping.pendingOrphan?.unlinkedSeconds ?? null);
  }

  /** A task stopped using the space (exit, exec): the last one out releases every mapping. */
  release(space: Space, event: EventBase | null, cause: 'exec' | 'exit'): void {
    space.users--;
    if (space.users > 0) return;
    const gone = this.goneAtExit;
    if (cause === 'exit' && gone !== null && gone.pid === space.ownerTgid) {
      this.goneAtExit = null;
      this.goneWhenExited(space, gone);
    }
    if (this.lookedUpAfter) this.checkGoneAfterExit(space, event, cause);
    // Its last exit is the one after the read of its maps: a pid used again before it keeps only that one.
    if (cause === 'exit' && this.mapsReadBeforeExit.has(space.ownerTgid)) this.exitedSpaces.set(space.ownerTgid, { pieces: [...space.pieces()], exit: copyOfEvent(event) });
    const stale = this.heldStale.get(space);
    if (stale !== undefined) for (const mapping of [...stale.keys()]) this.sayHeld(mapping);
    const released = space.clear();
    if (cause === 'exec') this.droppedUnused(space, released);
    this.settle(released, 'process-exited', event, cause);
    // The space can map no file again: its leaks' last mappings are known.
    for (const [file, last] of [...this.continuations]) if (last.mapping.space === space) this.decideContinuation(file);
    const program = this.images.stopped(space);
    if (program !== null) this.files.forgetIfUnused(program);
  }

  /**
   * `space`'s process exits or execs with its mappings live: each of a file
   * the capture found gone from its name once the trace ended (mappedGone)
   * may have outlived it: a process the trace does not follow removed it
   * while it was mapped, or after, which the lookup cannot tell apart (review
   * 50: git cat-file held packs an untraced `git repack` removed until it
   * exited: clean, --fail-on exit 0). Kept as a candidate, decided once the
   * trace has ended: a removal or rename of that name the trace shows later
   * explains the lookup (GoneAfterRelease.nameChanged; review 52, R1: git
   * repack removes the packs its pack-objects child mapped, after that child
   * exited). A seed is maps-start-gone.txt's (goneWhenExited); what an exec
   * drops of its fork's copies it never held in its own right
   * (droppedUnused; review 52, R9). A name that led to another file then
   * (mappedNamed: one of another inode, or born after this mapping was made)
   * is as good as gone for it (review 70, F1: fc-cache replaced the caches a
   * traced program held; gdbm's reorganize renamed a new file over the one a
   * reader held: clean, exit 0). What the process unmapped before is checked
   * at its munmap (settle, checkGoneAfterRelease), when a birth dates it.
   */
  private checkGoneAfterExit(space: Space, event: EventBase | null, cause: 'exec' | 'exit'): void {
    const seen = new Set<FileNode>();
    const forkCopies = cause === 'exec' && space.forkedAt >= 0 ? space.forkedAt : -1;
    for (const piece of space.pieces()) {
      const mapping = piece.record;
      if (seen.has(mapping.file) || mapping.seq < forkCopies) continue;
      if (this.checkGoneAfterRelease(mapping, space.ownerTgid, event, 'exit')) seen.add(mapping.file);
    }
  }

  /**
   * `mapping`, of process `pid`, released (`release`) at `event`: a candidate
   * of goneAfterRelease when its file's name was found gone once the trace
   * ended, or leading to another file, by no removal the trace shows
   * (checkGoneAfterExit). False for one not a candidate.
   *
   * A mapping unmapped while its process lived is one only when a name led to
   * a file born after the mapping was made and before it was unmapped
   * (strace, whose times and the births are the wall clock's): that file was
   * renamed into place after its birth, perhaps before the munmap (review 80,
   * F3: a daemon's data file replaced by an untraced deploy, mapped again by
   * its name, the old mapping then unmapped: /proc showed it "(deleted)"
   * until the munmap, and the report read clean, exit 0). A file born after
   * the munmap came after it (review 70: a file unmapped, then replaced, then
   * mapped again, a healthy reload). Not a name found leading to no file:
   * nothing dates that removal, most often a cleanup once every user had let
   * the file go (an IPC segment a peer unlinks after the others unmapped it:
   * review 47, P3), so a file removed out of sight while mapped, then
   * unmapped, is missed (review 80, F2). Not under bpftrace either, whose
   * clock is not the births', where an open of the name that reached another
   * file while the old one was mapped makes a doubt (ReplacedNames). A
   * mapping of maps-start.txt, whose time is not known, by the inode its line
   * gives (ledTo): F3 with the file mapped before the attach. One exiting is
   * maps-start-gone.txt's to check (goneWhenExited).
   */
  private checkGoneAfterRelease(mapping: MappingState, pid: number, event: EventBase | null, release: GoneRelease): boolean {
    const file = mapping.file;
    if ((mapping.seeded && release === 'exit') || file.gone || mapping.unlinkFinding !== null || mapping.pendingOrphan !== null) return false;
    // Asked at every munmap of a file in a bundle: one no birth can date (bpftrace's clock, no mapped-named.txt) is no candidate.
    const unmapped = release === 'unmap' ? (event?.seconds ?? null) : null;
    if (release === 'unmap' && (this.mappedNamed === null || unmapped === null || unmapped < WALL_CLOCK_FROM)) return false;
    const gone = release === 'exit' ? this.mappedGone : null;
    const goneNames = gone === null ? [] : [...file.names].filter((name) => gone.has(name));
    // Each mapping of the file on its own: one made after the file now at a name was born may be of that very file.
    const led = [...file.names].map((name) => this.ledTo(mapping, name));
    const replaced = [...file.names].filter((name, k) => led[k] === 'elsewhere' && (release === 'exit' || this.bornBefore(name, unmapped)));
    if (goneNames.length === 0 && replaced.length === 0) return false;
    // Another of its names still leading to the file mapped (a name it was renamed to and one it was mapped by,
    // both looked up): it was not deleted. (A hard link the trace made is not looked up: still in doubt.)
    if (led.includes('same')) return false;
    const names = [...goneNames, ...replaced];
    // Every other spelling of the file too: the lookup names -yy's real path, a later rm the program's own
    // spelling through a symlinked directory (review 53, S7: a false doubt, exit 2).
    const spellings = [...file.names].filter((name) => !names.includes(name));
    this.goneAfterRelease.add(pid, file.inode, names, spellings, event === null ? null : `${event.place.file}:${event.place.line}`, goneNames.length === 0, release);
    return true;
  }

  /** Whether the file `name` led to once the trace ended was born before `seconds`, a wall-clock time of the trace. */
  private bornBefore(name: string, seconds: number | null): boolean {
    const born = this.mappedNamed?.get(name)?.born ?? null;
    return born !== null && seconds !== null && born < seconds;
  }

  /**
   * Where `name` led once the trace ended, as far as mapped-named.txt tells on a file system it can be trusted of
   * (LOCAL_FILE_SYSTEMS): to a file other than `mapping`'s, born after the mapping was made (strace, whose times are
   * the wall clock's: a file's inode under strace is maps-start.txt's, the file at the attach, not necessarily the
   * one a later open of its name reached), or else of another inode number than the trace's (bpftrace, which gives
   * each mmap's, and a mapping of maps-start.txt, whose line gives its own; the device is left out, as btrfs gives
   * stat another number than the kernel's records); or to a file that may be `mapping`'s; or null: not known.
   */
  private ledTo(mapping: MappingState, name: string): 'elsewhere' | 'same' | null {
    const after = this.mappedNamed?.get(name);
    if (after === undefined || !after.direct || !LOCAL_FILE_SYSTEMS.has(after.fileSystem)) return null;
    const made = mapping.mappedAt?.seconds;
    // A mapping of maps-start.txt has no time, but the inode its line gives is that very mapping's, read from /proc.
    if (after.born !== null && !mapping.seeded) {
      if (made === null || made === undefined || made < WALL_CLOCK_FROM) return null;
      return after.born > made ? 'elsewhere' : 'same';
    }
    const inode = mapping.seeded ? this.files.seedInodeOf(mapping.file) : mapping.file.inode;
    if (inode === null) return null;
    return inode.ino === after.inode.ino ? 'same' : 'elsewhere';
  }

  /**
   * An exec released `space`: what its fork copied and it never used is no
   * mapping it held (settle drops such copies of orphans), so no longer one
   * of its files' mappings held since a name was seen (ReplacedNames).
   */
  private droppedUnused(space: Space, released: readonly MappingState[]): void {
    const forkedAt = space.forkedAt;
    if (forkedAt < 0) return;
    const pid = space.ownerTgid;
    for (const mapping of released) {
      const held = mapping.file.heldSince;
      if (mapping.seq >= forkedAt || held === null) continue;
      // Counted under its pid, or, past the processes named, under UNNAMED_HOLDERS.
      const key = held.has(pid) ? pid : UNNAMED_HOLDERS;
      const count = held.get(key);
      if (count === undefined) continue;
      if (count > 1) held.set(key, count - 1);
      else held.delete(key);
    }
  }

  /** The trace ended: every mapping of a deleted file still waiting lived on to the end. */
  decidePendingOrphans(): void {
    this.log.decidePendingRemaps();
    for (const file of [...this.continuations.keys()]) this.decideContinuation(file);
    for (const mapping of this.pendingOrphans) {
      if (mapping.pendingOrphan?.origin === 'continued') mapping.pendingOrphan.remapped = this.takeUnlisted(mapping);
      if (mapping.pendingOrphan !== null) this.log.decidePending(mapping, mapping.pendingOrphan);
      mapping.pendingOrphan = null;
    }
    this.pendingOrphans.clear();
    // Their names went unseen, in the capture's first moments, while they were mapped.
    for (const released of this.windowReleased.values()) {
      for (const { mapping, pending, how, event } of released) {
        this.log.decidePending(mapping, pending);
        if (mapping.unlinkFinding !== null) this.log.resolve(mapping.unlinkFinding, how, event);
      }
    }
    this.windowReleased.clear();
  }

  private add(space: Space, file: FileNode, address: number, length: number, offset: number, mappedAt: At | null, end: number, originalAddress = address): MappingState {
    const mapping: MappingState = {
      id: this.counters.nextId(),
      file,
      space,
      address: originalAddress,
      length,
      offset,
      seq: this.counters.seq,
      pieces: 0,
      spanLow: undefined,
      spanHigh: undefined,
      mappedAt,
      unlinkFinding: null,
      remapFinding: null,
      pendingOrphan: null,
      seeded: false,
      pendingRemap: null,
      unclonedMaker: 0,
    };
    space.insert({ start: address, end, record: mapping });
    file.addRecord(mapping);
    return mapping;
  }

  private awaitOrphan(mapping: MappingState, pending: PendingOrphan): void {
    mapping.pendingOrphan = pending;
    this.pendingOrphans.add(mapping);
  }

  /**
   * `mapping` was cut or moved by `event` and lives on: its open findings,
   * and the orphan waiting for one, say what it holds now. The first change
   * of a finding is said at once (an `updated` change, for live views); later
   * ones when the finding is read or resolved (heldStale).
   */
  private heldLater(mapping: MappingState, by: HeldLater['by'], event: EventBase): void {
    const unlink = mapping.unlinkFinding !== null && mapping.unlinkFinding.resolution === null ? mapping.unlinkFinding : null;
    const remap = mapping.remapFinding !== null && mapping.remapFinding.resolution === null ? mapping.remapFinding : null;
    if (unlink === null && remap === null && mapping.pendingOrphan === null) return;
    const stale = this.heldStale.get(mapping.space) ?? new Map<MappingState, { by: HeldLater['by']; at: At }>();
    if (stale.size === 0) this.heldStale.set(mapping.space, stale);
    stale.set(mapping, { by, at: atOf(event) });
    if (unlink !== null) this.staleFindings.set(unlink, mapping);
    if (remap !== null) this.staleFindings.set(remap, mapping);
    if ((unlink !== null && unlink.heldLater === undefined) || (remap !== null && remap.heldLater === undefined)) this.sayHeld(mapping);
  }

  /** What `mapping` holds, said by its open findings and its waiting orphan (heldStale). */
  private sayHeld(mapping: MappingState): void {
    const inSpace = this.heldStale.get(mapping.space);
    const stale = inSpace?.get(mapping);
    if (stale === undefined) return;
    inSpace!.delete(mapping);
    if (inSpace!.size === 0) this.heldStale.delete(mapping.space);
    const unlink = mapping.unlinkFinding;
    const remap = mapping.remapFinding;
    // First: what the findings say below may be a change, whose push asks again (sayHeldOf).
    if (unlink !== null) this.staleFindings.delete(unlink);
    if (remap !== null) this.staleFindings.delete(remap);
    const held = stillMapped(mapping);
    if (mapping.pendingOrphan !== null) mapping.pendingOrphan.held = held;
    if (unlink !== null && unlink.resolution === null) this.log.heldLater(unlink, held, stale.by, stale.at);
    if (remap !== null && remap.resolution === null) this.log.heldLater(remap, held, stale.by, stale.at);
  }

  /** Every mapping's findings say what it holds: before they are read. */
  sayAllHeld(): void {
    for (const stale of [...this.heldStale.values()]) for (const mapping of [...stale.keys()]) this.sayHeld(mapping);
  }

  /** The finding's mapping says what it holds, if it has not yet: before a change of the finding is written. */
  sayHeldOf(finding: Finding): void {
    if (this.staleFindings.size === 0) return;
    const mapping = this.staleFindings.get(finding);
    if (mapping !== undefined) this.sayHeld(mapping);
  }

  /**
   * space.removeRange, once the mappings it takes whole have said what they
   * held before it (their findings then show what the last call took).
   */
  private removeRange(space: Space, start: number, end: number): readonly MappingState[] {
    if (this.heldStale.has(space)) for (const mapping of space.emptiedBy(start, end)) this.sayHeld(mapping);
    return space.removeRange(start, end);
  }

  /**
   * Mappings that lost pieces: those with none left are gone, and so are their findings.
   * @param moved the mapping an mremap (`event`) moved or resized: any other it touched was cut, not moved
   * @param remapped the mapping an mremap took, moved or not (one it left as it was is no `moved`)
   */
  private settle(mappings: readonly MappingState[], how: Resolution, event: EventBase | null, cause: Release, moved?: MappingState, remapped?: MappingState): void {
    // Indexed, not for-of: most calls (every anonymous mmap and munmap) come with none, and an
    // iterator is made and stepped even for none until the caller is optimized.
    for (let k = 0; k < mappings.length; k++) {
      const mapping = mappings[k]!;
      if (mapping.pendingRemap !== null) {
        // A non-fixed mmap never returns a range that is mapped: a seed it takes the whole or a part of was not
        // there yet when the trace mapped its file again (maps-start.txt was read after that mmap), so no remap.
        // Not so in a merged -ff trace, where such an mmap says a munmap is in flight (expectUnmapsInFlight). A seed
        // the trace unmapped, cut or moved (mremap fails on a range not mapped), or its process released, was there.
        const anew = cause === 'replaced' && event !== null && ((event as MmapEvent).flags & MAP_FIXED) === 0 && !this.entryOrdered;
        if (anew) this.log.dropPendingRemap(mapping);
        else this.log.decidePendingRemap(mapping);
      }
      if (mapping.pieces > 0) {
        // Cut or moved, still there: what it holds now is what its finding will show once its last piece goes.
        // Its findings decided and open say what it holds now: maps-end.txt finds it there, and "still mapped at
        // the end" counts that (review 56, F6 and F7; review 58, F1 and F2).
        if (event !== null && (mapping !== remapped || moved !== undefined)) {
          this.heldLater(mapping, cause === 'replaced' ? 'mmap' : (event as TraceEvent).kind !== 'mremap' ? 'munmap' : mapping === moved ? 'mremap' : 'mremap-over', event);
        } else if (mapping.pendingOrphan !== null) mapping.pendingOrphan.held = stillMapped(mapping);
        continue;
      }
      if (!mapping.file.deleteRecord(mapping)) continue;
      if (this.deletedSeeds.size > 0) this.deletedSeeds.delete(mapping);
      if ((cause === 'munmap' || cause === 'replaced') && event !== null && this.lookedUpAfter) this.checkGoneAfterRelease(mapping, mapping.space.ownerTgid, event, 'unmap');
      if (this.goneSeeds.size > 0) this.seedReleased(mapping, event, cause);
      const pending = mapping.pendingOrphan;
      if (pending !== null) {
        this.pendingOrphans.delete(mapping);
        mapping.pendingOrphan = null;
        if (pending.origin === 'continued' && (cause === 'munmap' || cause === 'replaced')) {
          // Another mapping of the leak may follow: decided once none does (continued).
          const before = this.continuations.get(mapping.file);
          if (before !== undefined && before.mapping.space !== mapping.space) this.decideContinuation(mapping.file);
          else if (before !== undefined) this.superseded(before.mapping);
          this.continuations.set(mapping.file, { mapping, pending, unmapped: copyOfEvent(event), evidenceEnd: mapping.file.evidenceMark(event) });
          if (mapping.remapFinding !== null) this.log.resolve(mapping.remapFinding, how, event);
          continue;
        }
        // An exec drops what a fork copied unused; a snapshot mapping that a traced mmap makes anew was that very mapping.
        // A leak's mapping released by an exec was used: the leak lasted until then.
        const unused = (cause === 'exec' && pending.origin !== 'continued') || (cause === 'replaced' && pending.origin === 'snapshot' && pending.traced !== true);
        if (pending.origin === 'continued' && !unused) pending.remapped = this.takeUnlisted(mapping);
        if (pending.traced === true && pending.unlinkedAt === null && !mapping.file.gone) {
          // Whether it is the one maps-start.txt listed is not known yet: decided at the end (windowReleased).
          const released = this.windowReleased.get(mapping.address);
          const entry = { mapping, pending, how, event: copyOfEvent(event) };
          if (released === undefined) this.windowReleased.set(mapping.address, [entry]);
          else released.push(entry);
          if (mapping.remapFinding !== null) this.log.resolve(mapping.remapFinding, how, event);
          this.files.forgetIfUnused(mapping.file);
          continue;
        }
        if (!unused) this.log.decidePending(mapping, pending);
      }
      if (mapping.unlinkFinding !== null) this.log.resolve(mapping.unlinkFinding, how, event);
      if (mapping.remapFinding !== null) this.log.resolve(mapping.remapFinding, how, event);
      this.files.forgetIfUnused(mapping.file);
    }
  }

  /**
   * A non-fixed mmap returned a range that was still live: its munmap had
   * happened in the kernel but is printed later (merged -ff traces carry entry
   * times). Remember the old ranges so that late munmap does not remove the
   * new mapping.
   */
  private expectUnmapsInFlight(space: Space, replaced: readonly MappingState[]): void {
    const pending = this.unmapsInFlight.get(space) ?? new Map<number, number>();
    for (const mapping of replaced) pending.set(mapping.address, pageEnd(mapping.address, mapping.length));
    while (pending.size > MAX_UNMAPS_IN_FLIGHT) pending.delete(pending.keys().next().value as number);
    if (pending.size > 0) this.unmapsInFlight.set(space, pending);
  }

  private consumeUnmapInFlight(space: Space, start: number, end: number): boolean {
    const pending = this.unmapsInFlight.get(space);
    if (pending?.get(start) !== end) return false;
    pending.delete(start);
    return true;
  }
}

/** The lines of maps-start-gone.txt and its -late twin, by their start. */
function goneLinesByStart(gone: GoneAtExit): Map<number, { line: EndMapping; late: boolean }> | null {
  if (gone.lines.length === 0 && gone.late.length === 0) return null;
  const byStart = new Map<number, { line: EndMapping; late: boolean }>();
  for (const line of gone.lines) byStart.set(line.start, { line, late: false });
  for (const line of gone.late) byStart.set(line.start, { line, late: true });
  return byStart;
}

/** The directory that holds `name`: "/" for a name at the root. */
function directoryOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash <= 0 ? '/' : name.slice(0, slash);
}

/** The trace's file is the one of a deleted file's seed (seedTaken): by inode when both know it, else by the name the kernel printed. */
function seedIsOf(seed: { path: string; inode: Inode | undefined }, file: FileNode): boolean {
  if (seed.inode !== undefined && file.inode !== null) return seed.inode.dev === file.inode.dev && seed.inode.ino === file.inode.ino;
  return file.names.has(seed.path);
}

/**
 * The file the engine holds is the one a maps line names: by inode when both
 * know it, else by a name the trace gave it. An inode is used again once its
 * file is gone: the same inode under another name is another file, made after
 * the trace ended (a name the trace spelled otherwise still has the same last
 * component, and one bpftrace cut is the start of the real one).
 */

function sameFile(file: FileNode, line: EndMapping): boolean {
  if (file.inode !== null && line.inode !== null) {
    if (file.inode.dev !== line.inode.dev || file.inode.ino !== line.inode.ino) return false;
    return file.history.some((name) => nameMayBe(name, line.path));
  }
  // Or a name it has now: strace -yy's path through a symlinked directory the program did not spell (review 42, G3).
  return file.history.includes(line.path) || file.names.has(line.path);
}

/**
 * The piece the engine holds is the line's own mapping by all /proc tells of
 * it but its name: the same range, offset and inode (the trace's, or
 * maps-start.txt's). A name it lost out of
 * sight is no other file (review 65, F-2: mold renamed a running program to
 * `.mold-XXXXXX`, then removed it: each finding said the mapping was made
 * after the trace, at its maps-end.txt line, though maps-start.txt showed it).
 */
function samePiece(piece: Piece<MappingState>, line: EndMapping, inode: Inode | null): boolean {
  const { address, offset } = piece.record;
  if (inode === null || line.inode === null || inode.dev !== line.inode.dev || inode.ino !== line.inode.ino) return false;
  return piece.start === line.start && piece.end === line.end && offset + (piece.start - address) === line.offset;
}

/** sameFile for maps read while the mapping the engine holds was still live (Mappings.deletedAtEnd): by inode alone when both know it. */
function sameInode(file: FileNode, line: EndMapping): boolean {
  if (file.inode === null || line.inode === null) return sameFile(file, line);
  return file.inode.dev === line.inode.dev && file.inode.ino === line.inode.ino;
}

/**
 * The trace's name `name` may be the name /proc shows (`shown`) for the same
 * file: the same last component, since the directory may be spelled another
 * way (a symlinked directory, a relative name); or the start of it (a name
 * bpftrace cut). Another file mapped at the address since (after the trace
 * ended) has another name.
 */
export function nameMayBe(name: string, shown: string): boolean {
  return name.slice(name.lastIndexOf('/') + 1) === shown.slice(shown.lastIndexOf('/') + 1) || shown.startsWith(name);
}

/**
 * nameMayBe for a finding's file, by any name it had: /proc prints the name
 * a mapping was made by, which a link, then an unlink, may have taken before
 * the last name went (review 47, P4: `link(db, db.2); unlink(db); unlink(db.2)`,
 * the finding at db.2 read as not in the maps, and the maps line of db as a
 * second leak).
 */
export function findingNameMayBe(finding: { path: string; names: readonly string[] }, shown: string): boolean {
  return nameMayBe(finding.path, shown) || finding.names.some((name) => nameMayBe(name, shown));
}

/**
 * The trace shows the name the mapping was made by removed, and another name
 * (a hard link) keeping the file: one it knows, or one the kernel counted
 * that it does not (bpftrace's nlink, HiddenLinks; review 32: maps-end.txt's
 * "(deleted)" made a finding of a file a link made before the trace kept).
 */
function keptByAnotherName(file: FileNode, path: string): boolean {
  if (file.gone || file.unnamed || file.names.has(path) || !file.history.includes(path)) return false;
  return file.names.size > 0 || file.hiddenLinks > 0;
}

/** A file a rename out of sight took one of its names from (samePiece) still has another: one more the trace knows, or one the kernel counted. */
function keptOnceRenamed(file: FileNode): boolean {
  if (file.gone || file.unnamed) return false;
  return file.names.size > 1 || file.hiddenLinks > 0;
}

/** What the live mappings of these spaces hold, and how much of it is of deleted files. */
export function measure(spaces: Iterable<Space>): MappingStats {
  let liveMappings = 0;
  let deletedMappings = 0;
  let deletedBytes = 0;
  for (const space of spaces) {
    liveMappings += space.liveCount;
    for (const piece of space.pieces()) {
      const file = piece.record.file;
      // An O_TMPFILE file no link has named prints "(deleted)" too.
      if (!file.gone && !file.unnamed) continue;
      deletedMappings++;
      deletedBytes += piece.end - piece.start;
    }
  }
  return { liveMappings, deletedMappings, deletedBytes };
}

/** The first of `pieces` (in address order) overlapping [start, end). */
function firstOverlappingOf(pieces: readonly Piece<MappingState>[], start: number, end: number): Piece<MappingState> | undefined {
  const piece = pieces[firstEndingAfter(pieces, start)];
  return piece !== undefined && piece.start < end ? piece : undefined;
}

/** An event's facts a finding may cite later, apart from the event (which a reader refills for the next line). */
function copyOfEvent(event: EventBase | null): EventBase | null {
  if (event === null) return null;
  const copy: EventBase = { place: { file: event.place.file, line: event.place.line }, time: event.time === null ? null : flatCopy(event.time), seconds: event.seconds, tid: event.tid, raw: '' };
  if (event.comm !== undefined) copy.comm = flatCopy(event.comm);
  // Which of two calls released a mapping first (FindingLog.releasedDuringUnlink): a call is ordered by its entry when it has one.
  if (event.enteredSeconds !== undefined) copy.enteredSeconds = event.enteredSeconds;
  return copy;
}

/** `ranges` with [start, end) taken out of them (a new list). */
function withoutRange(ranges: readonly [number, number][], start: number, end: number): [number, number][] {
  const left: [number, number][] = [];
  for (const [from, to] of ranges) {
    if (to <= start || from >= end) left.push([from, to]);
    else {
      if (from < start) left.push([from, start]);
      if (to > end) left.push([end, to]);
    }
  }
  return left;
}

/** The parts of `piece` outside every range of `ranges` (in address order). */
function withoutRanges<T extends { start: number; end: number }>(piece: T, ranges: readonly [number, number][]): T[] {
  const parts: T[] = [];
  let at = piece.start;
  for (const [from, to] of ranges) {
    if (to <= at || from >= piece.end) continue;
    if (from > at) parts.push({ ...piece, start: at, end: from });
    at = Math.max(at, to);
  }
  if (at < piece.end) parts.push(at === piece.start ? piece : { ...piece, start: at, end: piece.end });
  return parts;
}

/** `items` by the start `startOf` gives each, in their order. */
function groupedByStart<T>(items: Iterable<T>, startOf: (item: T) => number): Map<number, T[]> {
  const grouped = new Map<number, T[]>();
  for (const item of items) {
    const start = startOf(item);
    const group = grouped.get(start);
    if (group === undefined) grouped.set(start, [item]);
    else group.push(item);
  }
  return grouped;
}

// File identities: one per file, not per name. A name leads to the identity;
// rename moves the name, unlink removes it, and the file is gone when its last
// name goes. Where the tracer reports an inode (bpftrace, maps snapshots), the
// inode wins over the name. Names are resolved against the process's cwd.
// A name can have two spellings: the path the process gave, and the path the
// kernel resolved when it differs (a symlinked directory, a cwd reached
// through one; strace -y prints it, orphanmap.bt describes it): either one
// leads to the file, and removing either removes the name (issue #10).
// A path whose last component is a symlink to the file is no name of it: the
// file is named by the kernel's path, and unlinking the symlink leaves it be.
// The symlinks the trace shows made (symlink, symlinkat) are followed.
// A name the tracer cut (bpftrace at BPFTRACE_STRLEN) is matched with no
// other: cut-names.ts.
import { nameTag } from '../parse/bpftrace-dirs.js';
import { nameBytes } from '../parse/byte-names.js';
import type { ChdirEvent, DirRef, EventBase, EvidenceKeeper, Inode, LinkEvent, NameMissingEvent, RealNameClue, RenameEvent, SymlinkEvent, UnlinkEvent } from '../parse/events.js';
import { flatCopy } from '../parse/flat-copy.js';
import { deletedKind } from '../parse/maps.js';
import type { Counters } from './counters.js';
import { CutNames } from './cut-names.js';
import type { UntracedCopies } from './untraced-copies.js';
import { nameWentAt, type FindingLog } from './finding-log.js';
import type { At, EvidenceLine } from './findings.js';
import type { RunningImages } from './images.js';
import { type EvidenceMark, KeptEvidence } from './kept-evidence.js';
import type { MappingState, SeedMapping, Space } from './mappings.js';
import { ForgottenNames } from './forgotten-names.js';
import { sameGeneration, sameNumbers } from './inode.js';
import { baseName, lastTwoComponents, NameIndex, parentOf } from './name-index.js';
import { type HeldSince, ReplacedNames, UNNAMED_HOLDERS } from './replaced-names.js';
import type { Task } from './tasks.js';

/** The names of every file that is gone: none, and none can be given (its names went with it; nothing names it again). */
class NoNames extends Set<string> {
  override add(name: string): this {
    throw new Error(`a file that is gone took a name: ${name}`);
  }
}
const NO_NAMES: Set<string> = new NoNames();
const NO_HISTORY: readonly string[] = [];
const NO_RECORDS: readonly MappingState[] = [];
/** What a finding of a removal the trace does not show says of it (Files.wentOutOfSight). */
export const REMOVED_OUT_OF_SIGHT =
  'its last name went by a call the trace does not show: a process the trace does not follow removed or replaced the file ' +
  "(a rename over it, an unlink), or the capture's filter left the call out. The delay counts from there.";
/** How strace before 6 (and readlink) end the path of an fd whose file lost that name. */
export const DELETED_IN_ANNOTATION = ' (deleted)';

/** Processes a file's heldSince names; the others are counted under UNNAMED_HOLDERS. */
const HELD_PIDS_NAMED = 64;
/**
 * Files forgotten with their names that an inode can wake (Files.wake): the
 * most recent this many. A file whose fd went over a unix socket is mapped
 * soon after its sender's close; a bound keeps a capture of millions of
 * short opens from keeping them all.
 */
const DORMANT_FILES = 4096;
/** Names a rename gave a file the trace let go, kept while hidden names are watched (Files.namesElsewhere). */
const NAMES_ELSEWHERE_KEPT = 4096;
/** Names a file's history keeps (FileNode.record): its first, and the newest after it. */
const HISTORY_KEPT = 32;
/**
 * Files with two names or more that nothing holds, kept by their names
 * (Files.keepLinked): the most recent this many. A backup tool's `cp -al`
 * under the trace makes a link of every file it copies.
 */
const LINKED_KEPT = 4096;

/** Names a replaced symlink took from mapped files, kept for a call by them (Files.swappedNames): a deploy swaps a few. */
const SWAPPED_KEPT = 4096;

export class FileNode {
  /** Every name known now, in each of its spellings; a file gone has none, and shares one set for it. */
  names: Set<string> = new Set<string>();
  /**
   * Each spelling of a name that has several → all of them (`/d/link/f`,
   * `/d/real/f`), one set shared; null while no name has two (most files:
   * a map per file was about 200 bytes of each finding's).
   */
  spellings: Map<string, Set<string>> | null = null;
  /**
   * Every name, in the order the file had them: a new array for each new
   * name, never changed, so the findings decided since share it as their
   * `names` instead of a copy each (and an array grown by push had room for
   * 16 more).
   */
  history: readonly string[] = NO_HISTORY;
  /**
   * Names it has that the tracer cut (CutNames): in no index, but names all
   * the same, unless a whole name of the file begins with one. Null for most files.
   */
  cutNames: Set<string> | null = null;
  /** The inode the file is indexed by (Files.byInode), once the tracer named one. */
  inode: Inode | null = null;
  /**
   * Names the kernel counted that the trace does not know (HiddenLinks): a
   * link count bpftrace reported above the names known then (a hard link
   * made before the trace). 0 for most files.
   */
  hiddenLinks = 0;
  /** Its mappings made or live since an open by one of its names last reached it (ReplacedNames), by process. */
  heldSince: HeldSince | null = null;
  size: number | null = null;
  /** Sequence number of the last size change, -1 if none seen. */
  sizeChangeSeq = -1;
  /** Where an open with O_TRUNC made the last size change ("trace.txt:12"); null when it was no such open. */
  emptiedAt: string | null = null;
  fdRefs = 0;
  /** Address spaces that run the file as their program (RunningImages): the kernel maps it, no mmap shows it. */
  runningIn = 0;
  /**
   * The file's live mappings, in every address space, in the order they were
   * made: one on its own, a set while there are two or more (a set for each
   * file was about 150 bytes, and most files have one mapping at a time).
   */
  private onlyRecord: MappingState | null = null;
  private records: Set<MappingState> | null = null;
  gone = false;
  /**
   * An O_TMPFILE file no link has named yet: it has no name, and was never
   * unlinked (Files.nameless). A mapping of it is one of a file with no name
   * left, as one made after the unlink of a file's last name is.
   */
  unnamed = false;
  /**
   * Known only as the file of an fd no call of the trace opened, with no -y
   * annotation to name it (Files.openedBeforeTrace): received over a unix
   * socket, inherited, or opened before the trace. An mmap of it, or of a
   * copy of its fd, maps a file nothing names (Fds.mappedUnknownFd).
   */
  unknownOrigin = false;
  /**
   * The file went while an fd still held it (an fd can map it after): the
   * unlink, and the names it last had (Files.goneByName lists it by them).
   */
  wentHeld: { at: At; names: readonly string[] } | null = null;
  /** The trace showed an open with O_CREAT|O_EXCL make it (Files.madeHere): no process mapped it before the trace. */
  madeInTrace = false;
  /**
   * The address spaces that held the file mapped when its last name went
   * (an error finding each), or, when it went out of the trace's sight, the
   * one that had mapped it by its name: a mapping they make of it after is
   * the same leak going on (a resize mapping the deleted file again through
   * the fd kept open), not the shared-memory idiom of MAPPED_WITH_NO_NAME.
   * Null for most files.
   */
  leakedIn: Space[] | null = null;
  /** The last address space that mapped the file while it had a name: a removal out of sight left it using the file (leakedIn). */
  mappedNamedIn: Space | null = null;
  /** Findings of the file: they keep its evidence (findingLife). */
  findingRefs = 0;
  /** What each event's keeper kept of it (positions in the input; ingest's): lines are only built for a report. */
  private readonly kept = new KeptEvidence();
  /** What its findings hold of it, once it has one. */
  private life: FileLife | null = null;
  /** A name of it went with a symlink on its way (Files.swappedNames lists it): looked for there when it is forgotten. */
  swappedOut = false;
  /**
   * An open of a name of it reached another inode (Files.openedInode): it lost that name where the trace does not
   * show it, and once nothing holds it the kernel may free its inode number and give it to a file made since.
   */
  replacedUnseen = false;
  /**
   * The kernel named it: an open's -y path or inode, an fd's -y annotation,
   * a bundle's snapshot (/proc/PID/maps, readlink of /proc/PID/fd).
   * Another file reached by another spelling would have been found by that
   * path or inode (Files.toldApart); a file made by a link of a name the
   * trace did not know was named by no one but the call (review 43, F1).
   */
  kernelNamed = false;

  constructor(
    readonly id: number,
    name: string | null,
  ) {
    if (name !== null) this.addName(name);
  }

  /** Held by something the trace shows: an fd, a live mapping, a process running it. The kernel keeps its inode number. */
  get held(): boolean {
    return this.fdRefs > 0 || this.recordCount > 0 || this.runningIn > 0;
  }

  get recordCount(): number {
    return this.records?.size ?? (this.onlyRecord === null ? 0 : 1);
  }

  addRecord(mapping: MappingState): void {
    if (this.records !== null) this.records.add(mapping);
    else if (this.onlyRecord === null) this.onlyRecord = mapping;
    else if (this.onlyRecord !== mapping) {
      this.records = new Set([this.onlyRecord, mapping]);
      this.onlyRecord = null;
    }
  }

  /** False when the mapping was not one of the file's. */
  deleteRecord(mapping: MappingState): boolean {
    if (this.records === null) {
      if (this.onlyRecord !== mapping) return false;
      this.onlyRecord = null;
      return true;
    }
    if (!this.records.delete(mapping)) return false;
    if (this.records.size === 1) {
      this.onlyRecord = this.records.values().next().value as MappingState;
      this.records = null;
    }
    return true;
  }

  /** An open by a name reached it: its count of mappings held starts again from those live now (ReplacedNames). */
  sighted(): void {
    if (this.recordCount === 0) {
      this.heldSince = null;
      return;
    }
    const held: HeldSince = new Map();
    for (const mapping of this.liveRecords()) held.set(mapping.space.ownerTgid, (held.get(mapping.space.ownerTgid) ?? 0) + 1);
    this.heldSince = held;
  }

  /** A mapping of it made by process `pid` (or a fork's copy of one). */
  heldBy(pid: number): void {
    this.heldSince ??= new Map();
    const named = this.heldSince.get(pid);
    // Past HELD_PIDS_NAMED processes, the rest are counted under 0, unnamed: a server forks a child a request for ever.
    const key = named !== undefined || this.heldSince.size < HELD_PIDS_NAMED ? pid : UNNAMED_HOLDERS;
    this.heldSince.set(key, (this.heldSince.get(key) ?? 0) + 1);
  }

  /** The live mappings, in the order they were made; not to be changed while walked. */
  liveRecords(): Iterable<MappingState> {
    return this.records ?? (this.onlyRecord === null ? NO_RECORDS : [this.onlyRecord]);
  }

  /** @param name a flat string (flatCopy), not a slice of a line */
  addName(name: string): void {
    this.names.add(name);
    if (this.history[this.history.length - 1] !== name) this.record(name);
  }

  /**
   * A name the file had: a new history, one longer (copied by hand: concat
   * took 0.4 µs, freeze 0.13), or, past HISTORY_KEPT, without the oldest
   * name after the first. Every copy grew with the renames before it: a
   * directory of N mapped files renamed R times cost N·R² (review 31, attack
   * F2: a 435 KB trace took 219 s and 900 MB). /proc names a mapping by its
   * file's name now, which the newest names hold.
   */
  record(name: string): void {
    const old = this.history;
    const skip = old.length >= HISTORY_KEPT ? 1 : 0;
    const history = new Array<string>(old.length + 1 - skip);
    let k = 0;
    if (old.length > 0) history[k++] = old[0]!;
    for (let j = 1 + skip; j < old.length; j++) history[k++] = old[j]!;
    history[k] = name;
    this.history = history;
  }

  get displayName(): string {
    return this.history[this.history.length - 1] ?? `(file #${this.id})`;
  }

  /** displayName while the file has that name, else one it has: a warning must not name a file by a spelling it lost (review 41, F0). */
  get nameNow(): string {
    const shown = this.displayName;
    return this.names.has(shown) ? shown : (this.names.values().next().value ?? shown);
  }

  /** @param keeper what is kept of the event (none: the event itself) */
  note(event: EventBase, keeper: EvidenceKeeper | undefined): void {
    this.kept.add(event, keeper);
  }

  /** What a finding of the file holds of it: the file again, if it was let go (letGoOfFindings) and something reached it since. */
  findingLife(): FileLife {
    if (this.life === null) this.life = new FileLife(this, this.kept);
    else this.life.file = this;
    return this.life;
  }

  /**
   * Its findings no longer hold the file, only its evidence: it has no name
   * left and nothing holds it (no fd, no mapping, no process runs it), so no
   * call can reach it, and what the engine knew of it (its inode, names,
   * holders, the address spaces it leaked in) is freed with it. bt10's
   * 22,572 findings each kept a file of its own (issue #14, goal 3).
   */
  letGoOfFindings(): void {
    if (this.life !== null) this.life.file = null;
  }

  /** Where the part of the life of a finding resolved now, by `event` (null: by none of this file's), ends. */
  evidenceMark(event: EventBase | null): EvidenceMark {
    return this.kept.mark(event);
  }
}

/** What a file's findings hold of it (FileNode.findingLife): its evidence, and the file until it is let go (FileNode.letGoOfFindings). */
export class FileLife {
  constructor(
    /** Null once let go: no call can reach the file, nor change its names. */
    public file: FileNode | null,
    readonly kept: KeptEvidence,
  ) {}

  /**
   * The file's life as lines. Read again from the input for positions kept
   * (a view may ask several times in a row for one finding: the last reading
   * is kept, for one file at a time).
   */
  evidence(until: EvidenceMark | null): EvidenceLine[] {
    const kept = this.kept;
    if (lastRead.kept !== kept || lastRead.added !== kept.added || lastRead.until !== until) {
      lastRead = { kept, added: kept.added, until, lines: kept.lines(until) };
    }
    return [...lastRead.lines];
  }
}

/** How many links the file has as the trace knows them: its names, the spellings of one name counted once. */
function linkCount(file: FileNode): number {
  const spellings = file.spellings;
  if (spellings === null) return file.names.size;
  let alone = 0;
  const groups = new Set<Set<string>>();
  for (const name of file.names) {
    const group = spellings.get(name);
    if (group === undefined) alone++;
    else groups.add(group);
  }
  return alone + groups.size;
}

let lastRead: { kept: KeptEvidence | null; added: number; until: EvidenceMark | null; lines: EvidenceLine[] } = { kept: null, added: 0, until: null, lines: [] };

/** A file opened through a symlink to it, with what bpftrace told of its own name (Files.realNameClues). */
interface AwaitedName {
  file: FileNode;
  /** The symlink's name, which the file goes by until its own is found. */
  spelled: string;
  bytes: number;
  tag: number;
}

/** What a call that named nothing known did, had it reached the mapped file: a doubt's warning says it. */
function callDone(call: Misplaced['call']): string {
  return call === 'unlink' ? 'unlinked that file' : call === 'rename' ? 'renamed that file' : 'renamed another file over it';
}

/** The call, as a doubt's warning begins: `unlink of`, `rename of`, `rename over`. */
function callOf(call: Misplaced['call']): string {
  return call === 'rename to' ? 'rename over' : `${call} of`;
}

/** A relative unlink or rename that named nothing known while a file with its last component was mapped: the first one, for the report's warning. */
interface Misplaced {
  call: 'unlink' | 'rename' | 'rename to';
  given: string;
  resolved: string;
  /** What the name is relative to: the working directory, or a directory fd the trace never opened. */
  dir: number | 'cwd';
  /** For an fd: the directory the trace last saw it opened on, in a trace that shows no close (else null). */
  staleDir: string | null;
  mapped: string;
  pid: number;
  /** The process that maps it: the caller's, or any for a name relative to an fd the trace never opened. */
  mappedBy: number;
  at: string;
}

/**
 * Relative names of unlinks and renames that resolved to a name no call in
 * the trace named, while a file with the same last component, elsewhere, was
 * mapped in the process: the directory the trace resolved them against may
 * not be the one the process was in (an fchdir a filter left out), and the
 * leak of that file is missed. Counted, the first kept, for one warning.
 */
/** Cases of one warning: counted, the first kept, for a warning that names it and says how many more. */
export class FirstOfMany<T> {
  count = 0;
  protected first: T | null = null;

  add(item: T): void {
    if (this.count++ === 0) this.first = item;
  }
}

/** A mapping in doubt, as DoubtfulCalls.doubt is given one: its own state when the engine has it (settle). */
interface DoubtedMapping {
  id: number;
  space: { ownerTgid: number };
  address?: number;
  length?: number;
  pieces?: number;
}

/** Calls that may have removed a mapped file's last name where the trace cannot tell: the first kept for a warning, the mappings live then in doubt. */
export class DoubtfulCalls<T> extends FirstOfMany<T> {
  private readonly doubted = new Map<number, { pid: number; name: string; mapping: DoubtedMapping }>();
  private settled = 0;

  /** The live mappings of the file such a call may have removed (named `name`) may have outlived it. */
  doubt(mappings: Iterable<DoubtedMapping>, name: string): void {
    for (const mapping of mappings) if (!this.doubted.has(mapping.id)) this.doubted.set(mapping.id, { pid: mapping.space.ownerTgid, name, mapping });
  }

  /** Each mapping in doubt, but those a finding of that process and name covers. */
  inDoubt(found: (pid: number, name: string) => boolean): { pid: number; name: string }[] {
    return [...this.doubted.values()].filter(({ pid, name }) => !found(pid, name)).map(({ pid, name }) => ({ pid, name }));
  }

  /**
   * Process `pid`'s mappings in doubt by `name`, still live at the end and
   * within [start, end), the range of a line of its maps then whose file a
   * count after the trace found with a name left: no doubt (Engine.keptAtEnd).
   * Not one released before: a file made since under the same name (and the
   * same inode number, as ext4 gives one freed) may be what the line shows
   * (review 34's code review, 3).
   */
  settle(pid: number, name: string, start: number, end: number): void {
    for (const [id, doubt] of this.doubted) {
      const { address, length, pieces } = doubt.mapping;
      if (doubt.pid !== pid || doubt.name !== name || address === undefined || length === undefined || pieces === 0) continue;
      if (address < start || address + length > end) continue;
      this.doubted.delete(id);
      this.settled++;
    }
  }

  /** Every doubt was settled: a note would tell of none. */
  protected get allSettled(): boolean {
    return this.settled > 0 && this.doubted.size === 0;
  }
}

/**
 * Files with names the trace does not know: bpftrace's mmap or ftruncate
 * counted more links than the names known then (`cp -al`, `git clone
 * --local`: hard links made before the trace). Losing every known name is
 * not losing the last (review 30, M1: an error where the program's fstat
 * said one link was left, and `scan` of the same process said none leaked).
 * Only a removal the trace ties to no file may have taken a hidden name:
 * once one came, the file's mappings live when its last known name goes,
 * or when such a removal comes after, are in doubt. A later link count
 * settles it (Files.linkCountSeen).
 */
export class HiddenLinks extends DoubtfulCalls<{ name: string; pid: number; links: number; countedAt: string; removedAt: string }> {
  /** Files with hidden names (hiddenLinks > 0): where their links were counted, and how many removals tied to no file had come then. */
  private readonly watched = new Map<FileNode, { countedAt: string; links: number; untiedBefore: number }>();
  /** Those of them with no known name left: a removal tied to no file may take their last (untiedRemoval). */
  private readonly onlyHidden = new Set<FileNode>();
  /** Removals tied to no file so far, and where the last was. */
  private untied = 0;
  private untiedAt = '';
  /** Files untiedRemoval looked at so far: linear in the removals and the files; for tests, never in a report. */
  steps = 0;

  get watching(): boolean {
    return this.watched.size > 0;
  }

  /**
   * The kernel counted `nlink` names of `file` at `event` (nlink > 0): those
   * the trace does not know are hidden (its known ones counted once however
   * many spellings each has: linkCount). Not for a file the trace never knew
   * by a name (an fd from before it, with no annotation): every removal
   * would be one of its, and its names were never followed
   * (UnnamedMappings). One whose known names went, and that had hidden
   * ones, has only those.
   */
  counted(file: FileNode, nlink: number, place: { file: string; line: number }): void {
    const known = linkCount(file);
    const hidden = file.gone || file.cutNames !== null || (known === 0 && file.hiddenLinks === 0) ? 0 : nlink - known;
    if (hidden <= 0) {
      this.forget(file);
      return;
    }
    file.hiddenLinks = hidden;
    // Made here, not by the caller: every mmap of a bpftrace trace comes with a count.
    this.watched.set(file, { countedAt: `${place.file}:${place.line}`, links: nlink, untiedBefore: this.untied });
    if (known === 0) this.onlyHidden.add(file);
    else this.onlyHidden.delete(file);
  }

  /**
   * A file maps-start.txt printed "(deleted)" whose links the capture
   * counted (`nlink` > 0, maps-start.nlink): the name it was mapped by went
   * before the trace, and names it does not know keep it.
   */
  seededNameless(file: FileNode, nlink: number, countedAt: string): void {
    file.hiddenLinks = nlink;
    this.watched.set(file, { countedAt, links: nlink, untiedBefore: this.untied });
    this.onlyHidden.add(file);
  }

  /**
   * A snapshot or an annotation (`at`) shows a name of `file`, which has
   * hidden ones, gone by no call the trace shows: the hidden ones may keep
   * it, or have gone too. `mappings` (its live ones, unless given: a
   * snapshot's, of a process that has exited) are in doubt, and true; false
   * if it has no hidden names, or no such mapping (review 32: a finding,
   * though a link made before the trace kept the file).
   */
  goneOutOfSight(file: FileNode, at: string, mappings: Iterable<MappingState> = file.liveRecords()): boolean {
    const watched = this.watched.get(file);
    if (watched === undefined || file.gone) return false;
    return this.doubtAll([...mappings], file, watched.countedAt, watched.links, at);
  }

  /** The file has no hidden name, or the engine lets it go (a link count of 0, gone, forgotten). */
  forget(file: FileNode): void {
    file.hiddenLinks = 0;
    this.watched.delete(file);
    this.onlyHidden.delete(file);
  }

  /**
   * The last known name of `file`, which has hidden ones, went: it keeps a
   * name, unless a removal tied to no file came since its count (then its
   * live mappings are in doubt).
   */
  lastKnownNameGone(file: FileNode): void {
    const watched = this.watched.get(file);
    if (watched === undefined) return;
    this.onlyHidden.add(file);
    if (this.untied > watched.untiedBefore) this.doubtLive(file, watched.countedAt, watched.links, this.untiedAt);
  }

  /**
   * A name the trace ties to no file was removed at `event`: perhaps a hidden
   * name, the last of a file with no known one. Each such file's live
   * mappings are in doubt from here, once: the next of its mappings comes
   * with a link count of its own (counted), which watches it again. Walking
   * them all at every removal cost N·M (review 32 attack, F4: 16,000 of each
   * in a 10.9 MB trace, 113 s).
   */
  untiedRemoval(event: EventBase): void {
    this.untied++;
    this.untiedAt = `${event.place.file}:${event.place.line}`;
    for (const file of this.onlyHidden) {
      this.steps++;
      const watched = this.watched.get(file);
      if (file.gone || watched === undefined) this.forget(file);
      else this.doubtLive(file, watched.countedAt, watched.links, this.untiedAt);
    }
    this.onlyHidden.clear();
  }

  private doubtLive(file: FileNode, countedAt: string, links: number, removedAt: string): void {
    this.doubtAll([...file.liveRecords()], file, countedAt, links, removedAt);
  }

  private doubtAll(mappings: readonly MappingState[], file: FileNode, countedAt: string, links: number, removedAt: string): boolean {
    if (mappings.length === 0) return false;
    this.add({ name: file.displayName, pid: mappings[0]!.space.ownerTgid, links, countedAt, removedAt });
    this.doubt(mappings, file.displayName);
    return true;
  }

  note(): string | null {
    const first = this.first;
    if (first === null || this.allSettled) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return (
      `${first.name} had ${first.links} link${first.links === 1 ? '' : 's'} at ${first.countedAt}, more than the names the trace knew (hard links made before it), and ` +
      `its names the trace knew went while process ${first.pid} mapped it; a name the trace tied to no file was removed at ${first.removedAt}${more}: ` +
      'it may have been the last, and the mapping may have outlived it: in doubt. A later mmap or ftruncate of the file would show its link count; on the host, orphanmap scan tells'
    );
  }

  paths(): string[] {
    return this.first === null || this.allSettled ? [] : [this.first.name];
  }
}

/**
 * Files a strace -y annotation showed "(deleted)" under a name the trace
 * never gave them: an fd the trace saw opened on NAME, closed as
 * `close(5</d/X>(deleted))`. The name it was opened by went to X by a call
 * the trace could not tie to the file (a rename through a symlinked
 * directory or a bind mount made before the trace, or by a process not
 * traced), and X was removed: the mapping may have outlived the file's last
 * name (review 32 attack, F2: renamed, then unlinked, and read as clean).
 * In doubt, not a finding: a hard link may keep it, and which removal took
 * the name is not in the trace.
 */
export class GoneUnderUnknownName extends DoubtfulCalls<{ fd: number; shown: string; known: string; pid: number; at: string }> {
  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return (
      `fd ${first.fd} of process ${first.pid}, which the trace saw opened on ${first.known}, was shown "(deleted)" as ${first.shown} at ${first.at}${more}: ` +
      'the file was renamed by a call the trace could not tie to it (through a symlinked directory or a bind mount made before the trace, or by a process not traced) and that name removed. ' +
      'Its mappings live then may have outlived its last name: in doubt. On the host, orphanmap scan tells'
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.known, this.first.shown];
  }
}

/**
 * A process, by its thread group or a space it owns: its pid read when a
 * warning is written, after a thread group guessed from its first thread took
 * its real id (review 64, F-1: warnings named a thread of etcd as the
 * process that removed a file, where the report named etcd's pid).
 */
type Holder = { readonly tgid: number };

/** What to do where a trace with no maps snapshot cannot see mappings made before it (RemovedHeldBeforeTrace, UnknownRemovals). */
const PRE_TRACE_ADVICE = 'On the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan); capture with orphanmap capture --pid, whose maps-start.txt shows such mappings';

/**
 * Unlinks (or renames over) of the last name of a file an attached process held open since
 * before the trace (an fd the trace saw used, never opened), in a trace with
 * no maps snapshot: what that process mapped before the trace is not known,
 * and a mapping of the file made then may have outlived it (review 47, P1:
 * `strace -p` of a SQLite process, its database mapped before the attach and
 * unlinked in the trace, read as clean, `--fail-on error` exit 0). One doubt
 * a file, in the holder's process; the first told.
 */
export class RemovedHeldBeforeTrace {
  private readonly doubted: { name: string; at: string; by: Holder | null; holder: Holder; fd: number }[] = [];
  /** Of each holder (a thread group, whose pid may be learnt later: keyed by the object), the names in doubt, and "NAME\0AT" of each removal. */
  private readonly seenOf = new Map<Holder, Set<string>>();

  removed(holder: Holder, fd: number, name: string, event: EventBase, by: Holder): void {
    this.removedAt(holder, fd, name, `${event.place.file}:${event.place.line}`, by);
  }

  /**
   * `by` null: a process the trace does not follow removed it, and `at` is the call that showed the fd "(deleted)".
   * A file held by two fds shows "(deleted)" on each (review 87, D3: LMDB opens data.mdb twice, and three files
   * removed read as five doubts): one doubt a removal the trace shows (a name removed again later is another file:
   * a log rotated in a loop), and one shown only "(deleted)" is no other doubt when its process has one of that name.
   */
  removedAt(holder: Holder, fd: number, name: string, at: string, by: Holder | null): void {
    let seen = this.seenOf.get(holder);
    if (seen === undefined) {
      seen = new Set();
      this.seenOf.set(holder, seen);
    }
    const removal = by === null ? null : `${name}\0${at}`;
    if (removal === null ? seen.has(name) : seen.has(removal)) return;
    seen.add(name);
    if (removal !== null) seen.add(removal);
    this.doubted.push({ name, at, by, holder, fd });
  }

  /** Each in doubt, but those a finding of that process and name covers. */
  inDoubt(found: (pid: number, name: string) => boolean): { pid: number; name: string }[] {
    return this.left(found).map(({ holder, name }) => ({ pid: holder.tgid, name }));
  }

  private left(found: (pid: number, name: string) => boolean): RemovedHeldBeforeTrace['doubted'] {
    return this.doubted.filter(({ holder, name }) => !found(holder.tgid, name));
  }

  /** Names the first in doubt, and counts those (review 59, M1: it named one a finding covered, and counted it). */
  note(found: (pid: number, name: string) => boolean): string | null {
    const left = this.left(found);
    const first = left[0];
    if (first === undefined) return null;
    const more = left.length > 1 ? ` (and ${(left.length - 1).toLocaleString('en-US')} more like it)` : '';
    const went = first.by === null ? `went where the trace does not show it (fd ${first.fd} shown "(deleted)" at ${first.at})` : `went at ${first.at} (process ${first.by.tgid})`;
    return (
      `the last name of ${first.name} ${went}${more}, a file process ${first.holder.tgid} held open since before the trace (fd ${first.fd}), ` +
      'and the trace has no snapshot of its maps (strace -p, not orphanmap capture --pid): a mapping of it made before the trace is not known, and may have outlived it: in doubt. ' +
      PRE_TRACE_ADVICE
    );
  }

  paths(): string[] {
    return [...new Set(this.doubted.map(({ name }) => name))];
  }
}

/**
 * Names of files the trace holds no mapping of (never opened, or opened and
 * let go), removed by processes that ran before the trace, in a trace with no
 * maps snapshot: a mapping of
 * one made before the trace is not known, and may have outlived it (review
 * 46, L1: `strace -p` of a Lucene JVM missed 80 such leaks, and one generic
 * warning at the end of a 36,000-line report was the only hint; reviews 50
 * and 51 found the same of git and of Kafka's index code, whose JVM closes
 * each index's fd once it is mapped). A warning, not a doubt nor an undecided
 * verdict: most such files were never mapped (a daemon's pid and lock files,
 * sockets, temporary files), and review 53 found `strace -p` of ordinary
 * servers then failing `--fail-on` every time.
 */
export class UnknownRemovals extends FirstOfMany<{ name: string; at: string; by: Holder }> {
  /** How many of them a rename went over, a name the trace knew no file by: it may have been free (review 59, H2: dpkg's `mv -f` of a library). */
  renamedOver = 0;
  /** They came before a bundle's capture read maps-start.txt (Files.removedWhereUnseenMapsRun), not in a trace with no snapshot. */
  beforeStartRead = false;
  /** Process `by` removed `name` at `event` (`renamedOver`: a rename went over it). The first name is kept as a copy. */
  removed(name: string, event: EventBase, by: Holder, renamedOver = false): void {
    this.add({ name: this.count === 0 ? flatCopy(name) : name, at: `${event.place.file}:${event.place.line}`, by });
    if (renamedOver) this.renamedOver++;
  }

  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const gone = this.renamedOver === 0 ? 'went' : this.renamedOver === this.count ? 'were renamed over (replacing a file there, if one was)' : 'went or were renamed over';
    const what =
      this.count === 1
        ? `the name ${first.name}, of a file the trace holds no mapping of, ${this.renamedOver === 0 ? 'went' : 'was renamed over (replacing a file there, if one was)'}`
        : `${this.count.toLocaleString('en-US')} names of files the trace holds no mapping of ${gone} (the first, ${first.name},`;
    if (this.beforeStartRead)
      return (
        `${what} at ${first.at} (by process ${first.by.tgid})${this.count === 1 ? '' : ')'}, while a process that ran before the trace ran, ` +
        'before the capture read its maps (maps-start.txt): a mapping of such a file made after maps-before.txt was read and ended before that read is in neither snapshot, ' +
        'and may have outlived it. On the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan)'
      );
    return (
      `${what} at ${first.at} (by process ${first.by.tgid})${this.count === 1 ? '' : ')'}, while a process that ran before the trace ran, ` +
      `and the trace has no snapshot of its maps (strace -p, not orphanmap capture --pid): a mapping of such a file made before the trace is not known, and may have outlived it. ${PRE_TRACE_ADVICE}`
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.name];
  }
}

/** The names Files.madeNames keeps: the most recent. */
const MADE_NAMES_KEPT = 1024;

/** The names RemovedNames keeps: the most recent. */
const REMOVED_NAMES_KEPT = 1024;

/** Names removed by calls that named no file the trace knew, with where and by which process: the most recent REMOVED_NAMES_KEPT. */
class RemovedNames {
  private readonly removed = new Map<string, { at: string; by: Holder }>();

  note(name: string, event: EventBase, by: Holder): void {
    this.removed.delete(name);
    this.removed.set(flatCopy(name), { at: `${event.place.file}:${event.place.line}`, by });
    if (this.removed.size > REMOVED_NAMES_KEPT) this.removed.delete(this.removed.keys().next().value as string);
  }

  take(name: string): { at: string; by: Holder } | undefined {
    const removed = this.removed.get(name);
    if (removed !== undefined) this.removed.delete(name);
    return removed;
  }
}

/** An unlink or rename by a spelling of a file's name that a replaced symlink on its way took away (Files.spellingsGoneUnder). */
interface Swapped {
  call: Misplaced['call'];
  given: string;
  mapped: string;
  pid: number;
  at: string;
  /** The call that replaced or removed the symlink (or directory) on the way. */
  replaced: string;
  replacedAt: string;
}

/**
 * Unlinks and renames by a name that led to a mapped file through a symlink
 * (or a directory) the trace then saw replaced or removed, and named nothing
 * since: the trace does not show where the name leads now (a symlink made by
 * a call it does not show: a bpftrace capture from before orphanmap.bt
 * printed symlink calls, a filter without them; one made before the trace,
 * replaced by a rename of another), so the call may have reached
 * the file, or another (review 40, F1: the "current release" deploy swaps a
 * symlink back and forth). Counted, the first kept, for one warning.
 */
export class SwappedNames extends DoubtfulCalls<Swapped> {
  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    const done = callDone(first.call);
    return (
      `${callOf(first.call)} ${first.given} at ${first.at} (process ${first.pid})${more} named no file the trace knows, ` +
      `but that name led to the file named ${first.mapped}, mapped then, until ${first.replaced} on its way was replaced or removed at ${first.replacedAt}, and the trace does not show where it leads since ` +
      `(a symlink made by a call the tracer does not print, or before the trace). If it led to that file again, the call ${done}, and a mapping that outlived it would be missed: the mappings live then are in doubt`
    );
  }

  paths(): string[] {
    const first = this.first;
    return first === null ? [] : [first.given, first.mapped, first.replaced];
  }
}

/** A removal or a new name through a magic link of /proc the trace cannot follow (throughUnfollowedLink). */
interface Unfollowed {
  pid: number;
  call: 'unlink' | 'rename' | 'link';
  name: string;
  at: string;
}

/**
 * Names of unlinks, renames and links that still go through a magic link of
 * /proc once resolved: another process's root, cwd or fds (whatever its
 * root, a chroot or a container's, the name reaches what it does there), a
 * cwd or an fd the trace never showed, a symlink the trace made to such a
 * link. Which file they named is not known, so a verdict cannot pass them
 * (review 25: /proc/PID/root of a chrooted process named the mapped file,
 * and a 128 MiB leak read as clean). The first kept, for one warning.
 */
export class UnfollowedNames extends FirstOfMany<Unfollowed> {
  /** "process 7 called unlink at trace.txt:9 by a name through /proc's links …", or null. */
  reason(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more call${this.count > 2 ? 's' : ''} like it)` : '';
    return `process ${first.pid} called ${first.call} at ${first.at} by a name through a link of /proc to a directory the trace does not know${more}, so which file it named is not known`;
  }

  note(): string | null {
    const reason = this.reason();
    if (reason === null) return null;
    return (
      `${reason}: ${this.first!.name} (another process's root, cwd or fd, which may be anything, a chroot's or a container's; or the process's own cwd or fd, which the trace never showed). ` +
      'A mapping that outlived the file may be missed (--fail-on and diff refuse a verdict with no failing finding). On the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan)'
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.name];
  }
}

export class MisplacedNames extends DoubtfulCalls<Misplaced> {
  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    const call = first.call === 'rename to' ? 'rename to the relative name' : `${first.call} of the relative name`;
    const done = callDone(first.call);
    const why =
      first.dir === 'cwd'
        ? 'the working directory the trace knows may not be the one the process was in: a capture filter without chdir and fchdir (-e trace=%file,%memory has no fchdir), ' +
          'or a working directory the trace did not show, may have hidden the real directory. Keep chdir,fchdir in -e trace=, or capture with orphanmap capture. ' +
          'Or the names went through a symlink or a bind mount made before the trace, which no capture shows (a file opened as b/f and unlinked as a/f, b bound to a)'
        : first.staleDir !== null
          ? `it is relative to fd ${first.dir}, which the trace last saw opened on ${first.staleDir}, but the trace shows no close or dup (filtered out with -e trace=…?), so fd ${first.dir} may hold another directory since (the kernel hands the number out again): keep close,dup,dup2,dup3,fcntl in -e trace=, or capture with -y`
          : `it is relative to fd ${first.dir}, which no call in the trace opened and no -y annotation names: the real directory is not known. Capture with -y, or keep the directory's open in -e trace=`;
    return (
      `${call} ${first.given} at ${first.at} (process ${first.pid}) resolved to ${first.resolved}, which no call in the trace named, ` +
      `while ${first.mapped}, a file with the same last component, was mapped in ${first.mappedBy === first.pid ? 'that process' : `process ${first.mappedBy}`}${more}: if the call ${done}, a mapping that outlived it may be missed, so the mappings live then are in doubt; ${why}`
    );
  }

  /** The names note() gives, to be hashed whole under --redact: a path may hold spaces. */
  paths(): string[] {
    const first = this.first;
    return first === null ? [] : [first.given, first.resolved, first.mapped, ...(first.staleDir === null ? [] : [first.staleDir])];
  }
}

/** A name found gone (nameMissing): the file the trace gave it to, the failed call, where, by whom, and a process that maps that file. */
interface MissingName {
  file: FileNode;
  call: string;
  at: string;
  pid: number;
  mappedBy: number;
}

/**
 * An absolute unlink or rename that named no file the trace knows, while a
 * mapped file had a name ending in the same directory and last component
 * (`/lib/x86_64-linux-gnu/libtcl8.6.so` and `/usr/lib/x86_64-linux-gnu/libtcl8.6.so`).
 */
interface Aliased {
  call: Misplaced['call'];
  given: string;
  mapped: string;
  /** The process that called, and the one that maps the file (may be another). */
  pid: number;
  mappedBy: number;
  at: string;
  /** The name went through "..": only its last component is the mapped file's. */
  throughDotDot: boolean;
}

/**
 * Absolute names of unlinks and renames that named nothing the trace knows,
 * while a mapped file, in any process, had a name that ends in the same
 * directory and last component: two spellings of one file through a
 * symlinked directory (`/lib` → `/usr/lib` on a merged-/usr system, where
 * ld.so opens libraries by one and dpkg replaces them by the other) or a
 * bind mount. Without -y the trace cannot tell the names are one file, and
 * the mapping that outlived it is missed; with -y, which prints the real path
 * of an fd but the name an unlink or rename was given, neither when the file
 * was opened by one spelling and removed by the other (review 22). Counted,
 * the first kept, for one warning.
 */
export class AliasedNames extends DoubtfulCalls<Aliased> {
  /** The trace prints fds' real paths (strace -y): the advice differs. */
  fdPathsShown = false;
  /** The trace names the inode each open reaches and the directory that really holds it (bpftrace): so does the advice. */
  inodesShown = false;

  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    const done = callDone(first.call);
    const where = first.mappedBy === first.pid ? 'in that process' : `in process ${first.mappedBy}`;
    return (
      `${callOf(first.call)} ${first.given} at ${first.at} (process ${first.pid}) removed a name of no file the trace saw mapped, while ${first.mapped}, ` +
      (first.throughDotDot
        ? `which has the same last component, was mapped ${where}${more}: the name was given with "..", which the kernel takes from where the symlinks before it lead (one made before the trace is not known), so if it reached that file, the call ${done}, `
        : `which ends in the same directory and name, was mapped ${where}${more}: if the two are one file reached through a symlinked directory (/lib → /usr/lib on a merged-/usr system) or a bind mount, the call ${done}, `) +
      (this.inodesShown
        ? 'and a mapping that outlived it may be missed: bpftrace names the directory that really holds each file opened, but the name an unlink or rename was given, ' +
          'not the inode it reached; the mappings live then are in doubt. Remove and replace such files by the spelling they were opened by'
        : this.fdPathsShown
          ? 'and a mapping that outlived it is missed unless a later call shows its fd "(deleted)": strace -y prints the real path of an fd, but the name an unlink or rename was given; ' +
            'the mappings live then are in doubt. Capture with --backend bpftrace, which names the directory that really holds each name'
          : 'and a mapping that outlived it may be missed: the mappings live then are in doubt. Capture with -y (strace then prints the real path of each fd), or with orphanmap capture')
    );
  }

  /** The names note() gives, to be hashed whole under --redact. */
  paths(): string[] {
    const first = this.first;
    return first === null ? [] : [first.given, first.mapped];
  }
}

export class Files {
  /** Each name known now → the file that has it. */
  private readonly byName = new NameIndex<FileNode>();

  /** Names that lead to a file now: for tests of what a trace makes the engine keep. */
  get namesHeld(): number {
    return this.byName.size;
  }
  /**
   * Device → inode number → the file, while that inode number is the file's.
   * Keyed by the numbers: a `dev:ino` string was built and hashed for every
   * event that names an inode (bpftrace's, all of them).
   */
  private readonly byInode = new Map<number, Map<number, FileNode>>();
  /**
   * The files gone while an fd held them, by the name they last had, in each
   * spelling: what an fd's "(deleted)" annotation names (never the file that
   * has the name now). A file leaves once nothing holds it.
   */
  private readonly goneByName = new Map<string, FileNode>();
  /**
   * The symlinks the trace made (symlink, symlinkat) and that are still
   * there, as far as it shows: path → content, as given. Kept while they
   * exist: a program makes few.
   */
  private readonly links = new NameIndex<string>();
  /**
   * Files forgotten while they had names and an inode (bpftrace), the most
   * recent DORMANT_FILES, oldest first: an mmap of an fd the trace never saw
   * opened that reaches one by its inode wakes it, names and all (wake).
   */
  private readonly dormant = new Set<FileNode>();
  private readonly dormantByInode = new Map<number, Map<number, FileNode>>();
  private readonly dormantByName = new Map<string, FileNode>();
  /** The target of a symlink the trace made, for a ".." after it (resolveName). */
  private readonly linkTargets: SymlinkTarget = (name) => this.links.get(name);
  /** The keeper of the event being applied: what each file it concerns keeps of it (Engine.apply). */
  keeper: EvidenceKeeper | undefined = undefined;
  /** Names the tracer cut, the files that have them, and the mappings calls by them may have orphaned. */
  readonly cut = new CutNames();
  /** Names an open found given to another file (bpftrace's inodes), and what the old one left in doubt. */
  readonly replaced = new ReplacedNames();
  /** Relative unlinks and renames that named nothing while a file with their last component was mapped (checkMisplaced). */
  readonly misplaced = new MisplacedNames();
  /** Unlinks, renames and links by names through /proc's links that the trace cannot follow. */
  readonly unfollowed = new UnfollowedNames();
  /** Files with names the trace does not know, as link counts showed (HiddenLinks). */
  readonly hidden = new HiddenLinks();
  /** Files an fd's annotation showed gone under a name the trace never gave them (GoneUnderUnknownName). */
  readonly goneUnknown = new GoneUnderUnknownName();
  readonly removedHeldBeforeTrace = new RemovedHeldBeforeTrace();
  readonly unknownRemovals = new UnknownRemovals();
  /**
   * Names at which an open with O_CREAT|O_EXCL made a new file, not removed
   * since: the most recent MADE_NAMES_KEPT. Such a file was mapped by no
   * process before the trace, and its removal is none of UnknownRemovals',
   * once the trace has forgotten it too (review 85: PostgreSQL's parallel
   * queries make, map and remove a shared memory file each, and a `strace -p`
   * of the postmaster said 20 names went that a process may have mapped
   * before the trace).
   */
  private readonly madeNames = new Set<string>();
  /** Files an attached process (no execve of it in the trace) held by an fd opened before the trace: the process, and the fd. */
  private readonly heldBeforeTrace = new WeakMap<FileNode, { group: { tgid: number }; fd: number }>();
  /**
   * The inode a maps-start.txt line gave a file that has none from the trace:
   * only to tell whose link count a bpftrace close gives (seedInodeOf), not to
   * find the file by (an overlayfs file's device may differ between the two).
   */
  private readonly seedInodes = new WeakMap<FileNode, Inode>();
  /** The trace saw a file with a name left (Mappings.stillNamed): set by the engine. */
  stillNamed: (file: FileNode) => void = () => {};
  /** Whether the trace shows every mapping of an address space (Mappings.seenFromStart): set by the engine. */
  seenFromStart: (space: Space) => boolean = () => true;
  /** Whether the trace's first process, or a fork of it, ran before it and runs still (Tasks.firstRanBeforeTrace): set by the engine. */
  firstRanBeforeTrace: () => boolean = () => false;
  /** A bundle's maps snapshot seeded the engine: what was mapped before the trace is known (seeded). */
  private snapshotSeeded = false;
  /** Files the root process mapped before the trace, when untraced children may hold copies (UntracedCopies); null without such children. */
  copiedToUntraced: UntracedCopies | null = null;
  /** Names of no file the trace knew that an attached process removed: an fd opened before the trace may show one "(deleted)" later. */
  private readonly unknownRemoved = new RemovedNames();
  /**
   * Files a link made of a name the trace held no file for: perhaps a file it
   * knows by another name, with hidden names (HiddenLinks), so a removal of
   * their names is tied to no file the trace can be sure of (review 32
   * attack, F1: `link(b, c)` of a hard link made before the trace, then b
   * and c unlinked, hid the mapped file's last name).
   */
  private readonly linkedUnknown = new WeakSet<FileNode>();
  /**
   * The trace has shown a close or a dup (Fds): without one, a filter left them
   * out, and what the trace last saw an fd opened on may be gone from it since.
   */
  closesShown = false;
  /** Absolute unlinks and renames that named nothing while a mapped file had a name ending the same way (checkAliased). */
  readonly aliased = new AliasedNames();
  /** Calls by names that a replaced symlink on their way took from a mapped file, and named nothing since (spellingsGoneUnder). */
  readonly swapped = new SwappedNames();
  /**
   * Those names, each with its file and the call that took it, until a
   * symlink the trace made is on their way, or the file, gone, is forgotten:
   * at most SWAPPED_KEPT, the oldest going.
   */
  private readonly swappedNames = new Map<string, { file: FileNode; replaced: string; replacedAt: string }>();
  /**
   * Names that led to a file the trace saw and let go (forgetNow). A call
   * by one that names nothing the trace knows reached that file, not a
   * mapped one in a directory the trace did not follow (checkMisplaced,
   * checkAliased). Review 40, F2: a data directory rotated (c1 renamed
   * c1.old, its file still mapped), a new c1/f created, closed and removed:
   * the removal named the new file, forgotten at its close, and the mapped
   * c1.old/f was put in doubt. Kept only of a file the kernel named, by its
   * one name (forgetNow). The trade: a file created by a name and closed,
   * then an fchdir a filter left out, then a removal by the same relative
   * name of the mapped file in the other directory, reads as clean (the
   * trace shows the first file made there, and nothing of the move).
   */
  private readonly forgottenNames = new ForgottenNames();
  /**
   * Names the trace still gave a mapped file when an open or unlink of them
   * failed with ENOENT, the first such call for each (nameMissing): kept
   * while the trace goes on, to say at its end those it never saw removed.
   */
  private readonly missing = new Map<string, MissingName>();
  /**
   * Files opened through a symlink to them whose own names bpftrace told only
   * by a clue (OpenEvent.realName), by the directory that holds them: such a
   * file goes by the symlink's name until a call names its own (claimRealName).
   */
  private readonly realNameClues = new Map<string, AwaitedName[]>();

  constructor(
    private readonly counters: Counters,
    private readonly log: FindingLog,
    private readonly images: RunningImages,
  ) {}

  /**
   * A directory renamed (or two exchanged: `exchange`): the working
   * directories at or under it go with it (Tasks.directoryMoved), as the
   * kernel's cwd is the directory, whatever it is called (review 25: after
   * `mv w w2`, an unlink of a relative name found no file, and a leak read
   * as clean). Set by the engine.
   */
  directoryMoved: (from: string, to: string, exchange: boolean) => void = () => {};

  /** Names visited to find those under a renamed directory: work counted for tests. */
  get nameSteps(): number {
    return this.byName.steps;
  }

  named(name: string): FileNode | undefined {
    return this.byName.get(name);
  }

  /** An open with O_CREAT|O_EXCL made `file` at `name` (or an open reached a file made so): see madeNames. */
  madeHere(file: FileNode, name: string, created: boolean): void {
    // Not a relative name (strace -p does not know every cwd): another process's file of that name may be another file.
    if ((!created && !this.madeNames.has(name)) || !name.startsWith('/')) return;
    file.madeInTrace = true;
    this.madeNames.delete(name);
    this.madeNames.add(flatCopy(name));
    if (this.madeNames.size > MADE_NAMES_KEPT) this.madeNames.delete(this.madeNames.values().next().value as string);
  }

  /**
   * An open with O_CREAT|O_EXCL made a new file with `inode`: the file the
   * trace held by that number was freed, though the trace may not show it (a
   * close bpftrace missed while its probes attached left its fd open), and is
   * no longer found by it. Review 51, A5: under `capture --pid --backend
   * bpftrace` of a Kafka-like JVM, new index files that ext4 gave freed inode
   * numbers were taken for the deleted segment files that had them: 21 real
   * leaks read as "mapped after its last name was unlinked", benign.
   */
  inodeMadeNew(inode: Inode): void {
    const stale = this.withInode(inode);
    if (stale !== undefined) this.unindexInode(stale);
  }

  withInode(inode: Inode | undefined): FileNode | undefined {
    return inode === undefined ? undefined : this.byInode.get(inode.dev)?.get(inode.ino);
  }

  /**
   * A file forgotten while it had names (forgetIfUnused), reached again by
   * its inode: it takes back the names the trace has not seen go, nor seen
   * given to another file. Review 26: a producer opened a file, sent its fd
   * over a unix socket and closed its own; the consumer mapped the fd it
   * received, and the producer unlinked the file by its name. The trace
   * shows neither the fd in flight nor the consumer's open: forgotten at the
   * producer's close, the file was a new nameless one at the mmap, the
   * unlink named nothing, and the leak read as clean under bpftrace.
   * Only for an fd the trace never saw opened (Fds.fileOfFd): an open names
   * its file, and the kernel hands a freed inode number to the next file
   * made, so an open of another file (one a removal the trace could not tie
   * to the forgotten one freed it) would wake the wrong one, names and all.
   */
  wake(inode: Inode | undefined): FileNode | undefined {
    if (inode === undefined || this.dormant.size === 0) return undefined;
    const file = this.dormantByInode.get(inode.dev)?.get(inode.ino);
    if (file === undefined) return undefined;
    this.letSleep(file);
    this.setInode(file, inode);
    for (const name of [...file.names]) {
      const holder = this.byName.get(name);
      // (A file kept by its names, keepLinked, still holds them.)
      if (holder === undefined) this.byName.set(name, file);
      else if (holder !== file) this.dropName(file, name);
    }
    return file;
  }

  /**
   * Names the trace last saw given to a file it let go, by a rename of a
   * forgotten one (givenToAnotherFile), the most recent NAMES_ELSEWHERE_KEPT:
   * only while HiddenLinks watches.
   */
  private readonly namesElsewhere = new Set<string>();

  /**
   * `name` leads to a file the trace knew and let go, by its inode another
   * than any it watches for hidden names: a forgotten file's, or one a rename
   * gave such a file. Its removal takes no hidden name (review 32, M8: a
   * temporary file opened, closed and unlinked, and a new file renamed over
   * the mapped name, put every such mapping in doubt).
   */
  private ofAnotherFile(name: string): boolean {
    if (this.namesElsewhere.delete(name)) return true;
    return this.dormant.size > 0 && this.dormantByName.has(name);
  }

  private givenToAnotherFile(name: string): void {
    this.namesElsewhere.add(flatCopy(name));
    if (this.namesElsewhere.size > NAMES_ELSEWHERE_KEPT) this.namesElsewhere.delete(this.namesElsewhere.values().next().value!);
  }

  /** The trace removed, renamed or linked `name`: a forgotten file that had it is not woken with it (wake), nor at all. */
  private nameMoved(name: string): void {
    if (this.dormant.size === 0) return;
    const file = this.dormantByName.get(name);
    if (file !== undefined) this.letSleep(file);
  }

  private letSleep(file: FileNode): void {
    if (!this.dormant.delete(file)) return;
    for (const name of file.names) if (this.dormantByName.get(name) === file) this.dormantByName.delete(name);
    const inode = file.inode;
    if (inode === null) return;
    const inodes = this.dormantByInode.get(inode.dev);
    if (inodes?.get(inode.ino) !== file) return;
    inodes.delete(inode.ino);
    if (inodes.size === 0) this.dormantByInode.delete(inode.dev);
  }

  setInode(file: FileNode, inode: Inode): void {
    // A copy: the event's own object is not kept.
    file.inode = inode.gen === undefined ? { dev: inode.dev, ino: inode.ino } : { dev: inode.dev, ino: inode.ino, gen: inode.gen };
    file.kernelNamed = true;
    let inodes = this.byInode.get(inode.dev);
    if (inodes === undefined) {
      inodes = new Map();
      this.byInode.set(inode.dev, inodes);
    }
    inodes.set(inode.ino, file);
  }

  /**
   * The file an open names: by inode when known, else by its name or the path
   * -y printed; a new file otherwise. An O_TMPFILE open (`tmpfile`: its flags
   * say so, and every open's flags are known) makes a new file with no name,
   * in the directory `name`. An annotation "DIR/#INODE" alone does not: a
   * file can really be named "#123" (found by the final review: opened
   * through a link, it was taken for a nameless one and its leak for benign).
   */
  opened(name: string, inode: Inode | undefined, resolvedHint: string | undefined, tmpfile = false): FileNode {
    // bpftrace names the directory that really holds each file opened, not the one an unlink's name goes through:
    // a file opened by /run/x and removed by /var/run/x (a symlink made before the trace) meets nowhere (review 26).
    if (inode !== undefined) this.aliased.inodesShown = true;
    if (resolvedHint !== undefined) this.aliased.fdPathsShown = true;
    if (tmpfile) {
      const made = this.nameless(tmpfileName(name, inode, resolvedHint), inode);
      // Linked into place later (linkat): the kernel's file all the same (review 45, G4).
      if (resolvedHint !== undefined || inode !== undefined) made.kernelNamed = true;
      return made;
    }
    let file = this.withInode(inode);
    // The kernel frees the number of a removed file once nothing holds it, and ext4 gives it to the next file made, at
    // once. Another generation: the file the number led to is gone, and this is a new one (its doubts keyed by the
    // number are settled by no sighting of it: ReplacedNames.numberMayBeReused). Not while the trace shows the file
    // mapped or run (generationOf).
    const generation = file === undefined || inode === undefined ? undefined : generationOf(file, inode);
    if (file !== undefined && generation === false) {
      this.unindexInode(file, true);
      file = undefined;
    }
    // Without generations, the number of a file an open found replaced at its name, held by nothing now (kept for a
    // finding), may be reached by a new file that took it: taken for a new file, and the old one's doubt stays
    // (unindexInode). A file renamed elsewhere out of sight, then opened by its new name once let go, stays in doubt
    // too: only a generation tells the two apart.
    if (file !== undefined && generation === undefined && file.replacedUnseen && !file.held) {
      this.unindexInode(file);
      file = undefined;
    }
    // Found gone (nameMissing), and not removed in the trace since: what an open of the name reaches now
    // is a file made since, not the mapped one, whose name went out of sight (it keeps the warning).
    if (file === undefined && this.missing.size > 0 && this.missing.get(name)?.file === this.byName.get(name)) this.forgetName(name);
    file ??= this.namedAs(name, inode);
    if (file === undefined && resolvedHint !== undefined && resolvedHint !== name) file = this.namedAs(resolvedHint, inode);
    if (file === undefined) file = this.newFile(name);
    else if (!file.names.has(name) && !file.gone) this.giveName(file, name);
    // A file kept by its names (keepLinked) is indexed by its inode again once an open shows it.
    if (inode !== undefined && (file.inode === null || this.withInode(inode) !== file)) this.setInode(file, inode);
    if (file.names.has(name)) file.sighted();
    if (resolvedHint !== undefined && !file.gone) this.spellAlso(file, name, resolvedHint);
    // (An inode flags it in setInode.)
    if (resolvedHint !== undefined) file.kernelNamed = true;
    return file;
  }

  /**
   * A close whose -y annotation shows the fd's file "(deleted)", or (bpftrace,
   * `nameless`) with a link count of 0: its mappings made since an open last
   * reached it by a name, and no longer live, may have outlived it
   * (ReplacedNames.goneAtClose; the live ones are findings).
   */
  closedGoneUnmapped(file: FileNode, name: string, event: EventBase, closerPid: number, nameless = false, call = 'close'): void {
    if (file.heldSince === null || file.heldSince.size === 0 || file.gone) return;
    this.replaced.goneAtClose(name, file.heldSince, event, closerPid, nameless, call);
    file.heldSince = null;
  }

  /**
   * A bundle's snapshot (at `place`) shows `file`, by `name`, gone where the
   * trace does not show it: maps-start-gone.txt once process `pid` had exited,
   * or its maps at the end. Its mappings made since an open last reached it
   * by a name, no longer live, may have outlived it (ReplacedNames.goneOutOfSight;
   * the live ones are findings).
   */
  goneOutOfSight(file: FileNode, name: string, place: { file: string; line: number }, how: 'gone-at-exit' | 'deleted-at-end', pid: number): void {
    if (file.heldSince === null || file.heldSince.size === 0) return;
    this.replaced.goneOutOfSight(name, file.heldSince, place, how, pid);
    file.heldSince = null;
  }

  /**
   * An open of `name` (not O_TMPFILE, not through a symlink) reached `inode`
   * (bpftrace), before opened() takes it: another file than the one the trace
   * knew by that name makes a doubt of the old one's mappings (ReplacedNames).
   */
  openedInode(task: Task, name: string, inode: Inode, event: EventBase): void {
    const known = this.byName.get(name);
    if (known === undefined) {
      this.replaced.opened(name, inode, undefined, event, task.group.tgid);
      return;
    }
    const listed = known.inode ?? this.seedInodes.get(known);
    if (listed === undefined || known.gone) return;
    const reached = this.mayReach(known, inode);
    this.replaced.opened(name, inode, { inode: listed, held: known.heldSince, reached }, event, task.group.tgid);
    // Told once; a sighting starts the count again in opened().
    if (!reached) {
      known.heldSince = null;
      known.replacedUnseen = true;
    }
  }

  /**
   * The real path of the file an open of `name` reached when the last
   * component of `name` was a symlink, null when it was not (or the trace
   * cannot tell). `resolved` is the path the kernel resolved (strace -y's
   * annotation, or followSymlinks): the real path when its base name differs
   * (targetOfSymlink), or when the trace made `name` a symlink.
   */
  symlinkTarget(name: string, resolved: string | undefined): string | null {
    if (resolved === undefined) return null;
    const real = targetOfSymlink(name, resolved);
    if (real !== null || resolved === name || !resolved.startsWith('/')) return real;
    return this.links.size === 0 || this.links.get(name) === undefined ? null : normalizePath(resolved);
  }

  /**
   * `name` with the symlinks the trace made followed, in every component:
   * what the kernel resolved it to, as far as the trace shows, for an open
   * the tracer printed no path for (strace without -y). Undefined when no
   * symlink the trace made is on the way.
   */
  followSymlinks(name: string): string | undefined {
    if (this.links.size === 0) return undefined;
    let path = name;
    // The kernel gives up after 40 symlinks (ELOOP).
    for (let hops = 0; hops < 40; hops++) {
      const step = this.throughLongestSymlink(path);
      if (step === null) break;
      path = step;
    }
    return path === name ? undefined : path;
  }

  /**
   * `name`, an unlink's or a rename's, in the spelling the engine knows its
   * file, symlink or directory by (a rename's new name: where its directory
   * really is), when a symlinked directory the trace made is on its
   * way (`chdir("dl")`, then `unlink("real.bin")` of a file opened as
   * `d/real.bin`): its directory resolved through the trace's symlinks, its
   * last component not (unlink and rename act on it, not on what it points
   * to). As given when that spelling names nothing known either.
   */
  private knownSpelling(name: string, destination = false, task?: Task): string {
    if (this.links.size === 0 || this.byName.get(name) !== undefined || this.links.get(name) !== undefined) return name;
    const slash = name.lastIndexOf('/');
    if (slash <= 0) return name;
    const parent = this.followSymlinks(name.slice(0, slash));
    if (parent === undefined) return name;
    const real = `${parent}${name.slice(slash)}`;
    // A symlink the trace made to a link of /proc ("lnk" to /proc/self/cwd): on through that link, as the kernel goes (review 25).
    if (task !== undefined && throughUnfollowedLink(real)) return throughProcLinks(task, real);
    // A rename's new name is no known one yet: it goes where its directory really is.
    if (destination) return real;
    return this.byName.get(real) !== undefined || this.links.get(real) !== undefined || this.byName.hasUnder(real) ? real : name;
  }

  /**
   * `path` with its longest prefix that is a symlink the trace made replaced
   * by the symlink's target; null when it has none. The longest, not the
   * first as the kernel walks: a symlink is kept under the spelling it was
   * made by, which may go through a symlinked directory (`chdir("dl")`, then
   * `symlink("real.bin", "lnk")`), and replacing `dl` first would leave a
   * path that no longer spells it (second review).
   */
  private throughLongestSymlink(path: string): string | null {
    for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
      const prefix = path.slice(0, end);
      const target = this.links.get(prefix);
      if (target !== undefined) {
        const slash = prefix.lastIndexOf('/');
        const at = target.startsWith('/') || slash < 0 ? target : `${prefix.slice(0, slash + 1)}${target}`;
        return normalizePath(`${at}${path.slice(end)}`);
      }
    }
    return null;
  }

  /**
   * The file opened through a symlink to it, by its real name `given` (the
   * kernel's, which /proc shows): the symlink's path is no name of the file.
   * Unlinking or renaming it removes or moves the symlink only.
   */
  openedThrough(given: string, inode: Inode | undefined): FileNode {
    const real = flatCopy(given);
    const file = this.withInode(inode) ?? this.namedAs(real, inode) ?? this.newFile(real);
    if (!file.names.has(real) && !file.gone) this.giveName(file, real);
    if (inode !== undefined && file.inode === null) this.setInode(file, inode);
    return file;
  }

  /** `file` was opened as `spelled` through a symlink to it, with a clue to its own name (claimRealName). */
  awaitRealName(file: FileNode, spelled: string, clue: RealNameClue): void {
    if (file.gone) return;
    const waiting = this.realNameClues.get(clue.dir);
    // One clue a symlink and a name, for the file opened through it last: as many as the symlinks, however many
    // processes open them (every process opens its libraries by their sonames, and a forgotten file is made anew).
    const same = waiting?.find((awaited) => awaited.spelled === spelled && awaited.bytes === clue.bytes && awaited.tag === clue.tag);
    if (same !== undefined) {
      same.file = file;
      return;
    }
    const awaited = { file, spelled: flatCopy(spelled), bytes: clue.bytes, tag: clue.tag };
    if (waiting === undefined) this.realNameClues.set(flatCopy(clue.dir), [awaited]);
    else waiting.push(awaited);
  }

  /**
   * `name`, absolute, as a call names it before acting on it: when it fits
   * the clue of a file opened through a symlink to it (its directory, its
   * length and tag), it is that file's own name. The file takes it and loses
   * the symlink's name, which was never its own (as openedThrough names a
   * file strace's -y shows), so that an unlink, rename or link by its own
   * name finds it (review 19: gdbmtool's database opened through a symlink,
   * removed by its real name; a library ld.so opened by its soname, replaced
   * by dpkg). One name per clue, the first call's; none when the trace
   * already knows the name as another file's, or the file is forgotten.
   */
  private claimRealName(name: string): void {
    const slash = name.lastIndexOf('/');
    if (slash < 0) return;
    const dir = slash === 0 ? '/' : name.slice(0, slash);
    const waiting = this.realNameClues.get(dir);
    if (waiting === undefined) return;
    const bytes = nameBytes(name.slice(slash + 1));
    const at = waiting.findIndex((awaited) => awaited.bytes === bytes.length && awaited.tag === nameTag(bytes));
    if (at < 0) return;
    const { file, spelled } = waiting[at]!;
    waiting.splice(at, 1);
    if (waiting.length === 0) this.realNameClues.delete(dir);
    if (file.gone || this.forgotten(file) || this.byName.get(name) !== undefined) return;
    if (this.byName.get(spelled) === file) this.dropName(file, spelled);
    // Nor a name it had: a report says "was" of those.
    if (file.history.at(-1) === spelled) file.history = file.history.slice(0, -1);
    this.giveName(file, name);
  }

  /** Whether `file` goes by `name` only as the symlink it was opened through, its own name still awaited (awaitRealName). */
  private goesBySymlink(file: FileNode, name: string): boolean {
    for (const waiting of this.realNameClues.values()) for (const awaited of waiting) if (awaited.file === file && awaited.spelled === name) return true;
    return false;
  }

  /**
   * /proc's maps name `file`, opened through a symlink to it, `path`: its own
   * name when it fits the file's clue (claimRealName), though no call of the
   * trace named it (ld.so opens a library by its soname; dpkg replaced the
   * file out of sight). A name it had, for its findings, and no name it has:
   * /proc says the file has none.
   */
  namedByMaps(file: FileNode, path: string): void {
    const slash = path.lastIndexOf('/');
    const waiting = slash < 0 ? undefined : this.realNameClues.get(slash === 0 ? '/' : path.slice(0, slash));
    if (waiting === undefined) return;
    const bytes = nameBytes(path.slice(slash + 1));
    const at = waiting.findIndex((awaited) => awaited.file === file && awaited.bytes === bytes.length && awaited.tag === nameTag(bytes));
    if (at < 0) return;
    const spelled = waiting[at]!.spelled;
    waiting.splice(at, 1);
    // The symlink's name was never the file's (a name it keeps would make /proc's "deleted" a hard link's doing).
    this.dropName(file, spelled);
    if (file.history.at(-1) === spelled) file.history = file.history.slice(0, -1);
    file.record(flatCopy(path));
  }

  /** The program an execve of `name` runs (RunningImages): the file known by that name, through the symlinks the trace made. */
  executed(name: string): FileNode {
    return this.executable(name) ?? this.newFile(this.followSymlinks(name) ?? name);
  }

  /** The file known by `name`, through the symlinks the trace made, if any. */
  executable(name: string): FileNode | undefined {
    return this.byName.get(this.followSymlinks(name) ?? name);
  }

  /**
   * The file an open by a name the tracer cut reached: by its inode alone
   * (orphanmap.bt's opens report one), else a new file. The name may be
   * another file's, cut to the same bytes: it goes in no index. Unless a
   * whole name of the file begins with it, it is a name the file has.
   */
  openedByCutName(name: string, inode: Inode | undefined): FileNode {
    let file = this.withInode(inode);
    if (file === undefined) {
      file = this.newFile(null);
      if (inode !== undefined) this.setInode(file, inode);
    }
    if (file.gone || beginsOneOf(name, file.names)) return file;
    const copy = flatCopy(name);
    this.cut.add(file, copy);
    // The report names the file by what the trace printed, unless it knows a whole name.
    if (file.names.size === 0 && file.displayName !== copy) file.record(copy);
    return file;
  }

  /**
   * A memfd the trace shows made: no name leads to it, so its name
   * ("/memfd:NAME", as -y prints it) is kept in its history only, never
   * looked up: two memfds of one name are two files, and the ftruncate and
   * mmap of one, the other's mapping live, no resize of either.
   */
  memfd(kernelName: string): FileNode {
    const file = this.newFile(null);
    file.record(flatCopy(kernelName));
    return file;
  }

  /**
   * An O_TMPFILE file (opened in the trace, or named by an fd's annotation):
   * the path opened is its directory, and it has no name until a link gives
   * it one (the kernel calls it "#INODE" in that directory, which no unlink
   * can remove).
   */
  nameless(kernelName: string, inode: Inode | undefined): FileNode {
    const file = this.newFile(null);
    file.record(flatCopy(kernelName));
    file.unnamed = true;
    if (inode !== undefined) this.setInode(file, inode);
    return file;
  }

  /**
   * The file known by `name`, unless the open's inode says it is another one:
   * the name was given to a new file (by a process outside the trace, or
   * after a rename the trace did not see), or is a spelling gone stale.
   */
  private namedAs(name: string, inode: Inode | undefined): FileNode | undefined {
    const file = this.byName.get(name);
    if (file === undefined || inode === undefined || this.mayReach(file, inode)) return file;
    return undefined;
  }

  /**
   * Whether an open that reached `inode` (bpftrace) may have reached `file`:
   * by the file's own inode, else by the one its maps-start.txt line gave
   * when the two are of one device. An overlayfs file's line gives the
   * layer's device, the open the overlay's, so another device tells nothing
   * (seedInodes); another number on the same device is another file (review
   * 81, F2: mime.cache replaced out of sight, then opened again by its
   * name, lent the new file's link count to the mapped one, and a doubt went).
   */
  private mayReach(file: FileNode, inode: Inode): boolean {
    if (file.inode !== null) return reaches(file, inode);
    const listed = this.seedInodes.get(file);
    return listed === undefined || listed.dev !== inode.dev || listed.ino === inode.ino;
  }

  /**
   * `resolved`, the path the kernel resolved for the name `name`, is another
   * spelling of it: `name` went through a symlinked directory. (When both end
   * in the same base name, `name` may instead end in a symlink to a file of
   * that name elsewhere: that is taken for a symlinked directory too, and
   * unlinking `name` for the file's name going; see targetOfSymlink.)
   */
  private spellAlso(file: FileNode, name: string, resolved: string): void {
    // Most opens name the path the kernel resolved: compared before it is copied.
    const normalized = resolved === name ? name : normalizePath(resolved);
    // A relative name (its cwd unknown: no bundle recorded it, the trace never
    // showed it) with the kernel's path (orphanmap.bt's dir records, the path
    // -y printed for a directory fd): that path spells it too, and is the one
    // a report shows; an unlink or rename by it is the file's.
    if (normalized === name || !normalized.startsWith('/')) return;
    const real = flatCopy(normalized);
    const group = file.spellings?.get(name);
    if (group?.has(real)) return;
    const holder = this.byName.get(real);
    // The kernel says which file has that name now: another one only had it before.
    if (holder !== undefined && holder !== file) this.dropName(holder, real);
    // Spellings of one name: another path through a symlink may already spell it.
    // The name is the file's own copy once a spelling holds it; a slice of the line until then.
    const spelled = new Set([...(group ?? [flatCopy(name)]), ...(file.spellings?.get(real) ?? [real])]);
    file.spellings ??= new Map();
    for (const spelling of spelled) file.spellings.set(spelling, spelled);
    file.names.add(real);
    this.byName.set(real, file);
    if (file.cutNames !== null) this.cut.extendedBy(file, real);
    if (!name.startsWith('/') && file.displayName !== real) file.record(real);
  }

  /**
   * The file behind an fd whose annotation says its file lost the name `hint`
   * (strace's "(deleted)"), the trace having shown no open of it: the file
   * that last had that name if an fd held it then, else a file gone before
   * the trace. Never the file that has the name now (one created since).
   */
  goneBeforeTrace(hint: string): FileNode {
    const known = this.goneByName.get(hint);
    if (known !== undefined) return known;
    const file = this.newFile(null);
    file.record(flatCopy(hint));
    file.gone = true;
    return file;
  }

  /** The file gone while an fd held it that last had the name `hint`, in any spelling. */
  goneNamed(hint: string): FileNode | undefined {
    return this.goneByName.get(hint);
  }

  /**
   * A "(deleted)" annotation `hint` of an fd names this file: it lost that
   * name, and no file that has the name now is it.
   */
  isNamedGone(file: FileNode, hint: string): boolean {
    if (this.goneByName.get(hint) === file) return true;
    if (this.byName.get(hint) === file) return false;
    for (const name of file.history) if (name === hint || (!name.startsWith('/') && hint.endsWith(`/${name}`))) return true;
    return false;
  }

  /**
   * The annotation `hint` ends with the base name of one of the file's names,
   * in another directory: another spelling of it (a symlinked directory,
   * a container's root), not another file.
   */
  spellsBaseName(file: FileNode, hint: string): boolean {
    const names = file.names.size > 0 ? file.names : file.history;
    for (const name of names) {
      const base = name.length - name.lastIndexOf('/');
      if (base < name.length && hint.length > base && hint.endsWith(name.slice(-base))) return true;
    }
    return false;
  }

  /**
   * A name removed by `task` (at `event`) may have been of a file mapped
   * where the trace cannot tell: no maps snapshot, or one read after the
   * removal (a mapping made after maps-before.txt and ended before the read
   * is in neither: review 84, start-read.ts), and the remover, or the process
   * the trace was attached to (or a fork of it), ran before the trace
   * (review 55, H1: its child's rm).
   */
  private removedWhereUnseenMapsRun(by: Space, event: EventBase): boolean {
    if (this.snapshotSeeded && !this.beforeStartRead(event)) return false;
    return !this.seenFromStart(by) || this.firstRanBeforeTrace();
  }

  /** The lines of a bundle's trace file whose removals came before the capture read maps-start.txt (start-read.ts). */
  private removedBeforeStartRead: { file: string; lines: ReadonlySet<number> } | null = null;

  /** In a bundle, the only removals UnknownRemovals counts are those: its note says so. */
  removalsBeforeStartRead(file: string, lines: ReadonlySet<number>): void {
    this.removedBeforeStartRead = { file, lines };
    this.unknownRemovals.beforeStartRead = true;
  }

  private beforeStartRead(event: EventBase): boolean {
    const before = this.removedBeforeStartRead;
    return before !== null && event.place.file === before.file && before.lines.has(event.place.line);
  }

  /**
   * An attached process (its execve not in the trace) holds `file` by fd
   * `fd`, opened before the trace: its unlink, with no maps snapshot, may
   * have orphaned a mapping the trace never saw made (RemovedHeldBeforeTrace).
   */
  heldSinceBefore(file: FileNode, task: Task, fd: number): void {
    if (!this.seenFromStart(task.space) && !this.heldBeforeTrace.has(file)) this.heldBeforeTrace.set(file, { group: task.group, fd });
  }

  /**
   * The same when the fd is first seen once its file is gone, shown
   * "(deleted)" as `hint`, a name an attached process's unlink the trace
   * showed removed (review 47, P1: SQLite's fd 3 first shown after the unlink).
   */
  goneHeldSinceBefore(task: Task, fd: number, hint: string, event: EventBase): void {
    if (this.snapshotSeeded || this.seenFromStart(task.space)) return;
    const removed = this.unknownRemoved.take(hint);
    if (removed !== undefined) this.removedHeldBeforeTrace.removedAt(task.group, fd, hint, removed.at, removed.by);
    // Removed where the trace does not show it (review 64, F-3: an LMDB file an untraced `mdb_copy -c` and `mv`
    // replaced while a process attached by strace -p held it mapped, read clean): the same doubt. Only a file's: a
    // memfd, /dev/zero, SysV shm or O_TMPFILE file prints "(deleted)" too, and never had a name to lose (code review
    // 68, F1: a memfd made before strace -p and closed under it put a clean daemon in doubt).
    else if (deletedKind(hint) === 'file') this.removedHeldBeforeTrace.removedAt(task.group, fd, hint, `${event.place.file}:${event.place.line}`, null);
  }

  /** The file's inode from the trace, else from the maps-start.txt line that seeded it, or null. */
  seedInodeOf(file: FileNode): Inode | null {
    return file.inode ?? this.seedInodes.get(file) ?? null;
  }

  /** The file behind an fd opened before the trace: named from the -y hint when there is one. */
  openedBeforeTrace(fd: number, hint: string | undefined): FileNode {
    let file = hint === undefined ? undefined : this.byName.get(hint);
    if (file === undefined) {
      file = this.newFile(hint?.startsWith('/') ? hint : null);
      if (file.history.length === 0) file.record(hint === undefined ? `(fd ${fd}, opened before the trace)` : flatCopy(hint));
      file.unknownOrigin = hint === undefined;
      // The -y annotation is the kernel's path of the fd's file.
      if (hint !== undefined) file.kernelNamed = true;
    }
    return file;
  }

  /**
   * The -y annotation `hint` of an fd names this file: one of its names now,
   * in any spelling; for a file with none (gone, or named by an annotation
   * that is no path), one it had. Older strace put " (deleted)" inside the
   * annotation (strace 6 prints "(deleted)" after it, and the parser drops it).
   */
  isNamed(file: FileNode, hint: string): boolean {
    if (file.names.has(hint)) return true;
    const bare = hint.endsWith(DELETED_IN_ANNOTATION) ? hint.slice(0, -DELETED_IN_ANNOTATION.length) : hint;
    if (bare !== hint && file.names.has(bare)) return true;
    if (file.names.size === 0) return file.history.includes(bare) || file.history.includes(hint);
    // A name relative to a cwd the trace never showed: the kernel's path ends with it.
    for (const name of file.names) if (!name.startsWith('/') && bare.endsWith(`/${name}`)) return true;
    return false;
  }

  /** The file the engine knows by the name an annotation gives, in any spelling. */
  namedByAnnotation(hint: string): FileNode | undefined {
    return this.byName.get(hint);
  }

  /** The file behind an fd open when the capture began (fds-start.txt): by its name; a deleted one has none left. */
  seededFd(path: string, deleted: boolean): FileNode {
    if (!deleted) {
      const named = this.byName.get(path) ?? this.newFile(path);
      // readlink of /proc/PID/fd/N: the kernel's path.
      named.kernelNamed = true;
      return named;
    }
    const file = this.newFile(null);
    file.record(flatCopy(path));
    file.gone = true;
    return file;
  }

  /** The file of a mapping in a maps snapshot; a deleted one is known only by its inode. */
  seeded(seed: SeedMapping): FileNode {
    this.snapshotSeeded = true;
    let file = this.withInode(seed.inode);
    if (file === undefined && !seed.deleted) file = this.byName.get(seed.path);
    if (file === undefined) {
      file = this.newFile(seed.deleted ? null : seed.path);
      if (seed.deleted) {
        file.record(seed.path);
        // Printed "(deleted)", yet linked when the capture counted: kept by names the trace does not know.
        file.gone = (seed.nlink ?? 0) === 0;
      }
      if (seed.inode !== undefined) this.setInode(file, seed.inode);
    }
    // /proc/PID/maps prints the kernel's path.
    if (!seed.deleted) file.kernelNamed = true;
    if (!seed.deleted && seed.mapsInode !== undefined && file.inode === null) this.seedInodes.set(file, seed.mapsInode);
    // Links the capture counted at the attach (maps-start.nlink): names of it the trace does not know (review 32).
    const counted = seed.nlink ?? 0;
    if (counted > 0 && !file.gone) {
      if (file.names.size === 0) this.hidden.seededNameless(file, counted, `${seed.place.file}:${seed.place.line}`);
      else this.hidden.counted(file, counted, seed.place);
    }
    return file;
  }

  resized(file: FileNode, length: number, event: EventBase): void {
    if (file.size !== length) {
      file.size = length;
      file.sizeChangeSeq = this.counters.seq;
      file.emptiedAt = null;
    }
    file.note(event, this.keeper);
  }

  /**
   * An open with O_TRUNC emptied the file: a size change whatever size the
   * trace last saw (the file may have grown since by a write it does not
   * follow, as numpy's re-extend of a `w+` memmap does).
   */
  emptied(file: FileNode, event: EventBase): void {
    file.size = 0;
    file.sizeChangeSeq = this.counters.seq;
    file.emptiedAt = `${event.place.file}:${event.place.line}`;
    file.note(event, this.keeper);
  }

  /** @param byFd the file the link names by an fd (Engine.linkedFd), undefined for a link by name */
  link(task: Task, event: LinkEvent, byFd?: FileNode | null): void {
    // A cut old name leads to no file: the file that got a new name is not known.
    if (byFd === undefined && event.oldPathCut === true) return;
    if (byFd === undefined && this.realNameClues.size > 0) this.claimRealName(resolveName(task, event.oldDir, event.oldPath, this.linkTargets));
    if (byFd === undefined && event.oldPath !== '') this.notFollowed(task, event, 'link', resolveName(task, event.oldDir, event.oldPath, this.linkTargets));
    if (event.newPathCut !== true) this.notFollowed(task, event, 'link', resolveName(task, event.newDir, event.newPath, this.linkTargets));
    const oldName = byFd === undefined ? resolveName(task, event.oldDir, event.oldPath, this.linkTargets) : null;
    let file = oldName === null ? byFd : this.linkedByName(oldName, event.followsSymlink === true);
    // A name of no file the trace holds (one it forgot, closed and unmapped, or never saw opened) is a file all the
    // same, and the two names are one file's from here on (review 31, F-3: `ln seg.log seg.log.snapshot`, then
    // the snapshot mapped and unlinked, was a leak though seg.log kept the file). Not through a symlink the trace
    // does not know: the file is its target's.
    if (file === undefined && oldName !== null && event.followsSymlink !== true && event.oldPath !== '') {
      file = this.newFile(oldName);
      this.linkedUnknown.add(file);
    }
    // Only a file that never had a name (O_TMPFILE) can be linked once it has none: one gone here was not seen getting one.
    if (file === undefined || file === null || file.gone) return;
    const name = resolveName(task, event.newDir, event.newPath, this.linkTargets);
    if (oldName !== null && event.newPathCut !== true) this.copiedToUntraced?.linked(oldName, name);
    this.replaced.forget(name);
    this.nameMoved(name);
    // A new name, cut: another name of the file all the same, which no later call can be tied to.
    if (event.newPathCut === true) this.cut.add(file, flatCopy(name));
    else this.giveName(file, name);
    file.unnamed = false;
    file.note(event, this.keeper);
    // One nothing holds (`cp -al` under the trace links a million files) is kept within keepLinked's bound.
    this.forgetIfUnused(file);
  }

  /**
   * The file a link's old name gives its new name to: the name itself, or,
   * with AT_SYMLINK_FOLLOW (`ln -L`), what a symlink there leads to, as an
   * open finds it (review 28: the mapped file got a name, and its unlink by
   * the first was taken for its last). Without the flag a symlink is linked
   * as itself: the kernel never follows it then.
   */
  private linkedByName(name: string, followsSymlink: boolean): FileNode | undefined {
    return followsSymlink ? this.executable(name) : this.byName.get(name);
  }

  /** `name`, of a call that succeeded, still goes through a link of /proc (UnfollowedNames). */
  private notFollowed(task: Task, event: EventBase, call: Unfollowed['call'], name: string): void {
    if (throughUnfollowedLink(name)) this.unfollowed.add({ pid: task.group.tgid, call, name: flatCopy(name), at: `${event.place.file}:${event.place.line}` });
  }

  rename(task: Task, event: RenameEvent): void {
    if (event.oldPathCut === true || event.newPathCut === true) {
      this.renameByCutName(task, event);
      return;
    }
    const from = this.knownSpelling(resolveName(task, event.oldDir, event.oldPath, this.linkTargets), false, task);
    const to = flatCopy(this.knownSpelling(resolveName(task, event.newDir, event.newPath, this.linkTargets), true, task));
    this.notFollowed(task, event, 'rename', from);
    this.notFollowed(task, event, 'rename', to);
    if (from === to) return;
    // A file made in the trace moves with its name; one renamed over goes (or, exchanged, comes back: followed no further).
    const madeFrom = this.madeNames.size > 0 && this.madeNames.delete(from);
    const madeTo = this.madeNames.size > 0 && this.madeNames.delete(to);
    if (madeFrom && event.exchange !== true) this.madeNames.add(to);
    this.copiedToUntraced?.renamed(from, to, event.exchange === true, event);
    // Two names of one file (a link the trace showed): the kernel does nothing and both stay (rename(2), review 28: the
    // old name was dropped, and an unlink of the new one made a leak up). RENAME_EXCHANGE of the two alike.
    const both = this.byName.get(from);
    if (both !== undefined && both === this.byName.get(to)) {
      both.note(event, this.keeper);
      return;
    }
    if (this.realNameClues.size > 0) {
      this.claimRealName(from);
      this.claimRealName(to);
    }
    this.replaced.forget(from);
    this.replaced.forget(to);
    // Read before nameMoved lets a forgotten file of either name go (HiddenLinks: a name of another file).
    const fromElsewhere = this.hidden.watching && this.ofAnotherFile(from);
    const toElsewhere = this.hidden.watching && this.ofAnotherFile(to);
    this.nameMoved(from);
    this.nameMoved(to);
    const fromForgotten = this.forgottenNames.take(from);
    const toForgotten = this.forgottenNames.take(to);
    // Renamed over (a symlink or an empty directory replaced): names under `to` no longer lead where they did
    // (review 43, F2: a deploy's symlink swapped by a rename of one made before the trace). Under an exchange they move.
    if (!event.exchange) this.forgottenNames.dropUnder(to);
    const moving = this.byName.get(from);
    const replaced = this.byName.get(to);
    if (moving === undefined && fromElsewhere) this.givenToAnotherFile(to);
    const symlinkFrom = this.links.size > 0 && this.links.get(from) !== undefined;
    const symlinkTo = this.links.size > 0 && this.links.get(to) !== undefined;
    this.moveSymlink(from, to, event.exchange);
    if (event.exchange) {
      this.exchange(flatCopy(from), to, moving, replaced);
      // Two directories: the names bpftrace cut under each go with it (review 57, F3).
      if (!this.cut.empty) this.cut.exchangedUnder(from, to);
      moving?.note(event, this.keeper);
      replaced?.note(event, this.keeper);
      // Two directories: the names under each go with it (review 24: under the new name, an unlink found none).
      if (this.byName.hasUnder(from) || this.byName.hasUnder(to) || this.links.size > 0) this.exchangeDirectories(from, to, event);
      // Not two files the trace knows as files: perhaps directories, one of them the cwd or above it.
      if (moving === undefined || replaced === undefined || this.byName.hasUnder(from) || this.byName.hasUnder(to)) this.directoryMoved(from, to, true);
      if (moving === undefined || replaced === undefined) this.forgottenNames.moved(from, to, true);
      // Each name leads to the other's file: a forgotten one still (review 43, F8).
      if (fromForgotten) this.forgottenNames.remember(to);
      if (toForgotten) this.forgottenNames.remember(flatCopy(from));
      return;
    }
    // Not `from` itself (`mv live/data.bin live`): the file moves by it, and moveName drops its other spellings.
    this.spellingsGoneUnder(to, event, from);
    if (moving === undefined) this.checkSwapped(task, event, 'rename', from);
    if (replaced === undefined) this.checkSwapped(task, event, 'rename to', to);
    // A file an fd opened before the trace holds may be the one renamed over, shown "(deleted)" later
    // (RemovedHeldBeforeTrace), as for an unlink (review 55, H3; review 57, F11: an atomic save, `mv new seg.idx`,
    // over a file mapped before `strace -p`, read as clean). Counted in UnknownRemovals as a rename over a name, which
    // may have been free (review 59, H2: a library loaded before the attach, replaced as dpkg does, read clean).
    // (Not with RENAME_NOREPLACE, coreutils mv's: it succeeds only where no file had the name: code review 60, F4.)
    if (replaced === undefined && event.noReplace !== true && this.removedWhereUnseenMapsRun(task.space, event)) {
      this.unknownRemoved.note(to, event, task.group);
      if (!madeTo) this.unknownRemovals.removed(to, event, task.group, true);
    }
    // A name of no file the trace knows may be a hidden one (HiddenLinks), which a rename over it removes.
    if (replaced === undefined && event.noReplace !== true && !symlinkTo && !toElsewhere && this.hidden.watching) this.hidden.untiedRemoval(event);
    // Renaming over an existing name unlinks the file that had it.
    if (replaced !== undefined && replaced !== moving) {
      if (replaced.recordCount === 0 && to.startsWith('/') && !this.toldApart(replaced)) this.checkAliased(task, event, 'rename to', to, replaced, hasDotDot(event.newPath));
      replaced.note(event, this.keeper);
      this.removeName(replaced, to, event, task.space);
    }
    // Within a directory reached through a symlink: the new name in the kernel's spelling of it may be another file's.
    const realTo = moving === undefined || replaced !== undefined ? null : otherSpellingOfMove(moving, from, to);
    const realReplaced = realTo === null ? undefined : this.byName.get(realTo);
    if (realReplaced !== undefined && realReplaced !== moving) {
      realReplaced.note(event, this.keeper);
      this.removeName(realReplaced, realTo!, event, task.space);
    }
    // A directory, held by an fd or not: the names bpftrace cut under it go with it, cut where they were (review 55,
    // H2; review 57, F2).
    if (!this.cut.empty) this.cut.movedUnder(from, to, false);
    if (moving === undefined) {
      noteRelative(task, from, event);
      // Not a directory the trace knows names under, nor a symlink it made: a name it never saw.
      if (!symlinkFrom && !fromForgotten && !this.byName.hasUnder(from)) this.checkMisplaced(task, event, 'rename', event.oldPath, event.oldDir, from);
      // A file the trace forgot (written and closed: no name kept) renamed over a name it does not know either: perhaps over a mapped file.
      // Not one whose name the trace knew, to a name in the same directory: where the trace tells files apart
      // (forgottenNames), a mapped file with that name would be known by it (review 42, G1: Prometheus writes
      // each block's chunks/000001.tmp, closes it and renames it to chunks/000001, the name of every block's).
      const sameDirectory = fromForgotten && parentOf(from) === parentOf(to);
      if (replaced === undefined && !symlinkTo && !toForgotten && !sameDirectory && !this.byName.hasUnder(from)) this.checkMisplaced(task, event, 'rename to', event.newPath, event.newDir, to);
      // The forgotten file has the new name now.
      if (fromForgotten) this.forgottenNames.remember(to);
      this.byName.delete(to);
      // Not a file we know: perhaps a directory (Kafka renames a deleted
      // partition's directory to "…-delete", then unlinks the files in it).
      this.renameDirectory(from, to, event);
      // (A directory the trace opened and let go is a forgotten name too: review 42's Prometheus block.)
      this.forgottenNames.moved(from, to, false);
      this.directoryMoved(from, to, false);
      return;
    }
    // A file the trace knows renamed over a name it never saw: perhaps over a mapped file, in the directory the process was really in.
    if (replaced === undefined && realReplaced === undefined && !symlinkTo && !toForgotten) this.checkMisplaced(task, event, 'rename to', event.newPath, event.newDir, to);
    this.moveName(moving, from, to);
    if (realTo !== null) this.spellAlso(moving, to, realTo);
    moving.note(event, this.keeper);
    // A directory the trace knows as a file, opened to read it or to open files at it (ripgrep keeps its O_DIRECTORY
    // fd while it maps the files in it): the names under it move with it (review 20: `mv dir dir.old; rm -rf dir.old`
    // left its mapped files under the old names, and their unlinks found none).
    if (this.byName.hasUnder(from) || (this.links.size > 0 && this.links.under(from).length > 0)) {
      this.renameDirectory(from, to, event);
      this.directoryMoved(from, to, false);
    }
    // A directory held open (an fd of it, for fsync) and renamed: its forgotten files' names move too (review 43, F7).
    this.forgottenNames.moved(from, to, false);
  }

  /**
   * An unlink's or rename's relative name `given` (relative to `dir`)
   * resolved to `resolved`, which names no file, symlink or directory the
   * trace knows. When a file with the same last component, under another
   * name, is mapped in the calling process, the call may have meant it, in a
   * directory the trace did not follow (an fchdir a filter left out): said in
   * a warning (MisplacedNames), since its leak would go unreported. Relative
   * to an fd the trace never opened, the directory can be any process's: a
   * mapping in any process counts (review 21: `rm -rf` removed varnishlog's
   * mapped log through an fd its filtered fcntl(F_DUPFD_CLOEXEC) made, and rm
   * maps nothing). Looked up by last component in the name index, not in a
   * list of the calls.
   */
  private checkMisplaced(task: Task, event: EventBase, call: Misplaced['call'], given: string, dir: DirRef, resolved: string): void {
    // Through a symlink the trace made (a release symlink swapped, review 41, F0 and F6): where the name leads is
    // known, and it names nothing the trace knows there. It may still be a mapped file's other spelling, through
    // a symlinked directory made before the trace: asked of the name it leads to.
    const followed = this.followSymlinks(resolved);
    if (followed !== undefined) {
      this.checkAliased(task, event, call, followed, undefined, hasDotDot(given));
      return;
    }
    if (given.startsWith('/')) {
      this.checkAliased(task, event, call, resolved, undefined, hasDotDot(given));
      return;
    }
    // A directory fd the trace knows: the name was resolved by the trace's own word of it. Unless the trace
    // shows no close: then the fd may hold another directory since (review 21: rm's fd 9, inherited from a
    // process two generations up, named a directory the filtered closes had long let go).
    const seen = dir.fd === 'cwd' ? undefined : pathOfFd(task, dir.fd);
    if (dir.fd !== 'cwd' && (dir.hint !== undefined || (seen !== undefined && this.closesShown))) return;
    const staleDir = seen ?? null;
    const base = baseName(given);
    if (base === '' || base === '.' || base === '..' || base === '/') return;
    let asked = 0;
    for (const [name, file] of this.byName.withBaseName(base)) {
      if (++asked > NAMES_ASKED_AT_MOST) return;
      if (name === resolved) continue;
      const mappedBy = mappedIn(file, task.space) ? task.group.tgid : dir.fd === 'cwd' ? null : anyMapper(file);
      if (mappedBy === null) continue;
      const at = `${event.place.file}:${event.place.line}`;
      this.misplaced.add({ call, given: flatCopy(given), resolved: flatCopy(resolved), dir: dir.fd, staleDir, mapped: file.nameNow, pid: task.group.tgid, mappedBy, at });
      // Warned of only, the leak read as clean, exit 0 with --fail-on (review 26, F4: a working directory entered
      // through a symlink made before the trace, its real directory renamed since).
      this.misplaced.doubt(file.liveRecords(), file.displayName);
      return;
    }
  }

  /**
   * An unlink or rename removes the absolute name `name`, of no file the
   * trace knows or of `removed`, which nothing maps. When a file mapped in
   * any process (a name is not relative to its caller) has another name that
   * ends in the same directory and last component, the two may be one file
   * by two spellings (a symlinked directory made before the trace, a bind
   * mount), and its mapping outlived the name: said in a warning
   * (AliasedNames). The directory is asked for too: Kafka's partitions each
   * hold a 00000000000000000000.index, and a broker unlinking one while it
   * maps another's is no such case.
   */
  private checkAliased(task: Task, event: EventBase, call: Misplaced['call'], name: string, removed: FileNode | undefined, throughDotDot: boolean): void {
    const tail = throughDotDot ? baseName(name) : lastTwoComponents(name);
    if (tail === null || tail === '') return;
    let asked = 0;
    // Through "..", which the kernel takes from where a symlink before it leads (one made before the trace, which
    // it cannot follow): the name's directory may be any, and only its last component is known (review 26, F3).
    for (const [known, file] of throughDotDot ? this.byName.withBaseName(tail) : this.byName.withTail(tail)) {
      if (++asked > NAMES_ASKED_AT_MOST) return;
      if (known === name || file === removed || file.recordCount === 0) continue;
      for (const mapping of file.liveRecords()) {
        const at = `${event.place.file}:${event.place.line}`;
        this.aliased.add({ call, given: flatCopy(name), mapped: file.nameNow, pid: task.group.tgid, mappedBy: mapping.space.ownerTgid, at, throughDotDot });
        this.aliased.doubt(file.liveRecords(), file.displayName);
        return;
      }
    }
  }

  /**
   * A rename with a name the tracer cut. What a whole name leads to is
   * known: the file renamed from it keeps a name (the cut one), the file that
   * had the whole new name loses it. A cut name leads to no file: a file that
   * may have it may have lost it (replaced), or moved it (renamed away).
   */
  private renameByCutName(task: Task, event: RenameEvent): void {
    const from = resolveName(task, event.oldDir, event.oldPath, this.linkTargets);
    const to = resolveName(task, event.newDir, event.newPath, this.linkTargets);
    const oldCut = event.oldPathCut === true;
    const newCut = event.newPathCut === true;
    const known = oldCut ? from : this.knownSpelling(from);
    const moving = oldCut ? undefined : this.byName.get(known);
    if (!newCut) {
      const replaced = this.byName.get(to);
      if (replaced !== undefined && replaced !== moving) {
        replaced.note(event, this.keeper);
        this.removeName(replaced, to, event, task.space);
      }
    }
    if (moving !== undefined) {
      this.dropName(moving, known);
      this.cut.add(moving, flatCopy(to));
      moving.note(event, this.keeper);
    }
    // A directory (one the program holds an fd of too: review 57, F2) renamed to a cut path: the names under it
    // are known no more, but are names all the same.
    if (!oldCut && newCut) {
      if (this.byName.hasUnder(from)) {
        for (const [name, file] of this.byName.under(from)) {
          this.dropName(file, name);
          this.cut.add(file, flatCopy(to));
          file.note(event, this.keeper);
        }
      }
      // And the files known under it by cut names (review 55, H2: a job directory renamed to a cut path, then
      // removed by rmtree through an fd of it: a mapped file opened by a cut name under it read as clean).
      if (!this.cut.empty) this.cut.movedUnder(from, flatCopy(to), true);
    }
    if (oldCut) for (const file of this.mayBeNamed(from, true)) this.cut.doubt(file, event);
    if (newCut) for (const file of this.mayBeNamed(to, true)) if (file !== moving) this.cut.doubt(file, event);
  }

  /**
   * The files a name may be one of, when either is cut: those with cut names
   * it may be, and, for a cut `name`, those whose whole names begin with it.
   */
  private mayBeNamed(name: string, nameCut: boolean): FileNode[] {
    const found = this.cut.empty ? [] : this.cut.mayBe(name, nameCut);
    if (!nameCut) return found;
    // A cut name may end inside a directory's name: the deepest directory that lists names holds every name that begins with it.
    for (let dir = parentPath(name); dir !== null; dir = parentPath(dir)) {
      if (!this.byName.hasUnder(dir)) continue;
      for (const [, file] of this.byName.startingWith(dir, name)) found.push(file);
      break;
    }
    return found;
  }

  /** RENAME_EXCHANGE: the two names swap files. */
  private exchange(from: string, to: string, moving: FileNode | undefined, replaced: FileNode | undefined): void {
    if (moving !== undefined) this.renameIn(moving, from, to);
    if (replaced !== undefined) this.renameIn(replaced, to, from);
    if (moving !== undefined) this.byName.set(to, moving);
    else this.byName.delete(to);
    if (replaced !== undefined) this.byName.set(from, replaced);
    else this.byName.delete(from);
  }

  /** A rename moves a symlink the trace made, and takes away one it replaces. */
  private moveSymlink(from: string, to: string, exchange: boolean): void {
    // Most traces make no symlink: no look-up at all.
    if (this.links.size === 0) return;
    const moving = this.links.get(from);
    const replaced = this.links.get(to);
    if (moving === undefined && replaced === undefined) return;
    this.links.delete(from);
    this.links.delete(to);
    if (moving !== undefined) this.links.set(to, moving);
    if (exchange && replaced !== undefined) this.links.set(flatCopy(from), replaced);
  }

  /**
   * RENAME_EXCHANGE of two directories: what was under each is under the
   * other. Every name is taken out of the index before any is put back, as a
   * name may be under both (from/x and to/x), each the other's file's after.
   */
  private exchangeDirectories(from: string, to: string, event: EventBase): void {
    if (this.links.size > 0) {
      const swapped = [
        ...this.links.under(from).map(([name, target]) => ({ name, target, now: to + name.slice(from.length) })),
        ...this.links.under(to).map(([name, target]) => ({ name, target, now: from + name.slice(to.length) })),
      ];
      for (const { name } of swapped) this.links.delete(name);
      for (const { target, now } of swapped) this.links.set(now, target);
    }
    const moved = [
      ...this.byName.under(from).map(([name, file]) => ({ name, file, now: to + name.slice(from.length) })),
      ...this.byName.under(to).map(([name, file]) => ({ name, file, now: from + name.slice(to.length) })),
    ];
    for (const { name, file } of moved) {
      if (this.missing.size > 0 && this.missing.get(name)?.file === file) this.missing.delete(name);
      this.byName.delete(name);
    }
    for (const { name, file, now } of moved) {
      this.renameIn(file, name, now, true);
      this.byName.set(now, file);
      file.note(event, this.keeper);
    }
    // A file with a name under each (hard links, from/x and to/x) lost one of them to the other's move: it has both.
    for (const { file, now } of moved) if (!file.names.has(now)) file.addName(now);
  }

  private renameDirectory(from: string, to: string, event: EventBase): void {
    // A file let go with a name under it would wake with a name it no longer has (review of the change).
    if (this.dormant.size > 0) {
      // Found first and let sleep after (letSleep takes names out of the map), with no copy of the map: that was
      // an array of pairs of up to DORMANT_FILES names for every rename of a name the trace does not know.
      const under = `${from}/`;
      const asleep: FileNode[] = [];
      this.dormantByName.forEach((file, name) => {
        if (name.startsWith(under)) asleep.push(file);
      });
      for (const file of asleep) this.letSleep(file);
    }
    if (this.links.size > 0)
      for (const [name, target] of this.links.under(from)) {
        this.links.delete(name);
        this.links.set(to + name.slice(from.length), target);
      }
    for (const [name, file] of this.byName.under(from)) {
      this.moveName(file, name, to + name.slice(from.length), true);
      file.note(event, this.keeper);
    }
  }

  /**
   * An open or unlink of `event.path` failed with ENOENT: the name was not
   * there. When the trace still gives it to a file mapped now, no call it
   * shows removed it: a process it does not follow did (a cleaner of /tmp or
   * /dev/shm, systemd's RemoveIPC), and the mapping may have outlived the
   * file (review 15, R4-4: PostgreSQL's segments removed under it). Only
   * absolute names: a relative one rests on a working directory the trace
   * may not know. Said at the end (missingNote), for the names the trace
   * did not see go after all (removeName, moveName): a removal that strace
   * printed after the failure it caused, from another thread, is no removal
   * out of sight.
   */
  nameMissing(task: Task, event: NameMissingEvent): void {
    const name = resolveName(task, event.dir, event.path, this.linkTargets);
    if (!name.startsWith('/') || this.missing.has(name)) return;
    const file = this.byName.get(name);
    if (file === undefined || file.recordCount === 0) return;
    for (const mapping of file.liveRecords()) {
      const at = `${event.place.file}:${event.place.line}`;
      this.missing.set(flatCopy(name), { file, call: event.call, at, pid: task.group.tgid, mappedBy: mapping.space.ownerTgid });
      return;
    }
  }

  /** The file that had `name` no longer has it, and nothing is decided by that: the name went where the trace did not see. */
  private forgetName(name: string): void {
    const file = this.byName.get(name);
    if (file === undefined) return;
    this.byName.delete(name);
    file.names.delete(name);
  }

  /** The names nameMissing kept that the trace never saw removed: one warning, the first named. */
  missingNote(): string | null {
    const gone = [...this.missing];
    if (gone.length === 0) return null;
    const [name, first] = gone[0]!;
    const more = gone.length > 1 ? ` (and ${gone.length - 1} more name${gone.length > 2 ? 's' : ''} like it)` : '';
    const where = first.mappedBy === first.pid ? 'that process' : `process ${first.mappedBy}`;
    return (
      `${first.call} of ${name} at ${first.at} (process ${first.pid}) failed with ENOENT: the name was gone, though no call in the trace removed it, ` +
      `and the file the trace knows by it was mapped in ${where}${more}. A process the trace does not follow removed it (a cleaner of /tmp or /dev/shm, systemd's RemoveIPC), ` +
      `or one in another mount namespace does not see it: the mapping may have outlived its file, and no finding says so. ` +
      `A capture's maps-end.txt shows it; on the host, look for "(deleted)" in /proc/${first.mappedBy}/maps`
    );
  }

  /** The name missingNote gives, to be hashed whole under --redact. */
  missingPaths(): string[] {
    const first = this.missing.keys().next();
    return first.done === true ? [] : [first.value];
  }

  /** A symlink made: opens through it reach its target (symlinkTarget). */
  symlink(task: Task, event: SymlinkEvent): void {
    // Cut by bpftrace: a link recorded at a wrong name, or to a wrong target, would lead astray; as if not traced.
    if (event.pathCut === true) return;
    const name = flatCopy(resolveName(task, event.dir, event.path, this.linkTargets));
    this.links.set(name, flatCopy(event.target));
    // Names through it are followed from now on: where they lead is known (review 41, F1: `rm live; ln -s rel2 live`).
    if (this.swappedNames.size > 0) this.forgetSwappedUnder(name);
  }

  unlink(task: Task, event: UnlinkEvent): void {
    if (event.removeDir) return;
    if (event.pathCut === true) {
      // A cut name leads to no file: each file it may name may have lost that name.
      for (const file of this.mayBeNamed(resolveName(task, event.dir, event.path, this.linkTargets), true)) this.cut.doubt(file, event);
      return;
    }
    const name = this.knownSpelling(resolveName(task, event.dir, event.path, this.linkTargets), false, task);
    const madeInTrace = this.madeNames.size > 0 && this.madeNames.delete(name);
    this.copiedToUntraced?.removed(name, event);
    this.notFollowed(task, event, 'unlink', name);
    if (this.realNameClues.size > 0) this.claimRealName(name);
    this.replaced.forget(name);
    const elsewhere = this.hidden.watching && this.ofAnotherFile(name);
    this.nameMoved(name);
    const ofForgotten = this.forgottenNames.take(name);
    // A symlink or an empty directory removed: names under it lead nowhere the trace knows now.
    this.forgottenNames.dropUnder(name);
    // A symlink the trace made goes, and no file with it. (A file the engine
    // still knows by that name lost it out of sight, or was the symlink
    // itself, opened O_PATH|O_NOFOLLOW: it loses it now.)
    const symlink = this.links.size > 0 && this.links.get(name) !== undefined;
    this.links.delete(name);
    this.spellingsGoneUnder(name, event);
    const file = this.withInode(event.inode) ?? this.byName.get(name);
    if (file === undefined) {
      // An fd opened before the trace may show this file "(deleted)" later (RemovedHeldBeforeTrace): the remover's,
      // or the attached process's when a child the trace saw start removes it (review 55, H1: db_recover and rm,
      // run by a Berkeley DB holder attached by strace -p, removed the region files it mapped: clean, exit 0).
      if (this.removedWhereUnseenMapsRun(task.space, event)) {
        this.unknownRemoved.note(name, event, task.group);
        // A file the trace saw opened and let go counts too: it may have been mapped before the trace, its fd closed, and
        // opened again to read (review 54, T4); a temporary file the trace saw made adds to a warning only (review 53, S1),
        // one it saw made by O_EXCL not even that (madeNames), unless an fd shows a file of its name held before the trace
        // deleted (unknownRemoved: a process the trace does not follow may have renamed such a file over it).
        if (!madeInTrace) this.unknownRemovals.removed(name, event, task.group);
      }
      noteRelative(task, name, event);
      this.checkSwapped(task, event, 'unlink', name);
      // A file known by a cut name may have this one.
      if (!this.cut.empty) for (const cut of this.cut.mayBe(name, false)) this.cut.doubt(cut, event);
      if (!symlink && !ofForgotten) this.checkMisplaced(task, event, 'unlink', event.path, event.dir, name);
      if (!symlink && !elsewhere && this.hidden.watching) this.hidden.untiedRemoval(event);
      return;
    }
    if (file.recordCount === 0 && name.startsWith('/') && !this.toldApart(file)) this.checkAliased(task, event, 'unlink', name, file, hasDotDot(event.path));
    this.removeName(file, name, event, task.space, event.nlinkAfter);
    this.noteUnlessForgotten(file, event);
  }

  /**
   * Notes an event on a file once the event has done its work, unless the
   * file is forgotten by then: no fd, no live mapping and no finding hold it,
   * and no name or inode leads to it, so nothing can read what it keeps (a
   * tenth of f20's notes: the close of a file never mapped, the unlink or
   * last munmap of one with no finding).
   */
  noteUnlessForgotten(file: FileNode, event: EventBase): void {
    if (!this.forgotten(file)) file.note(event, this.keeper);
  }

  private forgotten(file: FileNode): boolean {
    if (file.fdRefs > 0 || file.recordCount > 0 || file.findingRefs > 0 || file.runningIn > 0) return false;
    for (const name of file.names) if (this.byName.get(name) === file) return false;
    const inode = file.inode;
    return inode === null || this.byInode.get(inode.dev)?.get(inode.ino) !== file;
  }

  /** A name goes; when it was the file's last, every live mapping of the file is orphaned. */
  /** `by`: the address space of the process that removed the name (BenignRule.ownUnlinkOnly). */
  private removeName(file: FileNode, name: string, event: EventBase, by: Space, nlinkAfter?: number): void {
    if (this.hidden.watching && this.linkedUnknown.has(file)) this.hidden.untiedRemoval(event);
    // Removed where the trace shows it (after strace printed a failure it caused): not out of sight.
    if (this.missing.size > 0 && this.missing.get(name)?.file === file) this.missing.delete(name);
    if (this.realNameClues.size > 0 && this.goesBySymlink(file, name)) {
      // The symlink goes (ldconfig and dpkg replace a soname's), not the file: its own name, which the clue
      // awaits, stays (review 30, S1: every library opened by its soname read as a leak).
      this.dropName(file, name);
      if (file.history.at(-1) === name) file.history = file.history.slice(0, -1);
      return;
    }
    // Read before the name goes: an fd still open can map the file once it is gone.
    const spelled = file.fdRefs > 0 ? (file.spellings?.get(name) ?? null) : null;
    const lastNames = file.fdRefs > 0 ? (spelled === null ? [flatCopy(name)] : [...spelled]) : null;
    this.dropName(file, name);
    const lastName = nlinkAfter !== undefined ? nlinkAfter === 0 : file.names.size === 0 && file.cutNames === null;
    if (!lastName || file.gone) {
      // Its last name the trace can match went, and one the tracer cut is left, which may have gone unseen.
      if (file.names.size === 0 && file.cutNames !== null) this.cut.doubt(file, event);
      return;
    }
    if (nlinkAfter === undefined && file.hiddenLinks > 0) {
      // The kernel counted names the trace does not know: the file keeps one (HiddenLinks).
      this.hidden.lastKnownNameGone(file);
      this.forgetIfUnused(file);
      return;
    }
    this.goes(file);
    const unlinkedAt = this.log.unlinked(file, event, lastNames !== null, by);
    const held = this.snapshotSeeded ? undefined : this.heldBeforeTrace.get(file);
    if (held !== undefined) this.removedHeldBeforeTrace.removed(held.group, held.fd, flatCopy(name), event, by);
    else if (this.removedWhereUnseenMapsRun(by, event)) {
      // A file the trace knows only by what a traced process did to it (a helper opened it, `ln` gave it a backup
      // name) may be one an attached process mapped before the trace too: its fd first shown "(deleted)" after this
      // makes a doubt, as for a file the trace never saw (review 59, H1: gdbm's reorganize by another process), and
      // a file the trace holds no mapping of counts in UnknownRemovals (review 59, H2: dpkg's backup link removed).
      // Under every name it had: an fd shows the file "(deleted)" by the name it was opened by, which an earlier call
      // may have removed (code review 60, F3: `ln f f.bak; rm f; rm f.bak`, the fd shown as f).
      for (const had of new Set([...file.history, name])) this.unknownRemoved.note(had, event, by);
      if (file.recordCount === 0 && !file.madeInTrace) this.unknownRemovals.removed(name, event, by);
    }
    if (file.runningIn > 0) this.images.lostLastName(file, event, name);
    if (lastNames !== null) {
      file.wentHeld = { at: unlinkedAt ?? nameWentAt(event), names: lastNames };
      for (const last of lastNames) this.goneByName.set(last, file);
    }
    this.forgetIfUnused(file);
  }

  /** The file has no name left: it is known by its inode, while it has one and something holds it. */
  private goes(file: FileNode): void {
    if (file.hiddenLinks > 0) this.hidden.forget(file);
    file.gone = true;
    this.unindexNames(file);
    file.names = NO_NAMES;
    file.spellings = null;
    this.cut.forget(file);
  }

  /**
   * An mmap, ftruncate or close (`event`, by a task of `by`) reported the file's
   * link count. 1 or more: no call by a cut name removed its last one, and no
   * mapping released since the last open by a name outlived it. 0,
   * while the trace cannot follow its names (CutNames.outOfSight): its last
   * name went out of the trace's sight, and each live mapping outlived it.
   * 0 for a file whose names the trace follows: a process it does not follow
   * removed or replaced the file (wentOutOfSight). Left to maps-end.txt
   * before review 9, which an attached capture whose process exits has none of.
   */
  linkCountSeen(file: FileNode, nlink: number, event: EventBase, call: string, by: Space): void {
    if (nlink > 0) {
      // A name left now: the mappings released since the last open by a name outlived none (review 48, C1).
      file.sighted();
      this.stillNamed(file);
      this.hidden.counted(file, nlink, event.place);
      this.cut.settle(file, nlink);
      if (file.inode !== null) this.replaced.settle(file.inode);
      return;
    }
    if (file.gone || file.unnamed) return;
    if (!this.cut.outOfSight(file)) {
      // A name the trace follows, gone by no call it shows: another process removed or replaced the file (review 9, R9-3).
      // A file the trace knows by no name (an fd opened before it, a memfd) had none to lose, unless the kernel counted some.
      if (file.names.size === 0 && file.hiddenLinks === 0) return;
      this.hidden.forget(file);
      const place = `${event.place.file}:${event.place.line}`;
      // Its mappings no longer live are in doubt, as at a close with a link count of 0 (Fds.closedNameless): another
      // process's, a fork child's that has exited (review 61, F-5: the next child's mmap of varnishd's storage file).
      this.closedGoneUnmapped(file, file.displayName, event, by.ownerTgid, true, call);
      this.wentOutOfSight(file, event, by, `The ${call} at ${place} shows it with no name left (link count 0): ${REMOVED_OUT_OF_SIGHT}`);
      return;
    }
    const calls = this.cut.settle(file, nlink);
    const place = `${event.place.file}:${event.place.line}`;
    const note =
      `No unlink in the trace can be tied to it: bpftrace cut its names, or names that may be its, at the length it prints (BPFTRACE_STRLEN). The ${call} at ${place} shows it with no name left (link count 0), and the delay counts from there.` +
      (calls === null ? '' : ` The calls by names cut alike at ${calls} may have removed its last name.`);
    this.goes(file);
    this.log.lostNamesOutOfSight(file, event, note);
  }

  /**
   * The file lost its last name by a call the trace does not show, seen at
   * `event` (an fd's "(deleted)" annotation, a link count of 0) by a task of
   * `by`: it is gone from here on, each live mapping outlived its name (an
   * error, decided there: the delay counts from it), and `by`, if it had
   * mapped the file by its name, goes on using a file removed under it
   * (leakedIn). `note` says how it was seen.
   */
  wentOutOfSight(file: FileNode, event: EventBase, by: Space, note: string): void {
    // Names the kernel counted that the trace does not know may keep it: in doubt (review 32).
    if (this.hidden.goneOutOfSight(file, `${event.place.file}:${event.place.line}`)) return;
    this.goes(file);
    if (file.mappedNamedIn === by) file.leakedIn = [by];
    // Not its own process's unlink, as far as the trace shows: a rule by the file's name that needs one does not apply.
    this.log.lostNamesOutOfSight(file, event, note, false);
  }

  /** An fd of the file was closed (or its table released). */
  releaseFd(file: FileNode | null): void {
    if (file === null) return;
    file.fdRefs--;
    this.forgetIfUnused(file);
  }

  /** A file with no fd, no live mapping and no finding can be forgotten: memory stays flat. */
  forgetIfUnused(file: FileNode): void {
    if (file.held) return;
    // A deleted file that nothing holds is freed by the kernel, and its inode
    // number comes back for the next file created: it must not lead here.
    if (file.gone) {
      this.unindexInode(file);
      this.unindexGone(file);
      this.forgetSwappedOf(file);
    }
    if (file.findingRefs > 0) {
      if (file.gone) file.letGoOfFindings();
      return;
    }
    if (file.heldSince !== null && file.heldSince.size > 0 && file.inode !== null && !file.gone) {
      this.replaced.leave(
        [...file.names].filter((name) => this.byName.get(name) === file),
        file.inode,
        file.heldSince,
      );
    }
    // Two names the trace showed linked: kept by them, or an open of each would make a file of its own, and the
    // unlink of one would be taken for the last (review 31, F-3; under bpftrace the link count then showed names
    // the trace did not know, and real leaks were in doubt). Not by its inode: the kernel gives the number to
    // the next file made once the names go out of sight; an open by a name finds it only with the same inode.
    if (!file.gone && file.cutNames === null && linkCount(file) > 1) {
      this.unindexInode(file);
      // Its inode still leads to it from an fd the trace never saw made (wake: an fd passed over a unix socket).
      if (file.inode !== null) this.keepDormant(file, file.inode);
      this.keepLinked(file);
      return;
    }
    this.forgetNow(file);
  }

  private forgetNow(file: FileNode): void {
    if (file.hiddenLinks > 0) this.hidden.forget(file);
    // One name only: a file with two (a symlinked directory's spelling and the kernel's) may be reached again by
    // either, the other then left naming the file it no longer names (review 45, G1: written as alias/x, mapped as
    // real/x, removed as alias/x; G2: a spelling through a symlink whose target directory was rotated).
    if (!file.gone && file.cutNames === null && this.toldApart(file) && file.names.size === 1) {
      for (const name of file.names) if (this.byName.get(name) === file) this.forgottenNames.remember(name);
    }
    this.unindexNames(file);
    this.unindexInode(file);
    this.cut.forget(file);
    if (file.inode !== null && !file.gone && file.names.size > 0 && file.cutNames === null) this.keepDormant(file, file.inode);
  }

  /** Unused files with two names or more (forgetIfUnused), the most recent last: the oldest past LINKED_KEPT is forgotten. */
  private readonly linkedKept = new Set<FileNode>();

  private keepLinked(file: FileNode): void {
    this.linkedKept.delete(file);
    this.linkedKept.add(file);
    if (this.linkedKept.size <= LINKED_KEPT) return;
    const oldest: FileNode = this.linkedKept.values().next().value!;
    this.linkedKept.delete(oldest);
    // In use again since: forgetIfUnused looks at it when that ends.
    if (oldest.fdRefs > 0 || oldest.recordCount > 0 || oldest.runningIn > 0 || oldest.findingRefs > 0) return;
    this.forgetNow(oldest);
  }

  private keepDormant(file: FileNode, inode: Inode): void {
    this.letSleep(file);
    this.dormant.add(file);
    let inodes = this.dormantByInode.get(inode.dev);
    if (inodes === undefined) {
      inodes = new Map();
      this.dormantByInode.set(inode.dev, inodes);
    }
    // An inode number the kernel gave another file since: the older one is out of reach.
    const older = inodes.get(inode.ino);
    if (older !== undefined) this.letSleep(older);
    inodes.set(inode.ino, file);
    for (const name of file.names) {
      const other = this.dormantByName.get(name);
      if (other !== undefined) this.letSleep(other);
      this.dormantByName.set(name, file);
    }
    if (this.dormant.size > DORMANT_FILES) this.letSleep(this.dormant.values().next().value!);
  }

  private newFile(given: string | null): FileNode {
    // A name cut from a trace line would keep the whole line alive as long as the file.
    const name = given === null ? null : flatCopy(given);
    const file = new FileNode(this.counters.nextId(), name);
    if (name !== null) {
      this.byName.get(name)?.names.delete(name);
      this.byName.set(name, file);
    }
    return file;
  }

  private giveName(file: FileNode, given: string): void {
    const name = flatCopy(given);
    file.addName(name);
    this.byName.set(name, file);
    if (file.cutNames !== null) this.cut.extendedBy(file, name);
  }

  /**
   * `name` was removed or renamed over: it was no directory with anything in
   * it (unlink, and a rename over one, fail then), so a name the engine knows
   * under it went through it as a symlink (one made before the trace: the
   * engine knows it as a directory of another spelling of a file's name).
   * That spelling no longer leads to the file, and goes; the file keeps its
   * others. Review 40, F1: the "current release" deploy, `live -> rel1` swapped
   * for `live -> rel2`, then `rm live/data.bin`: taken for the removal of
   * rel1/data.bin, mapped as live/data.bin, a false error. A name the file is
   * known by alone is left: the trace knows no other way to it.
   */
  private spellingsGoneUnder(name: string, event: EventBase, moving?: string): void {
    if (!this.byName.hasUnder(name)) return;
    const under = `${name}/`;
    // A symlink the trace made is there now (a rename of one over it): names through it are followed (knownSpelling).
    const followed = this.links.size > 0 && this.links.get(name) !== undefined;
    for (const [spelling, file] of this.byName.under(name)) {
      if (spelling === moving) continue;
      const spelled = file.spellings?.get(spelling);
      if (spelled === undefined) continue;
      let elsewhere = false;
      for (const other of spelled) if (!other.startsWith(under)) elsewhere = true;
      if (!elsewhere) continue;
      this.dropSpelling(file, spelling, spelling);
      if (followed) continue;
      this.swappedNames.delete(spelling);
      this.swappedNames.set(spelling, { file, replaced: flatCopy(name), replacedAt: `${event.place.file}:${event.place.line}` });
      file.swappedOut = true;
      if (this.swappedNames.size > SWAPPED_KEPT) this.swappedNames.delete(this.swappedNames.keys().next().value!);
    }
  }

  /**
   * A call by `name`, which names no file the trace knows: if a replaced
   * symlink on its way took it from a mapped file (spellingsGoneUnder), the
   * call may have reached that file, and its mappings live now are in doubt.
   */
  private checkSwapped(task: Task, event: EventBase, call: Swapped['call'], name: string): void {
    if (this.swappedNames.size === 0) return;
    const taken = this.swappedNames.get(name);
    if (taken === undefined) return;
    // Kept for the calls after: one while the file is not mapped says nothing of a later one, once it is (review 41, F2).
    const file = taken.file;
    if (file.gone || file.recordCount === 0) return;
    const at = `${event.place.file}:${event.place.line}`;
    this.swapped.add({ call, given: flatCopy(name), mapped: file.nameNow, pid: task.group.tgid, at, replaced: taken.replaced, replacedAt: taken.replacedAt });
    this.swapped.doubt(file.liveRecords(), file.displayName);
  }

  /** Names under `name` are no longer in doubt: a symlink the trace made is there now. */
  private forgetSwappedUnder(name: string): void {
    const under = `${name}/`;
    for (const spelling of [...this.swappedNames.keys()]) if (spelling.startsWith(under)) this.swappedNames.delete(spelling);
  }

  /** The file is forgotten: no call can reach it by any name, nor put its mappings in doubt. */
  private forgetSwappedOf(file: FileNode): void {
    if (!file.swappedOut) return;
    file.swappedOut = false;
    for (const [spelling, taken] of [...this.swappedNames]) if (taken.file === file) this.swappedNames.delete(spelling);
  }

  /** A name goes from the file, in every spelling. */
  private dropName(file: FileNode, name: string): void {
    const spelled = file.spellings?.get(name);
    if (spelled === undefined) this.dropSpelling(file, name, name);
    else for (const spelling of [...spelled]) this.dropSpelling(file, spelling, spelling);
  }

  /** The other spellings of `name` no longer name the file (its directory changed); `name` stays. */
  private dropOtherSpellings(file: FileNode, name: string): void {
    const spelled = file.spellings?.get(name);
    if (spelled === undefined) return;
    for (const spelling of [...spelled]) if (spelling !== name) this.dropSpelling(file, name, spelling);
    file.spellings?.delete(name);
  }

  /** `spelling`, one of the spellings of `name`, goes. */
  private dropSpelling(file: FileNode, name: string, spelling: string): void {
    file.spellings?.get(name)?.delete(spelling);
    file.spellings?.delete(spelling);
    file.names.delete(spelling);
    if (this.byName.get(spelling) === file) this.byName.delete(spelling);
  }

  /**
   * The name `from` of a file becomes `to`. The rename of a file leaves the
   * other spelling of `from` naming nothing; the rename of a directory moves
   * every name under it, and spellings stay paired (`from` may be a symlink
   * to the directory whose other spelling is still right).
   */
  private moveName(file: FileNode, from: string, to: string, keepSpelling = false): void {
    if (this.missing.size > 0 && this.missing.get(from)?.file === file) this.missing.delete(from);
    this.byName.delete(from);
    this.renameIn(file, from, to, keepSpelling);
    this.byName.set(to, file);
  }

  private renameIn(file: FileNode, from: string, to: string, keepSpelling = false): void {
    const spellings = file.spellings;
    const spelled = spellings?.get(from);
    if (spellings !== null && spelled !== undefined && keepSpelling) {
      spelled.delete(from);
      spelled.add(to);
      spellings.delete(from);
      spellings.set(to, spelled);
    } else this.dropOtherSpellings(file, from);
    file.names.delete(from);
    file.addName(to);
    if (file.cutNames !== null) this.cut.extendedBy(file, to);
  }

  /**
   * Whether `file` cannot be a mapped file by another spelling: the kernel
   * named it (an open's real path under strace -y, the inode it reached
   * under bpftrace: FileNode.kernelNamed), so an open of either by any name
   * would have found the other, not made a file anew. Without (review 15's strace with no -y), a file
   * written by its real name and mapped through a symlinked directory is two
   * files to the trace. Review 42, G1: Prometheus removes a compacted
   * block's chunks/000001, which every block has, and each removal put the
   * mapped blocks in doubt.
   */
  private toldApart(file: FileNode): boolean {
    return file.kernelNamed;
  }

  private unindexNames(file: FileNode): void {
    for (const name of file.names) if (this.byName.get(name) === file) this.byName.delete(name);
  }

  private unindexGone(file: FileNode): void {
    const went = file.wentHeld;
    if (went === null) return;
    for (const name of went.names) if (this.goneByName.get(name) === file) this.goneByName.delete(name);
  }

  /** `freed`: another file has its number now (another generation). */
  private unindexInode(file: FileNode, freed = false): void {
    const inode = file.inode;
    if (inode === null) return;
    const inodes = this.byInode.get(inode.dev);
    if (inodes?.get(inode.ino) !== file) return;
    inodes.delete(inode.ino);
    if (inodes.size === 0) this.byInode.delete(inode.dev);
    // Let go by all, after an open found its name leading to another file: its number may go to a file made since,
    // whose link count then says nothing of this one (ReplacedNames.settle).
    if (freed || file.replacedUnseen) this.replaced.numberMayBeReused(inode.dev, inode.ino);
  }
}

/**
 * Whether an open that reached `inode` (the number of `file`) reached `file` by its generation: undefined when either
 * lacks one, or while the trace shows `file` mapped or run, whose number the kernel cannot have given another file:
 * another generation there is the file's own, changed under it (FS_IOC_SETVERSION, which a file's owner may call on
 * ext4 without metadata_csum: a traced program hid its own unlink of a file it held mapped so, review 78, F2). Not
 * for a file held by an fd alone: the trace may not show an fd closed (one an ioctl FIOCLEX marked, closed by an
 * exec: Python's os.set_inheritable, which strace's filter leaves out; a lost record), and such a belief made a new
 * file the old one, a false clean (review 79, F4).
 */
function generationOf(file: FileNode, inode: Inode): boolean | undefined {
  return file.inode === null || file.recordCount > 0 || file.runningIn > 0 ? undefined : sameGeneration(file.inode, inode);
}

/** Whether an open that reached `inode` reached `file`: its number, and its generation as generationOf tells (a file the trace knows no inode of: yes). */
function reaches(file: FileNode, inode: Inode): boolean {
  return file.inode === null || (sameNumbers(file.inode, inode) && generationOf(file, inode) !== false);
}

/**
 * The real name of the file opened as `name` when its last component was a
 * symlink to it: `resolved`, the path the kernel printed (strace -y), when
 * its base name differs from `name`'s (a symlinked directory changes the
 * directories, never the base name). Null otherwise, and for an annotation
 * that is no path (pipe:[…], socket:[…]).
 */
function targetOfSymlink(name: string, resolved: string): string | null {
  if (resolved === name || !resolved.startsWith('/')) return null;
  const real = normalizePath(resolved);
  if (baseName(real) === baseName(name)) return null;
  // Older strace: a file unlinked between the open and the print ends " (deleted)".
  if (real.endsWith(DELETED_IN_ANNOTATION) && baseName(real.slice(0, -DELETED_IN_ANNOTATION.length)) === baseName(name)) return null;
  return real;
}

/**
 * How many names checkMisplaced and checkAliased look at per call. Their
 * warning is a guess about one call; a trace with 10,000 names ending alike
 * and as many calls would otherwise cost 10^8 steps (review 7: 41 s for a
 * 2.8 MB trace). Past this many, the call goes without the guess.
 */
const NAMES_ASKED_AT_MOST = 1024;

/** Whether the file has a live mapping in `space`. */
/** The process of a live mapping of `file`, if any. */
function anyMapper(file: FileNode): number | null {
  if (file.recordCount === 0) return null;
  for (const mapping of file.liveRecords()) return mapping.space.ownerTgid;
  return null;
}

function mappedIn(file: FileNode, space: Space): boolean {
  if (file.recordCount === 0) return false;
  for (const mapping of file.liveRecords()) if (mapping.space === space) return true;
  return false;
}

/** Whether one of `names` begins with `prefix`. */
function beginsOneOf(prefix: string, names: Iterable<string>): boolean {
  for (const name of names) if (name.startsWith(prefix)) return true;
  return false;
}

/** `/d/topic-0/00.index` → `/d/topic-0`; `/x` → `` (the root, as NameIndex lists it); a name with no `/` has none. */
function parentPath(path: string): string | null {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? null : path.slice(0, slash);
}

/**
 * An open of the directory `name` that returned an fd the kernel calls
 * `resolved` = ".../#INODE": O_TMPFILE (an open of a file really named "#123" names it).
 */
function isTmpfileOpen(name: string, resolved: string): boolean {
  const slash = resolved.lastIndexOf('/');
  if (slash < 0 || resolved.length < slash + 3 || resolved.charCodeAt(slash + 1) !== 35 /* # */) return false;
  for (let k = slash + 2; k < resolved.length; k++) {
    const c = resolved.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return !name.endsWith(resolved.slice(slash));
}

/**
 * `to` in the other spelling of `from`'s directory, when the file was reached
 * through a symlinked directory (`/d/link/x` is `/d/real/x`) and is renamed
 * within it (`/d/link/x` → `/d/link/y` is `/d/real/y` too): what the kernel's
 * annotations will call it, and the name of any file the rename replaced
 * there. Null when the file has no other spelling of `from`.
 */
function otherSpellingOfMove(file: FileNode, from: string, to: string): string | null {
  const spelled = file.spellings?.get(from);
  if (spelled === undefined) return null;
  // A relative name of one component (no cwd known) is in the cwd, as its new name of one component is.
  const slash = from.lastIndexOf('/');
  const dir = from.slice(0, slash + 1);
  if (!to.startsWith(dir) || to.indexOf('/', dir.length) >= 0) return null;
  const base = `/${from.slice(slash + 1)}`;
  for (const spelling of spelled) {
    if (spelling !== from && spelling.endsWith(base)) return `${spelling.slice(0, spelling.length - base.length)}/${to.slice(dir.length)}`;
  }
  return null;
}

/**
 * The name the kernel gives an O_TMPFILE file: "DIR/#INODE", as -y printed it
 * or from the inode the tracer reported; "DIR/#?" when neither is known.
 */
function tmpfileName(dir: string, inode: Inode | undefined, resolvedHint: string | undefined): string {
  if (resolvedHint !== undefined && isTmpfileOpen(dir, resolvedHint)) return resolvedHint;
  return inode === undefined ? `${dir}/#?` : `${dir}/#${inode.ino}`;
}

/**
 * A path as the process named it, made absolute against its cwd or the
 * directory fd, when those are known. `symlinkTarget`: the symlinks the trace
 * made, for a ".." after one (normalizeThroughLinks).
 */
export function resolveName(task: Task, dir: DirRef, path: string, symlinkTarget?: SymlinkTarget): string {
  let name = path;
  if (!path.startsWith('/')) {
    let base: string | null;
    if (dir.fd === 'cwd') base = task.group.cwd ?? dir.hint ?? null;
    // The call's own -y annotation, the kernel's word at the call, before the trace's record of the fd: an fd
    // marked close-on-exec by a call the filter leaves out (ioctl FIOCLEX) dies at an execve the record keeps it
    // through, and a number received over a socket takes its place; an fd opened through a symlink keeps that
    // spelling after its real directory is renamed (review 26, F1, F5: a leak read as clean).
    else base = annotatedDir(dir.hint) ?? pathOfFd(task, dir.fd) ?? dir.hint ?? null;
    if (base === null) return normalizePath(path);
    // A cwd the trace showed only relative to one it never showed (chdir("repo")): the name is relative to that one too.
    if (!base.startsWith('/') && (dir.fd !== 'cwd' || base !== task.group.cwd)) return normalizePath(path);
    name = `${base}/${path}`;
  }
  // Tested once the name is whole, "//" and "/./" gone ("//proc/./self/cwd/N", "proc/self/fd/3/N" from "/": review 25), and
  // before ".." is: the kernel takes "/proc/self/cwd/../N" to the cwd's parent, not to "/proc/self/N".
  if (name.startsWith('/proc/') || name.startsWith('/dev/') || name.indexOf('//') >= 0 || name.indexOf('/./') >= 0) {
    const plain = name.replace(/\/(?:\.\/|\/)+/g, '/');
    if (throughUnfollowedLink(plain)) return throughProcLinks(task, plain);
  }
  const normal = symlinkTarget !== undefined && name.startsWith('/') && hasDotDot(name) ? normalizeThroughLinks(name, symlinkTarget) : normalizePath(name);
  return throughUnfollowedLink(normal) ? throughProcLinks(task, normal) : normal;
}

/** A symlink's target, by the symlink's absolute name; undefined for a name that is no symlink the trace made. */
export type SymlinkTarget = (name: string) => string | undefined;

/** A name with a ".." component: the kernel takes it from where the components before it lead, symlinks followed. */
export function hasDotDot(name: string): boolean {
  return name === '..' || name.startsWith('../') || name.endsWith('/..') || name.indexOf('/../') >= 0;
}

/**
 * An absolute `name` normalized as the kernel walks it: a ".." right after a
 * symlink the trace made goes up from the symlink's target, not from the
 * directory the symlink is in. `W/l/../seg`, with `W/l` → `W/a/b`, names
 * `W/a/seg`; normalizePath says `W/seg` (review 26, F3: a leak so removed
 * read as clean). A symlink made before the trace is not known here: a name
 * through ".." that names nothing is then weighed by its last component
 * (Files.checkAliased).
 */
function normalizeThroughLinks(name: string, symlinkTarget: SymlinkTarget): string {
  const parts: string[] = [];
  let hops = 0;
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') {
      parts.push(part);
      continue;
    }
    // The kernel gives up after 40 symlinks (ELOOP).
    for (let here = `/${parts.join('/')}`, target = symlinkTarget(here); target !== undefined && hops < 40; target = symlinkTarget(here)) {
      hops++;
      const at = parts.slice(0, -1).join('/');
      here = normalizePath(target.startsWith('/') ? target : `/${at}/${target}`);
      parts.splice(0, parts.length, ...here.split('/').filter((component) => component !== ''));
    }
    parts.pop();
  }
  return `/${parts.join('/')}`;
}

/**
 * A name through a magic link of /proc to a directory, and on below it:
 * /proc/self/cwd/NAME, /proc/PID/root/PATH, /proc/thread-self/fd/3/NAME,
 * /proc/self/task/TID/cwd/NAME, /dev/fd/3/NAME, /dev/stdin/NAME (fd 0). The
 * kernel follows the link to the very directory the process knows by
 * another name (review 24: an unlink so spelled found no file, and a leak
 * read as clean). Matched on a normalized name, with a name below the link:
 * /proc/self/fd/3 alone is the fd's file (Engine.procFdFile).
 */
const PROC_DIR_LINK = /^\/(?:proc\/(self|thread-self|\d+)(?:\/task\/\d+)?\/(cwd|root|fd\/(\d+))|dev\/fd\/(\d+)|dev\/(stdin|stdout|stderr))(?=\/.)/;

/** The fd each of /dev's standard links names. */
const STANDARD_FD: Readonly<Record<string, number>> = { stdin: 0, stdout: 1, stderr: 2 };

/**
 * `name` (normalized, PROC_DIR_LINK) as the directory it goes through names
 * it, again while what is left is such a name (/proc/self/root/proc/self/cwd/N);
 * the name as it is, still through a link, when that directory is not known:
 * another process's cwd, fd or root (review 25: any process's root was taken
 * for "/", and a chrooted one's named the mapped file), a cwd or an fd the
 * trace never showed (UnfollowedNames). Its own root is "/": a change of root
 * is a call the trace names as undecided (BlindSpotEvent) or meta.json says
 * the process had one (sameView).
 */
function throughProcLinks(task: Task, name: string): string {
  let resolved = name;
  for (let depth = 0; depth < 8; depth++) {
    const link = PROC_DIR_LINK.exec(resolved);
    if (link === null) return resolved;
    const [whole, who, kind, procFd, devFd, standard] = link;
    const own = who === undefined || who === 'self' || who === 'thread-self' || Number(who) === task.group.tgid || Number(who) === task.tid;
    if (!own) return resolved;
    const base = kind === 'root' ? '/' : kind === 'cwd' ? task.group.cwd : pathOfFd(task, Number(procFd ?? devFd ?? STANDARD_FD[standard!]));
    if (base?.startsWith('/') !== true) return resolved;
    resolved = normalizePath(`${base}${resolved.slice(whole!.length)}`);
  }
  return resolved;
}

/** A name that still goes through a magic link of /proc once resolved (throughProcLinks): the trace cannot say what it names. */
export function throughUnfollowedLink(name: string): boolean {
  return (name.startsWith('/proc/') || name.startsWith('/dev/')) && PROC_DIR_LINK.test(name);
}

/** A name that stayed relative, counted for the report's warning (RelativeNames): nothing told the cwd. */
export function noteRelative(task: Task, name: string, event: EventBase): void {
  if (!name.startsWith('/')) task.group.relative.add(name, task.group.tgid, event);
}

/** The path of a directory fd as the process spelled it: through the symlink it was opened by, if it was (a symlinked directory). */
/** A directory fd's -y annotation when it names a directory by its absolute path now: not one deleted, nor a pseudo file's name. */
function annotatedDir(hint: string | undefined): string | undefined {
  return hint?.startsWith('/') === true && !hint.endsWith(' (deleted)') ? hint : undefined;
}

function pathOfFd(task: Task, fd: number): string | undefined {
  const entry = task.fds.fds.get(fd);
  return entry?.through ?? entry?.file?.displayName;
}

/**
 * A chdir or fchdir. The cwd is kept by the directory's real path, through
 * the symlinks the trace made (`files`): the kernel's cwd is the directory
 * itself, and a rename of it, or of one above it, moves it (Tasks.directoryMoved)
 * only when the cwd is spelled by where it really is (review 26, F4: a cwd
 * entered through a symlink stayed behind when its real directory was
 * renamed, and a relative unlink of a mapped file read as clean).
 */
export function chdir(task: Task, event: ChdirEvent, files: Pick<Files, 'followSymlinks'>): void {
  // A cut path is no directory the trace knows: names relative to it stay relative (RelativeNames).
  if (event.pathCut === true) task.group.cwd = null;
  else if (event.path !== undefined) {
    const cwd = resolveName(task, { fd: 'cwd' }, event.path);
    setCwd(task, (cwd.startsWith('/') ? files.followSymlinks(cwd) : undefined) ?? cwd);
  } else if (event.fd !== undefined) {
    // The call's own annotation first, as for a name relative to the fd (resolveName).
    const cwd = annotatedDir(event.fdHint) ?? pathOfFd(task, event.fd) ?? event.fdHint;
    // A directory fd known by no path (opened before the trace, no -y): the cwd is unknown from here.
    if (cwd?.startsWith('/')) setCwd(task, files.followSymlinks(cwd) ?? cwd);
    else task.group.cwd = null;
  }
}

/** An open relative to the cwd printed with -y shows the cwd itself. */
export function learnCwd(task: Task, dir: DirRef): void {
  if (dir.fd === 'cwd' && dir.hint !== undefined) setCwd(task, dir.hint);
}

/**
 * The process's cwd, kept as long as the process lives: a copy, not the
 * slice of a trace line it may be. Most opens show the cwd the process
 * already has: compared before it is copied.
 */
function setCwd(task: Task, cwd: string): void {
  if (task.group.cwd !== cwd) task.group.cwd = flatCopy(cwd);
}

/** Lexical normalisation: "//" → "/", "/./" → "/", "a/../" → "", a trailing "/" dropped. */
export function normalizePath(path: string): string {
  // A trailing slash names the directory itself (`mv job/ trash/`: review 57, F8).
  if (path.indexOf('//') < 0 && path.indexOf('/.') < 0 && !path.startsWith('.') && (path.length < 2 || !path.endsWith('/'))) return path;
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined === '' ? '.' : joined;
}

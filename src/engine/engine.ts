// The correlation engine: a pure reducer over TraceEvents. It keeps, per
// thread group, the live file mappings (address spaces), the fd tables and one
// identity per file (not per name), and decides findings as soon as they are
// decidable. It knows nothing of files on disk, terminals or processes.
import {
  assertNever,
  CLONE_FILES,
  CLONE_THREAD,
  CLONE_VM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MREMAP_DONTUNMAP,
  type EventBase,
  type Inode,
  type TraceEvent,
  type DirRef,
} from '../parse/events.js';
import { AddressSpace, pageEnd, type MappingRecord } from './address-space.js';
import { hex, SEVERITY_OF, type At, type EvidenceLine, type Finding, type FindingKind, type Resolution } from './findings.js';

/** How many lines of a file's life are kept: the first few and the most recent. */
const EVIDENCE_HEAD = 8;
const EVIDENCE_TAIL = 40;

class FileNode {
  readonly names = new Set<string>();
  /** Every name, in the order the file had them. */
  readonly history: string[] = [];
  inodeKey: string | null = null;
  size: number | null = null;
  /** Sequence number of the last size change, -1 if none seen. */
  sizeChangeSeq = -1;
  fdRefs = 0;
  readonly records = new Set<Record>();
  gone = false;
  /** Findings keep their file alive for evidence. */
  findingRefs = 0;
  // The events themselves are kept; their lines are only built for a report.
  readonly evidenceHead: EventBase[] = [];
  readonly evidenceTail: EventBase[] = [];

  constructor(
    readonly id: number,
    name: string | null,
  ) {
    if (name !== null) this.addName(name);
  }

  addName(name: string): void {
    this.names.add(name);
    if (this.history[this.history.length - 1] !== name) this.history.push(name);
  }

  get displayName(): string {
    return this.history[this.history.length - 1] ?? `(file #${this.id})`;
  }

  note(event: EventBase): void {
    if (this.evidenceHead.length < EVIDENCE_HEAD) this.evidenceHead.push(event);
    else {
      this.evidenceTail.push(event);
      if (this.evidenceTail.length > EVIDENCE_TAIL) {
        this.evidenceTail.shift();
      }
    }
  }

  evidence(): EvidenceLine[] {
    return [...this.evidenceHead, ...this.evidenceTail].flatMap(evidenceLines);
  }
}

interface Record extends MappingRecord<FileNode> {
  mappedAt: At | null;
  unlinkFinding: Finding | null;
  remapFinding: Finding | null;
  /** A mapping of a file already gone whose finding waits to see the mapping live on (see PendingOrphan). */
  pendingOrphan: PendingOrphan | null;
}

/**
 * A mapping of a deleted file that the engine did not see orphaned: one in the
 * start snapshot of an attached capture, or one a fork copied into a child.
 * Its finding is decided only once the mapping is seen to live on (unmapped,
 * released at exit, or still there at the end), because a snapshot can hold
 * a mapping that the trace then shows being made (the snapshot was read after
 * the attach), and a forked child that execs at once never uses what it inherited.
 */
interface PendingOrphan {
  origin: 'snapshot' | 'fork';
  unlinkedAt: At | null;
  unlinkedSeconds: number | null;
  note: string;
}

/** Why mappings went away: a pending orphan is dropped for some causes and decided for others. */
type Release = 'munmap' | 'replaced' | 'exec' | 'exit';

interface FdEntry {
  file: FileNode | null;
  cloexec: boolean;
  /**
   * An open returned this number while it was still live here: the close of
   * the old file was in flight (printed later, as in merged -ff traces where
   * lines carry entry times). The next close of this number is that one.
   */
  closeInFlight?: boolean;
}

class FdTable {
  readonly fds = new Map<number, FdEntry>();
  users = 0;
}

interface Group {
  tgid: number;
  tasks: Set<Task>;
  /** False for threads that existed before the trace (attach): their exit does not end the process. */
  membershipKnown: boolean;
  /** The leader's tid is known to be `tgid`: its exit marker, printed last, ends the group. */
  leaderKnown: boolean;
  cwd: string | null;
}

interface Task {
  tid: number;
  group: Group;
  space: AddressSpace<FileNode>;
  fds: FdTable;
  /** Flags of a clone this task has entered and that has not returned yet. */
  pendingClone: number | null;
}

/** `updated`: a fact of a finding changed after it was decided (its pid, once the trace named the process). */
export type EngineChange = { type: 'decided'; finding: Finding } | { type: 'resolved'; finding: Finding } | { type: 'updated'; finding: Finding };

export interface EngineOptions {
  /** tid → tgid, from bundle metadata or the tracer. */
  threadGroups?: ReadonlyMap<number, number>;
  /** The traced process, when known (bundle metadata): names the group of threads seen without a clone. */
  rootPid?: number;
  /**
   * Lines are in entry-time order (merged strace -ff files), so a munmap can
   * be printed after the mmap that reused its range.
   */
  entryOrdered?: boolean;
  /**
   * The pid the user asked about (`analyze --pid`): names the process of the
   * threads seen without their clone (an attach trace) when its leader never shows.
   */
  pidHint?: number;
}

export interface EngineStats {
  events: number;
  processes: number;
  liveMappings: number;
  deletedMappings: number;
  deletedBytes: number;
}

export interface SeedMapping {
  start: number;
  end: number;
  offset: number;
  path: string;
  deleted: boolean;
  inode?: Inode;
  place: { file: string; line: number };
  text: string;
}

const NO_CHANGES: EngineChange[] = [];

/** How many events of unknown threads may wait for a clone to return before they are taken as they come. */
const MAX_AWAITING_CLONE = 4096;

/** The threads taken for the process a trace attached to, to name it at the end. */
class GuessedProcess {
  group: Group | null = null;
  lowestTid = Number.MAX_SAFE_INTEGER;
  count = 0;

  note(group: Group, tid: number): void {
    this.group = group;
    this.count++;
    if (tid < this.lowestTid) this.lowestTid = tid;
  }
}

export class Engine {
  private readonly tasks = new Map<number, Task>();
  private readonly groups = new Map<number, Group>();
  private readonly names = new Map<string, FileNode>();
  private readonly inodes = new Map<string, FileNode>();
  private readonly allFindings: Finding[] = [];
  private seq = 0;
  private nextId = 1;
  private events = 0;
  private processCount = 0;
  private changes: EngineChange[] = NO_CHANGES;
  /** Threads whose clone we have not seen are put here: the attached process. */
  private initialGroup: Group | null = null;

  constructor(private readonly options: EngineOptions = {}) {}

  /** `strace: Process N attached`: the first one names the process the trace is about. */
  noteAttached(tid: number): void {
    this.attachedRoot ??= tid;
  }

  private attachedRoot: number | undefined;

  /**
   * The process known as `from` (printed without a pid) was `to`: its task,
   * group and findings take the real id. Called at the end of a trace.
   */
  renameTask(from: number, to: number): EngineChange[] {
    this.changes = NO_CHANGES;
    const task = this.tasks.get(from);
    if (task !== undefined && !this.tasks.has(to)) {
      this.tasks.delete(from);
      task.tid = to;
      this.tasks.set(to, task);
    }
    const group = this.groups.get(from);
    if (group !== undefined && !this.groups.has(to)) {
      this.groups.delete(from);
      group.tgid = to;
      this.groups.set(to, group);
    }
    for (const space of new Set([...this.tasks.values()].map((t) => t.space))) if (space.ownerTgid === from) space.ownerTgid = to;
    this.renumberFindings(from, to);
    return this.changes;
  }

  /** Findings already out (live views, NDJSON) hear of the new pid. */
  private renumberFindings(from: number, to: number): void {
    for (const finding of this.allFindings) {
      if (finding.pid !== from) continue;
      finding.pid = to;
      this.push({ type: 'updated', finding });
    }
  }

  /** Apply one event; returns the findings decided or resolved by it. */
  apply(event: TraceEvent): EngineChange[] {
    this.changes = NO_CHANGES;
    this.events++;
    if (this.mustWaitForClone(event)) this.awaitingClone.push(event);
    else this.applyNow(event);
    if (event.kind === 'clone' && this.awaitingClone.length > 0) this.replayAwaitingClone(false);
    return this.changes;
  }

  /**
   * A thread never seen before, while a clone is in flight: the clone's child
   * (printed before its parent's clone returned), or a thread that ran before
   * an attach. Which one, only the clone's return value says, so its events
   * wait for it: taken for the child of a fork, a thread of the attached
   * process would get an address space of its own.
   */
  private mustWaitForClone(event: TraceEvent): boolean {
    if (this.clonesInFlight.size === 0 || this.tasks.has(event.tid) || event.tgid !== undefined) return false;
    if (this.options.threadGroups?.has(event.tid) === true) return false;
    if (this.awaitingClone.length >= MAX_AWAITING_CLONE) {
      this.replayAwaitingClone(true);
      return false;
    }
    return true;
  }

  private replayAwaitingClone(force: boolean): void {
    const waiting = this.awaitingClone.splice(0);
    for (const event of waiting) {
      if (!force && this.mustWaitForClone(event)) this.awaitingClone.push(event);
      else this.applyNow(event);
    }
  }

  private applyNow(event: TraceEvent): void {
    this.seq++;
    // Exit markers of threads already gone (exit_group prints them in any order) must not create tasks.
    if (event.kind === 'thread-exit' && !this.tasks.has(event.tid)) return;
    const task = this.taskFor(event.tid, event.tgid);
    this.dispatch(task, event);
  }

  private dispatch(task: Task, event: TraceEvent): EngineChange[] {
    switch (event.kind) {
      case 'open': return this.open(task, event), this.changes;
      case 'close': return this.closeFd(task, event.fd, event), this.changes;
      case 'close-range': return this.closeRange(task, event.low, event.high, event.cloexecOnly, event.unshare === true, event), this.changes;
      case 'dup': return this.dup(task, event.oldFd, event.newFd, event.cloexec, event.oldHint, event), this.changes;
      case 'set-cloexec': {
        const entry = task.fds.fds.get(event.fd);
        if (entry !== undefined) entry.cloexec = event.cloexec;
        return this.changes;
      }
      case 'mmap': return this.mmap(task, event), this.changes;
      case 'munmap': {
        const end = pageEnd(event.address, event.length);
        if (this.consumeUnmapInFlight(task.space, event.address, end)) return this.changes;
        const touched = task.space.removeRange(event.address, end);
        this.noteOnRecords(touched, event);
        this.settle(touched, 'unmapped', event, 'munmap');
        return this.changes;
      }
      case 'mremap': return this.mremap(task, event), this.changes;
      case 'truncate': return this.truncate(task, event), this.changes;
      case 'rename': return this.rename(task, event), this.changes;
      case 'link': {
        const file = this.names.get(this.resolve(task, event.oldDir, event.oldPath));
        if (file !== undefined) {
          const name = this.resolve(task, event.newDir, event.newPath);
          file.addName(name);
          this.names.set(name, file);
          file.note(event);
        }
        return this.changes;
      }
      case 'unlink': return this.unlink(task, event), this.changes;
      case 'chdir': {
        if (event.path !== undefined) task.group.cwd = this.resolve(task, { fd: 'cwd' }, event.path);
        else if (event.fd !== undefined) task.group.cwd = task.fds.fds.get(event.fd)?.file?.displayName ?? event.fdHint ?? task.group.cwd;
        return this.changes;
      }
      case 'clone-start':
        task.pendingClone = event.flags;
        this.clonesInFlight.add(task);
        return this.changes;
      case 'clone': return this.clone(task, event.childTid, event.flags), this.changes;
      case 'exec': return this.exec(task, event), this.changes;
      case 'thread-exit': return this.threadExit(task, event), this.changes;
      case 'lost':
        return this.changes;
      default:
        return assertNever(event);
    }
  }

  /**
   * Seed an address space with the mappings that existed before the trace
   * (a bundle's maps-start.txt). Mappings of files already deleted become
   * findings at once: their unlink happened before the capture.
   */
  seedMappings(pid: number, mappings: readonly SeedMapping[]): EngineChange[] {
    this.changes = NO_CHANGES;
    // The captured process: its leader is known, its threads only as they show up.
    if (!this.groups.has(pid)) this.newGroup(pid, false, true);
    const task = this.taskFor(pid, pid);
    for (const seed of mappings) {
      let file: FileNode | undefined;
      const key = seed.inode === undefined ? null : inodeKey(seed.inode);
      if (key !== null) file = this.inodes.get(key);
      if (file === undefined && !seed.deleted) file = this.names.get(seed.path);
      if (file === undefined) {
        file = this.newFile(seed.deleted ? null : seed.path);
        if (seed.deleted) {
          file.history.push(seed.path);
          file.gone = true;
        }
        if (key !== null) {
          file.inodeKey = key;
          this.inodes.set(key, file);
        }
      }
      file.note({ place: seed.place, time: null, seconds: null, tid: 0, raw: seed.text });
      const at: At = { file: seed.place.file, line: seed.place.line, time: null, tid: null };
      const record = this.addRecord(task.space, file, seed.start, seed.end - seed.start, seed.offset, at, seed.end);
      if (seed.deleted) {
        record.pendingOrphan = {
          origin: 'snapshot',
          unlinkedAt: null,
          unlinkedSeconds: null,
          note: 'The file was already deleted when the capture started (maps at start); its unlink is not in the trace.',
        };
        this.pendingOrphans.add(record);
      }
    }
    return this.changes;
  }

  /** The trace ended: every finding whose mapping is still live is `still-mapped`. */
  finish(): EngineChange[] {
    this.changes = NO_CHANGES;
    this.replayAwaitingClone(true);
    this.nameGuessedProcess();
    for (const record of this.pendingOrphans) {
      if (record.pendingOrphan !== null) this.decidePending(record, record.pendingOrphan);
      record.pendingOrphan = null;
    }
    this.pendingOrphans.clear();
    for (const finding of this.allFindings) {
      if (finding.resolution === null) this.resolveFinding(finding, 'still-mapped', null);
    }
    return this.changes;
  }

  findings(): readonly Finding[] {
    return this.allFindings;
  }

  /** The file's life so far, for a finding's evidence. */
  evidenceOf(finding: Finding): EvidenceLine[] {
    return this.findingFiles.get(finding)?.evidence() ?? finding.evidence;
  }

  stats(): EngineStats {
    let liveMappings = 0;
    let deletedMappings = 0;
    let deletedBytes = 0;
    const seen = new Set<AddressSpace<FileNode>>();
    for (const task of this.tasks.values()) {
      if (seen.has(task.space)) continue;
      seen.add(task.space);
      liveMappings += task.space.liveCount;
      for (const piece of task.space.pieces) {
        if (piece.record.file.gone) {
          deletedMappings++;
          deletedBytes += piece.end - piece.start;
        }
      }
    }
    return { events: this.events, processes: this.processCount, liveMappings, deletedMappings, deletedBytes };
  }

  // ---- tasks and groups -------------------------------------------------

  private taskFor(tid: number, tgid: number | undefined): Task {
    const known = this.tasks.get(tid);
    if (known !== undefined) return known;
    const groupId = tgid ?? this.options.threadGroups?.get(tid);
    let group: Group;
    if (groupId !== undefined) {
      group = this.groups.get(groupId) ?? this.newGroup(groupId, groupId === tid, true);
    } else {
      // Threads that existed before the trace began (attach, or no -f): one
      // process, whose members and leader we learn only as they show up. A
      // trace that starts at an execve learns both there (exec).
      const root = this.options.rootPid ?? this.attachedRoot;
      const rootGroup = root === undefined ? undefined : this.groups.get(root);
      group = this.initialGroup ?? rootGroup ?? this.newGroup(root ?? tid, false, root !== undefined || tid === 0);
      this.initialGroup = group;
      if (!group.leaderKnown) this.guessed.note(group, tid);
    }
    const sibling = group.tasks.values().next().value as Task | undefined;
    const task: Task = {
      tid,
      group,
      space: sibling?.space ?? new AddressSpace<FileNode>(this.nextId++, group.tgid),
      fds: sibling?.fds ?? new FdTable(),
      pendingClone: null,
    };
    this.attach(task);
    return task;
  }

  private newGroup(tgid: number, membershipKnown: boolean, leaderKnown: boolean): Group {
    const group: Group = { tgid, tasks: new Set(), membershipKnown, leaderKnown, cwd: null };
    this.groups.set(tgid, group);
    this.processCount++;
    return group;
  }

  private attach(task: Task): void {
    task.group.tasks.add(task);
    task.space.users++;
    task.fds.users++;
    this.tasks.set(task.tid, task);
  }

  private clone(parent: Task, childTid: number, flags: number): Task {
    parent.pendingClone = null;
    this.clonesInFlight.delete(parent);
    if (childTid <= 0) return parent; // the clone failed: no child
    const existing = this.tasks.get(childTid);
    if (existing !== undefined) return existing;
    let group: Group;
    if ((flags & CLONE_THREAD) !== 0) group = parent.group;
    else {
      group = this.newGroup(childTid, true, true);
      group.cwd = parent.group.cwd;
    }
    let space: AddressSpace<FileNode>;
    if ((flags & CLONE_VM) !== 0) space = parent.space;
    else {
      space = new AddressSpace<FileNode>(this.nextId++, group.tgid);
      // One copy per mapping, however many pieces partial munmaps left of it.
      const copies = new Map<Record, Record>();
      for (const piece of parent.space.pieces) {
        const source = piece.record as Record;
        const known = copies.get(source);
        if (known !== undefined) {
          space.insert({ start: piece.start, end: piece.end, record: known });
          continue;
        }
        const copy = this.addRecord(space, source.file, piece.start, source.length, source.offset, source.mappedAt, piece.end, source.address);
        copies.set(source, copy);
        copy.seq = source.seq;
        const orphan = source.unlinkFinding ?? source.pendingOrphan;
        if (source.file.gone && orphan !== null && copy.pendingOrphan === null) {
          copy.pendingOrphan = {
            origin: 'fork',
            unlinkedAt: orphan.unlinkedAt,
            unlinkedSeconds: source.unlinkFinding !== null ? (this.decidedSeconds.get(source.unlinkFinding) ?? null) : (source.pendingOrphan?.unlinkedSeconds ?? null),
            note: `Inherited by fork from process ${parent.group.tgid}, whose mapping of this file outlived it too.`,
          };
          this.pendingOrphans.add(copy);
        }
      }
    }
    let fds: FdTable;
    if ((flags & CLONE_FILES) !== 0) fds = parent.fds;
    else {
      fds = new FdTable();
      for (const [fd, entry] of parent.fds.fds) {
        fds.fds.set(fd, { ...entry });
        if (entry.file !== null) entry.file.fdRefs++;
      }
    }
    const child: Task = { tid: childTid, group, space, fds, pendingClone: null };
    this.attach(child);
    return child;
  }

  private exec(task: Task, event: TraceEvent & { kind: 'exec' }): void {
    if (event.formerTid !== undefined && event.formerTid !== task.tid) {
      const former = this.tasks.get(event.formerTid);
      if (former !== undefined) this.detach(former, null);
    }
    // Every other thread of the group dies; the address space is replaced.
    for (const other of [...task.group.tasks]) if (other !== task) this.detach(other, null);
    const oldSpace = task.space;
    oldSpace.users--;
    if (oldSpace.users <= 0) this.settle(oldSpace.clear(), 'process-exited', event, 'exec');
    task.space = new AddressSpace<FileNode>(this.nextId++, task.group.tgid);
    task.space.users = 1;
    // The fd table is unshared and close-on-exec fds go.
    const oldFds = task.fds;
    const fds = new FdTable();
    fds.users = 1;
    for (const [fd, entry] of oldFds.fds) {
      if (entry.cloexec) continue;
      fds.fds.set(fd, { ...entry });
      if (entry.file !== null) entry.file.fdRefs++;
    }
    this.releaseFdTable(oldFds);
    task.fds = fds;
    // After an execve the caller is the leader and every later thread is cloned in view.
    task.group.membershipKnown = true;
    task.group.leaderKnown = task.tid === task.group.tgid;
  }

  private threadExit(task: Task, event: TraceEvent & { kind: 'thread-exit' }): void {
    const group = task.group;
    this.detach(task, event);
    // The leader's exit is reported only once the whole group is gone.
    const groupGone = event.groupDead === true || (group.leaderKnown && task.tid === group.tgid) || (group.membershipKnown && group.tasks.size === 0);
    if (groupGone) {
      for (const other of [...group.tasks]) this.detach(other, event);
      if (this.groups.get(group.tgid) === group) this.groups.delete(group.tgid);
      if (this.initialGroup === group) this.initialGroup = null;
    }
  }

  private detach(task: Task, event: EventBase | null): void {
    if (this.tasks.get(task.tid) === task) this.tasks.delete(task.tid);
    this.clonesInFlight.delete(task);
    task.group.tasks.delete(task);
    task.space.users--;
    if (task.space.users <= 0) this.settle(task.space.clear(), 'process-exited', event, 'exit');
    this.releaseFdTable(task.fds);
  }

  private releaseFdTable(table: FdTable): void {
    table.users--;
    if (table.users > 0) return;
    for (const entry of table.fds.values()) this.dropFdRef(entry.file);
    table.fds.clear();
  }

  // ---- fds and names ------------------------------------------------------

  private open(task: Task, event: TraceEvent & { kind: 'open' }): void {
    if (event.dir.fd === 'cwd' && event.dir.hint !== undefined) task.group.cwd = event.dir.hint;
    const name = this.resolve(task, event.dir, event.path);
    let file: FileNode | undefined;
    const key = event.inode === undefined ? null : inodeKey(event.inode);
    if (key !== null) file = this.inodes.get(key);
    file ??= this.names.get(name);
    if (file === undefined && event.resolvedHint !== undefined && event.resolvedHint !== name) file = this.names.get(event.resolvedHint);
    if (file === undefined) file = this.newFile(name);
    else if (!file.names.has(name) && !file.gone) {
      file.addName(name);
      this.names.set(name, file);
    }
    if (key !== null && file.inodeKey === null) {
      file.inodeKey = key;
      this.inodes.set(key, file);
    }
    this.setFd(task, event.fd, file, event.cloexec, true);
    file.note(event);
  }

  private setFd(task: Task, fd: number, file: FileNode | null, cloexec: boolean, handedOut = false): void {
    const previous = task.fds.fds.get(fd);
    // An fd number handed out again proves the old one was closed (maybe by a
    // close still <unfinished ...> on another thread).
    if (previous !== undefined) this.dropFdRef(previous.file);
    const entry: FdEntry = { file, cloexec };
    if (handedOut && previous !== undefined && previous.file !== file) entry.closeInFlight = true;
    task.fds.fds.set(fd, entry);
    if (file !== null) file.fdRefs++;
  }

  private closeFd(task: Task, fd: number, event: EventBase): void {
    const entry = task.fds.fds.get(fd);
    if (entry === undefined) return;
    if (entry.closeInFlight === true) {
      // This close released the previous file, already dropped when the number came back.
      entry.closeInFlight = false;
      return;
    }
    task.fds.fds.delete(fd);
    entry.file?.note(event);
    this.dropFdRef(entry.file);
  }

  private closeRange(task: Task, low: number, high: number, cloexecOnly: boolean, unshare: boolean, event: EventBase): void {
    if (unshare && task.fds.users > 1) {
      // CLOSE_RANGE_UNSHARE: this task gets its own copy first; the others keep theirs open.
      const copy = new FdTable();
      copy.users = 1;
      for (const [fd, entry] of task.fds.fds) {
        copy.fds.set(fd, { file: entry.file, cloexec: entry.cloexec });
        if (entry.file !== null) entry.file.fdRefs++;
      }
      this.releaseFdTable(task.fds);
      task.fds = copy;
    }
    for (const fd of [...task.fds.fds.keys()]) {
      if (fd < low || fd > high) continue;
      if (cloexecOnly) task.fds.fds.get(fd)!.cloexec = true;
      else this.closeFd(task, fd, event);
    }
  }

  private dup(task: Task, oldFd: number, newFd: number, cloexec: boolean, oldHint: string | undefined, event: EventBase): void {
    if (oldFd === newFd) return;
    const file = this.fileOfFd(task, oldFd, oldHint);
    this.setFd(task, newFd, file, cloexec);
    file?.note(event);
  }

  /** The file behind an fd; an fd opened before the trace is named from the -y hint. */
  private fileOfFd(task: Task, fd: number, hint: string | undefined, inode?: Inode): FileNode | null {
    const key = inode === undefined ? null : inodeKey(inode);
    if (key !== null) {
      const byInode = this.inodes.get(key);
      if (byInode !== undefined) return byInode;
    }
    const entry = task.fds.fds.get(fd);
    if (entry !== undefined) return entry.file;
    let file: FileNode | undefined = hint === undefined ? undefined : this.names.get(hint);
    if (file === undefined) {
      file = this.newFile(hint !== undefined && hint.startsWith('/') ? hint : null);
      if (file.history.length === 0) file.history.push(hint ?? `(fd ${fd}, opened before the trace)`);
    }
    if (key !== null) {
      file.inodeKey = key;
      this.inodes.set(key, file);
    }
    this.setFd(task, fd, file, false);
    return file;
  }

  private dropFdRef(file: FileNode | null): void {
    if (file === null) return;
    file.fdRefs--;
    this.maybeForget(file);
  }

  /** A file with no fd, no live mapping and no finding can be forgotten: memory stays flat. */
  private maybeForget(file: FileNode): void {
    if (file.fdRefs > 0 || file.records.size > 0) return;
    // A deleted file that nothing holds is freed by the kernel, and its inode
    // number comes back for the next file created: it must not lead here.
    if (file.gone && file.inodeKey !== null && this.inodes.get(file.inodeKey) === file) this.inodes.delete(file.inodeKey);
    if (file.findingRefs > 0) return;
    for (const name of file.names) if (this.names.get(name) === file) this.names.delete(name);
    if (file.inodeKey !== null && this.inodes.get(file.inodeKey) === file) this.inodes.delete(file.inodeKey);
  }

  private newFile(name: string | null): FileNode {
    const file = new FileNode(this.nextId++, name);
    if (name !== null) {
      const previous = this.names.get(name);
      if (previous !== undefined && previous !== file) previous.names.delete(name);
      this.names.set(name, file);
    }
    return file;
  }

  private resolve(task: Task, dir: DirRef, path: string): string {
    if (path.startsWith('/')) return normalizePath(path);
    let base: string | null;
    if (dir.fd === 'cwd') base = task.group.cwd ?? dir.hint ?? null;
    else base = task.fds.fds.get(dir.fd)?.file?.displayName ?? dir.hint ?? null;
    if (base === null || !base.startsWith('/')) return normalizePath(path);
    return normalizePath(`${base}/${path}`);
  }

  private truncate(task: Task, event: TraceEvent & { kind: 'truncate' }): void {
    let file: FileNode | null | undefined;
    if (event.fd !== undefined) file = this.fileOfFd(task, event.fd, event.fdHint, event.inode);
    else if (event.path !== undefined) file = this.names.get(this.resolve(task, event.dir ?? { fd: 'cwd' }, event.path));
    if (file === null || file === undefined) return;
    if (file.size !== event.length) {
      file.size = event.length;
      file.sizeChangeSeq = this.seq;
    }
    file.note(event);
  }

  private rename(task: Task, event: TraceEvent & { kind: 'rename' }): void {
    const from = this.resolve(task, event.oldDir, event.oldPath);
    const to = this.resolve(task, event.newDir, event.newPath);
    if (from === to) return;
    const moving = this.names.get(from);
    const replaced = this.names.get(to);
    if (event.exchange) {
      if (moving !== undefined) this.moveName(moving, from, to);
      if (replaced !== undefined) this.moveName(replaced, to, from);
      if (moving !== undefined) this.names.set(to, moving);
      else this.names.delete(to);
      if (replaced !== undefined) this.names.set(from, replaced);
      else this.names.delete(from);
      moving?.note(event);
      replaced?.note(event);
      return;
    }
    // Renaming over an existing name unlinks the file that had it.
    if (replaced !== undefined && replaced !== moving) {
      replaced.note(event);
      this.removeName(replaced, to, event);
    }
    if (moving === undefined) {
      this.names.delete(to);
      // Not a file we know: perhaps a directory (Kafka renames a deleted
      // partition's directory to "…-delete", then unlinks the files in it).
      this.renameDirectory(from, to, event);
      return;
    }
    this.moveName(moving, from, to);
    this.names.delete(from);
    this.names.set(to, moving);
    moving.note(event);
  }

  private renameDirectory(from: string, to: string, event: EventBase): void {
    const prefix = `${from}/`;
    const moved: [string, FileNode][] = [];
    for (const entry of this.names) if (entry[0].startsWith(prefix)) moved.push(entry);
    for (const [name, file] of moved) {
      const renamed = to + name.slice(from.length);
      this.names.delete(name);
      this.moveName(file, name, renamed);
      this.names.set(renamed, file);
      file.note(event);
    }
  }

  private moveName(file: FileNode, from: string, to: string): void {
    file.names.delete(from);
    file.addName(to);
  }

  private unlink(task: Task, event: TraceEvent & { kind: 'unlink' }): void {
    if (event.removeDir) return;
    const name = this.resolve(task, event.dir, event.path);
    let file: FileNode | undefined;
    if (event.inode !== undefined) file = this.inodes.get(inodeKey(event.inode));
    file ??= this.names.get(name);
    if (file === undefined) return;
    file.note(event);
    this.removeName(file, name, event, event.nlinkAfter);
  }

  /** A name goes; when it was the file's last, every live mapping of the file is orphaned. */
  private removeName(file: FileNode, name: string, event: EventBase, nlinkAfter?: number): void {
    file.names.delete(name);
    if (this.names.get(name) === file) this.names.delete(name);
    const lastName = nlinkAfter !== undefined ? nlinkAfter === 0 : file.names.size === 0;
    if (!lastName || file.gone) return;
    file.gone = true;
    for (const name of file.names) if (this.names.get(name) === file) this.names.delete(name);
    file.names.clear();
    const unlinkedAt = this.at(event);
    for (const record of file.records) {
      if (record.remapFinding !== null && record.remapFinding.unlinkedAt === null) record.remapFinding.unlinkedAt = unlinkedAt;
      if (record.unlinkFinding === null) record.unlinkFinding = this.decide('unlinked-while-mapped', record, { unlinkedAt }, event.seconds);
    }
    this.maybeForget(file);
  }

  // ---- mappings -----------------------------------------------------------

  private mmap(task: Task, event: TraceEvent & { kind: 'mmap' }): void {
    const end = pageEnd(event.address, event.length);
    // MAP_FIXED replaces what was there; a non-fixed mmap that returns a live
    // range proves that range was unmapped already (a munmap in flight).
    const replaced = task.space.removeRange(event.address, end);
    if (this.options.entryOrdered === true && (event.flags & MAP_FIXED) === 0) this.expectUnmapsInFlight(task.space, replaced);
    this.settle(replaced, 'unmapped', event, 'replaced');
    if (event.fd < 0 || (event.flags & MAP_ANONYMOUS) !== 0) return;
    const file = this.fileOfFd(task, event.fd, event.fdHint, event.inode);
    if (file === null) return;
    file.note(event);
    const remappedAt = this.at(event);
    // The resize signature: mapped, size changed, mapped again, old mapping still live.
    for (const old of file.records) {
      if (old.space !== task.space || old.remapFinding !== null || old.seq >= file.sizeChangeSeq) continue;
      // A window onto another part of the file (a mapper that grows by chunks) is not a remap.
      if (old.offset >= event.offset + event.length || event.offset >= old.offset + old.length) continue;
      old.remapFinding = this.decide('remapped-without-unmap', old, { remappedAt, newAddress: hex(event.address) }, event.seconds);
    }
    this.addRecord(task.space, file, event.address, event.length, event.offset, remappedAt, end);
  }

  /**
   * A non-fixed mmap returned a range that was still live: its munmap had
   * happened in the kernel but is printed later (merged -ff traces carry entry
   * times). Remember the old ranges so that late munmap does not remove the
   * new mapping.
   */
  private expectUnmapsInFlight(space: AddressSpace<FileNode>, replaced: MappingRecord<FileNode>[]): void {
    const pending = this.unmapsInFlight.get(space) ?? new Map<number, number>();
    for (const record of replaced) pending.set(record.address, pageEnd(record.address, record.length));
    while (pending.size > 64) pending.delete(pending.keys().next().value as number);
    if (pending.size > 0) this.unmapsInFlight.set(space, pending);
  }

  private consumeUnmapInFlight(space: AddressSpace<FileNode>, start: number, end: number): boolean {
    const pending = this.unmapsInFlight.get(space);
    if (pending?.get(start) !== end) return false;
    pending.delete(start);
    return true;
  }

  private readonly unmapsInFlight = new WeakMap<AddressSpace<FileNode>, Map<number, number>>();

  private mremap(task: Task, event: TraceEvent & { kind: 'mremap' }): void {
    const oldEnd = pageEnd(event.oldAddress, event.oldLength);
    const moved = task.space.pieces.find((piece) => piece.start < oldEnd && piece.end > event.oldAddress)?.record as Record | undefined;
    const touched: Record[] = [];
    if ((event.flags & MREMAP_DONTUNMAP) === 0) touched.push(...(task.space.removeRange(event.oldAddress, oldEnd) as Record[]));
    touched.push(...(task.space.removeRange(event.newAddress, pageEnd(event.newAddress, event.newLength)) as Record[]));
    if (moved !== undefined) {
      // Same mapping, new place: its findings follow it.
      if (moved.address === event.oldAddress && moved.pieces === 0) {
        moved.address = event.newAddress;
        moved.length = event.newLength;
      }
      task.space.insert({ start: event.newAddress, end: pageEnd(event.newAddress, event.newLength), record: moved });
      moved.file.records.add(moved);
      moved.file.note(event);
    }
    this.settle(touched, 'unmapped', event, 'munmap');
  }

  private addRecord(space: AddressSpace<FileNode>, file: FileNode, address: number, length: number, offset: number, mappedAt: At | null, end: number, originalAddress = address): Record {
    const record: Record = {
      id: this.nextId++, file, space, address: originalAddress, length, offset, seq: this.seq, pieces: 0,
      mappedAt, unlinkFinding: null, remapFinding: null, pendingOrphan: null,
    };
    space.insert({ start: address, end, record });
    file.records.add(record);
    return record;
  }

  private noteOnRecords(records: MappingRecord<FileNode>[], event: EventBase): void {
    const files = new Set(records.map((record) => record.file));
    for (const file of files) file.note(event);
  }

  /** Records that lost pieces: those with none left are gone, and so are their findings. */
  private settle(records: MappingRecord<FileNode>[], how: Resolution, event: EventBase | null, cause: Release): void {
    for (const base of records) {
      const record = base as Record;
      if (record.pieces > 0) continue;
      if (!record.file.records.delete(record)) continue;
      if (record.pendingOrphan !== null) {
        const pending = record.pendingOrphan;
        this.pendingOrphans.delete(record);
        record.pendingOrphan = null;
        // An exec drops what a fork copied unused; a snapshot mapping that a traced mmap makes anew was that very mapping.
        const unused = cause === 'exec' || (cause === 'replaced' && pending.origin === 'snapshot');
        if (!unused) this.decidePending(record, pending);
      }
      if (record.unlinkFinding !== null) this.resolveFinding(record.unlinkFinding, how, event);
      if (record.remapFinding !== null) this.resolveFinding(record.remapFinding, how, event);
      this.maybeForget(record.file);
    }
  }

  // ---- findings -----------------------------------------------------------

  private readonly pendingOrphans = new Set<Record>();
  /** Tasks inside a clone that has not returned yet. */
  private readonly clonesInFlight = new Set<Task>();
  /** Events of unknown threads, waiting for a clone in flight to return. */
  private readonly awaitingClone: TraceEvent[] = [];
  private readonly guessed = new GuessedProcess();
  private readonly notes: string[] = [];

  /** What the engine had to assume because the trace could not say, in plain words for a report. */
  assumptions(): readonly string[] {
    return this.notes;
  }

  /**
   * The process whose threads ran before the trace began (an attach) and
   * whose leader never showed itself: named by --pid when that fits, else by
   * its lowest thread id (a leader's tid is its pid, and it is the first thread).
   */
  private nameGuessedProcess(): void {
    const group = this.guessed.group;
    if (group === null || group.leaderKnown) return;
    const lowest = this.guessed.lowestTid;
    const hint = this.options.pidHint;
    const fromHint = hint !== undefined && hint <= lowest && (hint === group.tgid || !this.groups.has(hint));
    const pid = fromHint ? hint : lowest;
    const tids = this.guessed.count === 1 ? `thread ${lowest}` : `${this.guessed.count} threads (lowest ${lowest})`;
    this.notes.push(
      `${tids} ran before the trace began and showed no clone: taken as one process, pid ${pid}` +
        (fromHint ? ' (from --pid)' : '; its leader made no traced call, so the lowest thread id names it: pass --pid PID to name it yourself') +
        '. A thread\'s exit is not taken for the process\'s.',
    );
    if (pid !== group.tgid) this.renameGroup(group, pid);
  }

  private renameGroup(group: Group, pid: number): void {
    const from = group.tgid;
    if (this.groups.get(from) === group) this.groups.delete(from);
    group.tgid = pid;
    this.groups.set(pid, group);
    for (const task of group.tasks) task.space.ownerTgid = pid;
    this.renumberFindings(from, pid);
  }

  private decidePending(record: Record, pending: PendingOrphan): void {
    const finding = this.decide('unlinked-while-mapped', record, { unlinkedAt: pending.unlinkedAt }, pending.unlinkedSeconds);
    finding.note ??= pending.note;
    record.unlinkFinding = finding;
  }

  private readonly findingFiles = new WeakMap<Finding, FileNode>();
  /** When each finding was decided, in trace seconds: the start of its delay. */
  private readonly decidedSeconds = new WeakMap<Finding, number>();

  private decide(kind: FindingKind, record: Record, fields: Partial<Finding>, seconds: number | null): Finding {
    const file = record.file;
    const held = stillMapped(record);
    const finding: Finding = {
      id: `F${this.allFindings.length + 1}`,
      kind,
      severity: SEVERITY_OF[kind],
      pid: record.space.ownerTgid,
      path: file.displayName,
      names: [...file.history],
      address: hex(held.address),
      length: held.length,
      mappedAt: record.mappedAt,
      unlinkedAt: null,
      remappedAt: null,
      newAddress: null,
      resolution: null,
      resolvedAt: null,
      delayMs: null,
      confirmedByMaps: null,
      evidence: file.evidence(),
      note: null,
      ...fields,
    };
    if (held.ranges !== undefined) {
      finding.ranges = held.ranges;
      finding.mapped = { address: hex(record.address), length: record.length };
    }
    const benign = benignNote(file.displayName);
    if (benign !== null) {
      finding.note = benign;
      finding.severity = 'info';
    }
    file.findingRefs++;
    this.findingFiles.set(finding, file);
    if (seconds !== null) this.decidedSeconds.set(finding, seconds);
    this.allFindings.push(finding);
    this.push({ type: 'decided', finding });
    return finding;
  }

  private resolveFinding(finding: Finding, how: Resolution, event: EventBase | null): void {
    const decidedSeconds = this.decidedSeconds.get(finding) ?? null;
    if (finding.resolution !== null) return;
    finding.resolution = how;
    finding.resolvedAt = event === null ? null : this.at(event);
    if (event !== null && event.seconds !== null && decidedSeconds !== null) {
      finding.delayMs = Math.round((event.seconds - decidedSeconds) * 1e6) / 1e3;
    }
    const file = this.findingFiles.get(finding);
    if (file !== undefined) finding.evidence = file.evidence();
    this.push({ type: 'resolved', finding });
  }

  private push(change: EngineChange): void {
    if (this.changes === NO_CHANGES) this.changes = [];
    this.changes.push(change);
  }

  private at(event: EventBase): At {
    const at: At = { file: event.place.file, line: event.place.line, time: event.time, seconds: event.seconds, tid: event.tid };
    if (event.comm !== undefined) at.comm = event.comm;
    return at;
  }

}

/**
 * What a mapping still holds: mmap's own address and length while it is
 * whole; once partial munmaps cut it, its pieces (page-rounded, as /proc
 * shows them), even if one piece is left.
 */
function stillMapped(record: Record): { address: number; length: number; ranges?: { address: string; length: number }[] } {
  const pieces = record.space.piecesOf(record);
  const whole = pieces.length === 1 && pieces[0]!.start === record.address && pieces[0]!.end === pageEnd(record.address, record.length);
  if (pieces.length === 0 || whole) return { address: record.address, length: record.length };
  const length = pieces.reduce((sum, piece) => sum + piece.end - piece.start, 0);
  return { address: pieces[0]!.start, length, ranges: pieces.map((piece) => ({ address: hex(piece.start), length: piece.end - piece.start })) };
}

/** The physical lines an event was read from (two for an unfinished/resumed pair). */
function evidenceLines(event: EventBase): EvidenceLine[] {
  const texts = event.raw.split('\n');
  const numbers = event.lines ?? [event.place.line];
  const tid = event.tid === 0 ? null : event.tid;
  return texts.map((text, index) => ({ file: event.place.file, line: numbers[index] ?? event.place.line, text, time: event.time, tid }));
}

function inodeKey(inode: Inode): string {
  return `${inode.dev}:${inode.ino}`;
}

/** Lexical normalisation: "//" → "/", "/./" → "/", "a/../" → "". */
export function normalizePath(path: string): string {
  if (path.indexOf('//') < 0 && path.indexOf('/.') < 0 && !path.startsWith('.')) return path;
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

const HSPERFDATA = /\/hsperfdata_[^/]+\/\d+$/;

function benignNote(path: string): string | null {
  if (HSPERFDATA.test(path)) {
    return 'The JVM\'s own performance-data file (hsperfdata): the JVM unlinks it at exit without unmapping it first. Benign; not a leak.';
  }
  return null;
}

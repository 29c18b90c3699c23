// Threads and thread groups: which address space and fd table each thread
// uses, from clone flags (CLONE_THREAD/CLONE_VM/CLONE_FILES), bundle metadata
// or the tgid bpftrace prints; execve and exit. Threads that ran before an
// attach are taken as one process whose members show up one by one.
//
// Every walk over threads or processes counts its steps (Counters.taskSteps):
// issue #11 found a walk over every known thread for each thread seen
// without its clone, and an attach trace of 100k threads took 21 s. Tests
// hold the steps linear in the threads (test/engine-work.test.ts).
import { CLONE_FILES, CLONE_THREAD, CLONE_VM, type EventBase, type EvidenceKeeper, type ExecEvent, type ThreadExitEvent, type TraceEvent } from '../parse/events.js';
import { flatCopy } from '../parse/flat-copy.js';
import type { Counters } from './counters.js';
import { FdTable, type Fds } from './fds.js';
import type { FindingLog } from './finding-log.js';
import type { Mappings, Space } from './mappings.js';

/** What a capture or the user says about processes, where the trace cannot. */
export interface ProcessHints {
  /** tid → tgid, from bundle metadata or the tracer. */
  threadGroups?: ReadonlyMap<number, number>;
  /** The traced process, when known (bundle metadata): names the group of threads seen without a clone. */
  rootPid?: number;
  /**
   * The pid the user asked about (`analyze --pid`): names the process of the
   * threads seen without their clone (an attach trace) when its leader never shows.
   */
  pidHint?: number;
  /**
   * The traced process's working directory when the capture began (bundle
   * metadata): the cwd of `rootPid` until the trace shows another. A string
   * the target controls, used only to make relative names absolute.
   */
  rootCwd?: string;
}

export interface Group {
  tgid: number;
  tasks: WalkedSet<Task>;
  /** False for threads that existed before the trace (attach): their exit does not end the process. */
  membershipKnown: boolean;
  /** The leader's tid is known to be `tgid`: its exit marker, printed last, ends the group. */
  leaderKnown: boolean;
  /** The process's working directory, once the trace shows it: relative names resolve against it. */
  cwd: string | null;
  /** Names that stayed relative, for the whole trace (one object shared by every process). */
  relative: RelativeNames;
  /**
   * A chroot or pivot_root the process (or the one it was forked from) made,
   * not yet followed by a call that takes a name (Engine.rootChangeUsed):
   * until then the new root changes no name the trace reads. 'told' once one
   * came.
   */
  rootChanged: { pid: number; call: string; at: string } | 'told' | null;
}

export interface Task {
  tid: number;
  group: Group;
  space: Space;
  fds: FdTable;
  /**
   * Taken for a thread of a process whose start the trace showed, with no
   * clone of it in the trace (a filter left clone out): it may be a process
   * of its own, and what it mapped may have ended with it (Finding.mappedByUnclonedTask).
   */
  uncloned: boolean;
}

/** Children born below the attached process's threads that are remembered (Tasks.bornLow). */
const BORN_LOW_KEPT = 4096;

/** fork(): a clone with SIGCHLD as its exit signal and no flag shared. */
const FORK_FLAGS = 0x11;

/**
 * The names that stayed relative: no cwd known (the trace never showed one,
 * no bundle recorded one) and no path from the kernel (strace -y,
 * orphanmap.bt's dir records). Counted for a warning: such a name and the
 * file's absolute name cannot be matched.
 */
export class RelativeNames {
  count = 0;
  private first: { name: string; pid: number; at: string } | null = null;

  add(name: string, pid: number, event: EventBase): void {
    if (this.count++ === 0) this.first = { name: flatCopy(name), pid, at: `${event.place.file}:${event.place.line}` };
  }

  /** The name note() gives, to be hashed whole under --redact. */
  paths(): string[] {
    return this.first === null ? [] : [this.first.name];
  }

  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const names = this.count === 1 ? 'a name' : `${this.count} names`;
    return (
      `${names} relative to a working directory the trace never shows (the first: ${first.name} at ${first.at}, process ${first.pid}) could not be made absolute: ` +
      'a file opened by a relative name and unlinked or renamed by its absolute one (or the other way round) is taken for two files, and its leak is missed. ' +
      'Capture with orphanmap capture (its meta.json records the working directory), or with strace -y, which prints it'
    );
  }
}

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

  /** "thread 12", or "3 threads (lowest 12)", for a note. */
  threads(): string {
    return this.count === 1 ? `thread ${this.lowestTid}` : `${this.count} threads (lowest ${this.lowestTid})`;
  }
}

/** A set whose walks count a step per member visited; `any` takes one. */
export class WalkedSet<T> implements Iterable<T> {
  private readonly members = new Set<T>();

  constructor(private readonly counters: Counters) {}

  get size(): number {
    return this.members.size;
  }

  has(member: T): boolean {
    return this.members.has(member);
  }

  add(member: T): void {
    this.members.add(member);
  }

  delete(member: T): boolean {
    return this.members.delete(member);
  }

  /** Any one member (the first still there), in one step. */
  any(): T | undefined {
    this.counters.taskSteps++;
    return this.members.values().next().value as T | undefined;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const member of this.members) {
      this.counters.taskSteps++;
      yield member;
    }
  }
}

/** A map whose walks count a step per value visited. */
class WalkedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly counters: Counters) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  *values(): Generator<V> {
    for (const value of this.entries.values()) {
      this.counters.taskSteps++;
      yield value;
    }
  }
}

/** How many entries the engine's task state holds now: a dead process leaves none. */
export interface TasksHeld {
  threads: number;
  /** Thread groups known alive (the attached process's stays, since its exit is not always seen). */
  processes: number;
  clonesInFlight: number;
}

export class Tasks {
  private readonly byTid: WalkedMap<number, Task>;
  private readonly groups: WalkedMap<number, Group>;
  /** Threads whose clone we have not seen are put here: the attached process. */
  private initialGroup: Group | null = null;
  /**
   * The live processes forked from the first one, or from one of these, that
   * run on a copy of an address space the trace did not see made
   * (firstRanBeforeTrace). Only those: a launched trace's forks run on copies
   * of spaces it saw, and a walk of them all at every removal of a file's
   * last name took 1.67 → 2.13 s for 1,000 forks and 20,000 files (code
   * review 60, F12).
   */
  private readonly unseenForks = new Set<Group>();
  private readonly guessed = new GuessedProcess();
  /** Threads that joined a process whose members the trace shows (after its execve) without a clone: clone filtered out. */
  private readonly unannounced = new GuessedProcess();
  /** Of those, the ones that ran execve in their own pid: child processes (leaveGuessedGroup). */
  private readonly leftGuessedGroup = new GuessedProcess();
  /** Tasks inside a clone that has not returned yet. */
  private readonly clonesInFlight: WalkedSet<Task>;
  /**
   * Children of a clone whose flags the trace could not give, by tid, with
   * the task that made them: decided by the child's first record (taskFor).
   * See cloneReturned.
   */
  private readonly unsureClones = new Map<number, { parent: Task; seconds: number | null }>();
  /**
   * Children the trace saw cloned with a thread id below every thread seen
   * without a clone (pids wrapped: a postmaster's fork children): gone once
   * they exit, yet never the attached process's leader (nameGuessedProcess).
   * The first BORN_LOW_KEPT only: memory stays flat under a fork loop.
   */
  private readonly bornLow = new Set<number>();
  /** The first `strace: Process N attached`: the process the trace is about. */
  private attachedRoot: number | undefined;
  private processCount = 0;
  /** The root process took the capture's cwd (ProcessHints.rootCwd): a pid used again later is another process. */
  private rootCwdGiven = false;
  private readonly relative = new RelativeNames();
  /** What had to be assumed because the trace could not say, in plain words for a report. */
  private readonly notes: string[] = [];

  constructor(
    private readonly hints: ProcessHints,
    private readonly counters: Counters,
    private readonly mappings: Mappings,
    private readonly fds: Fds,
    private readonly log: FindingLog,
  ) {
    this.byTid = new WalkedMap(counters);
    this.groups = new WalkedMap(counters);
    this.clonesInFlight = new WalkedSet(counters);
  }

  get processes(): number {
    return this.processCount;
  }

  /** No clone is in flight: no event can be a child's printed before its clone returned. */
  get noCloneInFlight(): boolean {
    return this.clonesInFlight.size === 0;
  }

  assumptions(): readonly string[] {
    const relative = this.relative.note();
    return relative === null ? this.notes : [...this.notes, relative];
  }

  /** The paths assumptions() names (only the relative names' note has any). */
  pathsInAssumptions(): string[] {
    return this.relative.paths();
  }

  has(tid: number): boolean {
    return this.byTid.has(tid) || this.unsureClones.has(tid);
  }

  /** The fd table of thread `tid` (a /proc/TID/fd path names it), when the trace has shown the thread. */
  fdsOf(tid: number): FdTable | undefined {
    return this.byTid.get(tid)?.fds;
  }

  held(): TasksHeld {
    return { threads: this.byTid.size, processes: this.groups.size, clonesInFlight: this.clonesInFlight.size };
  }

  /**
   * Directory `from` was renamed `to` (or the two exchanged): each process's
   * cwd at or under it is now spelled under the other (Files.directoryMoved).
   */
  directoryMoved(from: string, to: string, exchange: boolean): void {
    if (!from.startsWith('/') || !to.startsWith('/')) return;
    for (const group of this.groups.values()) {
      const cwd = group.cwd;
      if (cwd === null) continue;
      const moved = under(cwd, from) ? to + cwd.slice(from.length) : exchange && under(cwd, to) ? from + cwd.slice(to.length) : null;
      if (moved !== null) group.cwd = moved;
    }
  }

  /** Every address space in use, once each. */
  spaces(): Set<Space> {
    const spaces = new Set<Space>();
    for (const task of this.byTid.values()) spaces.add(task.space);
    return spaces;
  }

  noteAttached(tid: number): void {
    this.attachedRoot ??= tid;
  }

  /** The return of a clone whose start was seen: what the waiting events wait for. */
  returnsCloneInFlight(event: TraceEvent): boolean {
    if (event.kind !== 'clone') return false;
    const parent = this.byTid.get(event.tid);
    return parent !== undefined && this.clonesInFlight.has(parent);
  }

  /**
   * A thread never seen before, while a clone is in flight: the clone's child
   * (printed before its parent's clone returned), or a thread that ran before
   * an attach. Which one, only the clone's return value says.
   */
  awaitsClone(event: TraceEvent): boolean {
    if (this.clonesInFlight.size === 0 || this.byTid.has(event.tid) || event.tgid !== undefined) return false;
    return this.hints.threadGroups?.has(event.tid) !== true;
  }

  taskFor(tid: number, tgid: number | undefined): Task {
    const known = this.byTid.get(tid);
    if (known !== undefined) return known;
    const unsure = this.unsureClones.get(tid);
    if (unsure !== undefined && tgid !== undefined) {
      this.unsureClones.delete(tid);
      const { parent, seconds } = unsure;
      // CLONE_THREAD gives the child its parent's tgid, and a thread shares the address space and fds;
      // a process has a tgid of its own and a copy of both (fork: SIGCHLD alone).
      if (this.byTid.get(parent.tid) === parent) {
        this.cloneReturned(parent, tid, tgid === parent.group.tgid ? CLONE_THREAD | CLONE_VM | CLONE_FILES : FORK_FLAGS, seconds);
        return this.byTid.get(tid)!;
      }
    }
    const { group, uncloned } = this.groupOfNew(tid, tgid);
    const sibling = group.tasks.any();
    const task: Task = { tid, group, space: sibling?.space ?? this.mappings.newSpace(group.tgid), fds: sibling?.fds ?? new FdTable(), uncloned };
    this.attach(task);
    return task;
  }

  /** The captured process of a maps snapshot: its leader is known, its threads only as they show up. */
  leaderOf(pid: number): Task {
    if (!this.groups.has(pid)) this.newGroup(pid, false, true);
    return this.taskFor(pid, pid);
  }

  cloneStarted(task: Task): void {
    this.clonesInFlight.add(task);
  }

  /**
   * @param seconds when the clone returned, if the trace has times: a fork's copy of an orphan outlives its file from then
   * @param childTgidShown the trace gives each record's tgid (bpftrace): a clone
   *   with no flags at all is then one whose flags bpftrace did not have (its
   *   clone entry probe was not attached yet, or already detached when the
   *   capture stopped), not a fork, which always has SIGCHLD. Taken for a fork,
   *   every thread made then was a process that inherited every orphaned
   *   mapping (review: 67,080 false findings on a JVM). The child's first
   *   record says which it is.
   */
  cloneReturned(parent: Task, childTid: number, flags: number, seconds: number | null, childTgidShown = false): void {
    this.clonesInFlight.delete(parent);
    if (childTid <= 0) return; // the clone failed: no child
    if (this.byTid.has(childTid)) return;
    if (childTid < this.guessed.lowestTid && this.bornLow.size < BORN_LOW_KEPT) this.bornLow.add(childTid);
    if (flags === 0 && childTgidShown) {
      this.unsureClones.set(childTid, { parent, seconds });
      return;
    }
    let group: Group;
    if ((flags & CLONE_THREAD) !== 0) group = parent.group;
    else {
      group = this.newGroup(childTid, true, true);
      group.cwd = parent.group.cwd;
      group.rootChanged = parent.group.rootChanged;
    }
    const space = (flags & CLONE_VM) !== 0 ? parent.space : this.mappings.fork(parent.space, group.tgid, parent.group.tgid, seconds);
    const unseenFork = group !== parent.group && (parent.group === this.firstGroup() || this.unseenForks.has(parent.group)) && !this.mappings.seenFromStart(space);
    if (unseenFork) this.unseenForks.add(group);
    const fds = (flags & CLONE_FILES) !== 0 ? parent.fds : this.fds.forFork(parent.fds);
    this.attach({ tid: childTid, group, space, fds, uncloned: false });
  }

  exec(task: Task, event: ExecEvent): void {
    if (event.formerTid !== undefined && event.formerTid !== task.tid) {
      const former = this.byTid.get(event.formerTid);
      if (former !== undefined) this.detach(former, null);
    } else if (task.group.leaderKnown && task.tid !== task.group.tgid) {
      this.leaveGuessedGroup(task);
    }
    // Every other thread of the group dies; the address space is replaced.
    for (const other of [...task.group.tasks]) if (other !== task) this.detach(other, null);
    this.mappings.release(task.space, event, 'exec');
    task.space = this.mappings.newSpace(task.group.tgid);
    this.mappings.execed(task.space);
    this.unseenForks.delete(task.group);
    task.space.users = 1;
    task.fds = this.fds.forExec(task.fds);
    // After an execve the caller is the leader and every later thread is cloned in view.
    task.group.membershipKnown = true;
    task.group.leaderKnown = task.tid === task.group.tgid;
  }

  threadExit(task: Task, event: ThreadExitEvent): void {
    const group = task.group;
    this.detach(task, event);
    // bpftrace prints the kernel's own word (group_dead): a leader that called pthread_exit leaves its threads running
    // (review 28: the group was taken for gone, and a thread's later unlink of a mapped file for clean). strace reports
    // the leader's exit only once the whole group is gone.
    const groupGone = event.groupDead ?? ((group.leaderKnown && task.tid === group.tgid) || (group.membershipKnown && group.tasks.size === 0));
    // A thread of the guessed process with lines of its own exited after any exit-only one: that was no leader.
    if (group === this.guessed.group) this.lastExitOnly = null;
    if (!groupGone) return;
    for (const other of [...group.tasks]) this.detach(other, event);
    if (this.groups.get(group.tgid) === group) this.groups.delete(group.tgid);
    if (this.initialGroup === group) this.initialGroup = null;
    this.unseenForks.delete(group);
  }

  /**
   * Whether the trace's first process (the one attached to, or launched), or
   * a process forked from it, still runs on an address space the trace did
   * not see made: it ran before the trace, and what it mapped then is not
   * known.
   */
  firstRanBeforeTrace(seenFromStart: (space: Space) => boolean): boolean {
    const first = this.firstGroup();
    const task = first?.tasks.any();
    if (task !== undefined && !seenFromStart(task.space)) return true;
    // Its fork children run on copies of that address space (code review 57, F5: the attached process exited, the
    // child it forked still mapped the file a grandchild's rm removed: clean, exit 0).
    for (const group of this.unseenForks) {
      const member = group.tasks.any();
      if (member !== undefined && !seenFromStart(member.space)) return true;
    }
    return false;
  }

  /** The trace's first process: the one attached to, or launched. */
  private firstGroup(): Group | undefined {
    const root = this.hints.rootPid ?? this.attachedRoot;
    return this.initialGroup ?? (root === undefined ? undefined : this.groups.get(root));
  }

  /** Whether the process of `group` has ended (threadExit): a later process of its pid is another group. */
  gone(group: Group): boolean {
    return this.groups.get(group.tgid) !== group;
  }

  /** The process known as `from` (printed without a pid) was `to`: its task, group, spaces and findings take the real id. */
  rename(from: number, to: number): void {
    const task = rekey(this.byTid, from, to);
    if (task !== undefined) task.tid = to;
    const group = rekey(this.groups, from, to);
    if (group !== undefined) group.tgid = to;
    for (const space of this.spaces()) if (space.ownerTgid === from) space.ownerTgid = to;
    this.log.renumber(from, to);
  }

  /** See Engine.unfollowedThreadsFrom. */
  lowestUnfollowedTid = Number.POSITIVE_INFINITY;
  /**
   * The thread whose exit was the last thread exit of the guessed process
   * (nameGuessedProcess), when it had no other line; null otherwise.
   */
  private lastExitOnly: number | null = null;

  /**
   * `tid`, not a task, exited: strace prints an attached process's leader's
   * exit once its whole group is gone, and under a filter that may be the
   * leader's only line (review 50, item 6: a JVM's leader waits in
   * pthread_join, its exit_group made by another thread). Only the last such
   * exit names it: an idle worker's only line is its exit too, and after pids
   * wrapped its tid may be below the leader's (code review 60, F8).
   */
  exitOnly(tid: number): void {
    // Only once every thread of it the trace showed has exited: a worker that exits while the process runs on is none.
    const group = this.guessed.group;
    this.lastExitOnly = group !== null && group.tasks.size === 0 ? tid : null;
  }

  /**
   * The process whose threads ran before the trace began (an attach) and
   * whose leader never showed itself: named by --pid when that fits, else by
   * its lowest thread id (a leader's tid is its pid, and it is the first
   * thread), among all the trace's lines: a JVM's or a Go program's leader
   * may only wait in futex, a call nobody follows (review 22: findings were
   * named by a worker's tid). A thread lower than those, known as a task of
   * its own (a child the trace saw cloned), is not one of them.
   */
  nameGuessedProcess(): void {
    this.noteUnannounced();
    const group = this.guessed.group;
    if (group === null || group.leaderKnown) return;
    const unfollowed = this.lowestUnfollowedTid;
    // Not a child the trace saw cloned, though it has exited since (review 47, P2: a postmaster's first fork child,
    // below it after pids wrapped, named the postmaster, and --pid of the real one dropped its leak).
    const unseen = (tid: number) => !this.byTid.has(tid) && !this.unsureClones.has(tid) && !this.groups.has(tid) && !this.bornLow.has(tid);
    const quiet = unfollowed < this.guessed.lowestTid && unseen(unfollowed);
    const exited = this.lastExitOnly !== null && unseen(this.lastExitOnly) ? this.lastExitOnly : null;
    const lowest = exited ?? (quiet ? unfollowed : this.guessed.lowestTid);
    const hint = this.hints.pidHint;
    const fromHint = hint !== undefined && hint <= lowest && (hint === group.tgid || !this.groups.has(hint));
    const pid = fromHint ? hint : lowest;
    const tids = this.guessed.threads();
    this.notes.push(
      `${tids} ran before the trace began and showed no clone: taken as one process, pid ${pid}` +
        (fromHint
          ? ' (from --pid)'
          : quiet && unfollowed === lowest
            ? `; nothing in the trace shows which thread is its leader, so the lowest thread id names it, thread ${unfollowed}, whose lines are only calls orphanmap does not follow: pass --pid PID to name it yourself`
            : exited !== null
              ? `; its leader is thread ${exited}, which made no call orphanmap follows and exited last of its threads (strace prints a leader's exit once every thread is gone): pass --pid PID to name it yourself`
              : '; nothing in the trace shows which thread is its leader, so the lowest thread id names it: pass --pid PID to name it yourself') +
        ". A thread's exit is not taken for the process's." +
        (this.guessed.count > 1
          ? ' If the trace was not attached but launched with a filter that left out execve and clone (-e trace=…), they may be processes, each with its own fds and mappings, ' +
            'and its findings wrong (an fd number one process reused taken for another’s file): keep execve,clone,clone3,fork,vfork,close in -e trace=, or capture with orphanmap capture. ' +
            // Review 61, F-1: `strace -p VARNISHD -p READER` read as one process, a reader's leak under varnishd's pid.
            'So are they if strace was attached to several processes at once (strace -p A -p B): trace each process apart (strace -p A -o a.txt, strace -p B -o b.txt, ' +
            'each analyzed alone), or use orphanmap capture --pid for each'
          : ''),
    );
    if (pid !== group.tgid) this.renameGroup(group, pid);
  }

  private noteUnannounced(): void {
    const left = this.leftGuessedGroup;
    if (left.group !== null) {
      this.notes.push(`${left.threads()}, taken for threads of process ${left.group.tgid}, ran execve in their own pid, as only a process does: from there each is a process of its own`);
    }
    const { group } = this.unannounced;
    if (group === null) return;
    this.notes.push(
      `${this.unannounced.threads()} showed up with no clone, fork or vfork in the trace (filtered out with -e trace=…?): taken for threads of process ${group.tgid}. ` +
        `A child process among them has its mappings counted in ${group.tgid}'s: the leaks it alone held can be missed, and findings can be false or name the wrong process ` +
        `(another process's mmap or munmap at the same address taken for one in ${group.tgid}, its relative names resolved in ${group.tgid}'s working directory): ` +
        'keep clone,clone3,fork,vfork in the filter, or capture with orphanmap capture',
    );
  }

  private renameGroup(group: Group, pid: number): void {
    const from = group.tgid;
    if (this.groups.get(from) === group) this.groups.delete(from);
    group.tgid = pid;
    this.groups.set(pid, group);
    for (const task of group.tasks) task.space.ownerTgid = pid;
    this.log.renumber(from, pid);
  }

  /** `uncloned`: see Task.uncloned. */
  private groupOfNew(tid: number, tgid: number | undefined): { group: Group; uncloned: boolean } {
    const groupId = tgid ?? this.hints.threadGroups?.get(tid);
    if (groupId !== undefined) return { group: this.groups.get(groupId) ?? this.newGroup(groupId, groupId === tid, true), uncloned: false };
    // Threads that existed before the trace began (attach, or no -f): one
    // process, whose members and leader we learn only as they show up. A
    // trace that starts at an execve learns both there (exec).
    const root = this.hints.rootPid ?? this.attachedRoot;
    const rootGroup = root === undefined ? undefined : this.groups.get(root);
    const group = this.initialGroup ?? rootGroup ?? this.newGroup(root ?? tid, false, root !== undefined || tid === 0);
    this.initialGroup = group;
    if (!group.leaderKnown) this.guessed.note(group, tid);
    else if (group.membershipKnown) {
      this.unannounced.note(group, tid);
      return { group, uncloned: true };
    }
    return { group, uncloned: false };
  }

  /**
   * A thread's execve returns in its leader's pid (`formerTid`: strace's
   * "superseded by execve", bpftrace's exec record). One that returns in its
   * own, taken for a thread of a process whose leader is another, was never
   * its thread: a child whose fork the trace did not show (clone filtered
   * out). It leaves that process before its execve, which then replaces its
   * own address space and not its parent's.
   */
  private leaveGuessedGroup(task: Task): void {
    const parent = task.group;
    parent.tasks.delete(task);
    const group = this.newGroup(task.tid, true, true);
    group.cwd = parent.cwd;
    group.rootChanged = parent.rootChanged;
    group.tasks.add(task);
    task.group = group;
    // Its execve replaces its own address space: what it maps from here is its own process's.
    task.uncloned = false;
    this.leftGuessedGroup.note(parent, task.tid);
  }

  private newGroup(tgid: number, membershipKnown: boolean, leaderKnown: boolean): Group {
    const group: Group = { tgid, tasks: new WalkedSet(this.counters), membershipKnown, leaderKnown, cwd: null, relative: this.relative, rootChanged: null };
    const rootCwd = this.hints.rootCwd;
    if (!this.rootCwdGiven && rootCwd !== undefined && tgid === this.hints.rootPid && rootCwd.startsWith('/')) {
      this.rootCwdGiven = true;
      group.cwd = rootCwd;
    }
    this.groups.set(tgid, group);
    this.processCount++;
    return group;
  }

  private attach(task: Task): void {
    task.group.tasks.add(task);
    task.space.users++;
    task.fds.users++;
    this.byTid.set(task.tid, task);
  }

  private detach(task: Task, event: EventBase | null): void {
    if (this.byTid.get(task.tid) === task) this.byTid.delete(task.tid);
    this.clonesInFlight.delete(task);
    task.group.tasks.delete(task);
    this.mappings.release(task.space, event, 'exit');
    this.fds.release(task.fds);
  }
}

/** Files the entry under `from` under `to` instead, unless `to` is taken; returns what moved. */
function rekey<V>(map: WalkedMap<number, V>, from: number, to: number): V | undefined {
  const value = map.get(from);
  if (value === undefined || map.has(to)) return undefined;
  map.delete(from);
  map.set(to, value);
  return value;
}

/** How many events may wait for a clone to return before they are taken as they come. */
const MAX_AWAITING_CLONE = 4096;

/**
 * Events of a thread never seen before wait while a clone is in flight: taken
 * for the child of a fork, a thread of the attached process would get an
 * address space of its own. The clone's return places them. Once one event
 * waits, every later one waits behind it (the return of a clone in flight
 * excepted), so that
 * the trace's order holds: a waiting thread's mmap stays before a known
 * thread's unlink of the same file.
 */
export class CloneWait {
  /** Held events in trace order, from `head` on; those before it are applied already. */
  private readonly waiting: TraceEvent[] = [];
  /** The keeper of each held event, at the same index. */
  private readonly keepers: (EvidenceKeeper | undefined)[] = [];
  private head = 0;

  constructor(
    private readonly tasks: Tasks,
    private readonly counters: Counters,
    private readonly applyNow: (event: TraceEvent, keeper: EvidenceKeeper | undefined) => void,
  ) {}

  /** How many events wait. */
  get size(): number {
    return this.waiting.length - this.head;
  }

  /** Nothing waits and no clone is in flight (most events): an event offered would be applied at once. */
  get idle(): boolean {
    return this.head === this.waiting.length && this.tasks.noCloneInFlight;
  }

  /** Apply the event now, or hold it until a clone returns. */
  offer(event: TraceEvent, keeper: EvidenceKeeper | undefined): void {
    if (this.idle) {
      this.applyNow(event, keeper);
      return;
    }
    if (this.size >= MAX_AWAITING_CLONE) this.replay(true);
    const queueNonEmpty = this.size > 0;
    const releases = this.tasks.returnsCloneInFlight(event);
    if (!releases && (queueNonEmpty || this.tasks.awaitsClone(event))) {
      this.waiting.push(event);
      this.keepers.push(keeper);
      return;
    }
    this.applyNow(event, keeper);
    if (releases && queueNonEmpty) this.replay(false);
  }

  /** The trace ended: whatever waits is taken as it comes. */
  flush(): void {
    this.replay(true);
  }

  /**
   * In trace order, up to the first event that must still wait; it and all
   * after it wait on. Each event is looked at once when applied, plus once per
   * replay that stops at it: a clone returning while another is still in
   * flight costs one step, not a pass over everything held.
   */
  private replay(force: boolean): void {
    while (this.head < this.waiting.length) {
      const event = this.waiting[this.head]!;
      this.counters.taskSteps++;
      if (!force && this.tasks.awaitsClone(event)) break;
      this.applyNow(event, this.keepers[this.head++]);
    }
    // Applied events are cut off once they are half the array: O(1) each.
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.keepers.length = 0;
      this.head = 0;
    } else if (this.head * 2 >= this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.keepers.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** `path` is `dir` or a name under it. */
function under(path: string, dir: string): boolean {
  return path.startsWith(dir) && (path.length === dir.length || path.charCodeAt(dir.length) === 47 || dir === '/');
}

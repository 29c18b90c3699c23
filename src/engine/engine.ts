// The correlation engine: a pure reducer over TraceEvents. Each kind of state
// has a module that owns it:
//   tasks.ts        threads, thread groups, clone/exec/exit, the wait for a clone in flight
//   fds.ts          fd tables: open, dup, close, close_range, close-on-exec
//   files.ts        file identities, their names, rename/link/unlink, symlinks, cwd
//   cut-names.ts    names the tracer cut (bpftrace at BPFTRACE_STRLEN): tied to no other, and what they leave in doubt
//   mappings.ts     address spaces: mmap, munmap, mremap, fork copies, pending orphans
//   images.ts       the program each address space runs: execve maps it, no mmap shows it
//   exec-names.ts   the thread name an execve gives, where strace -Y prints the one from before
//   finding-log.ts  findings: decided, resolved, their evidence, what one call changed
//   benign.ts       named rules for benign findings (the JVM's hsperfdata)
//   findings.ts     what a finding is (the report schema); counters.ts, the ids and sequence
// This file sends each event to the module it concerns. It knows nothing of
// files on disk, terminals or processes.
import {
  assertNever,
  CLONE_FS,
  CLONE_THREAD,
  CLONE_VM,
  type BlindSpotEvent,
  countedEvent,
  fileEvent,
  type DirRef,
  type EventBase,
  type EvidenceKeeper,
  type ExecEvent,
  type ExecStartEvent,
  type LinkEvent,
  MAP_FIXED,
  MREMAP_FIXED,
  type OpenEvent,
  type RenameEvent,
  type TraceEvent,
  type TruncateEvent,
  type UnlinkEvent,
} from '../parse/events.js';
import { AttachWindow, type WindowMapping } from './attach-window.js';
import { Counters } from './counters.js';
import { Fds, type SeedFd } from './fds.js';
import { Files, FirstOfMany, chdir, resolveName, type FileNode } from './files.js';
import { FindingLog, type EngineChange } from './finding-log.js';
import { ExecNames } from './exec-names.js';
import type { EvidenceLine, Finding } from './findings.js';
import { RunningImages } from './images.js';
import type { NamedAfter } from './gone-after-release.js';
import type { DoubtOfFile } from './replaced-names.js';
import { type GoneAtExit, Mappings, measure, type EndMapping, type MappingStats, type ReleasedGone, type SeedMapping } from './mappings.js';
import { CloneWait, Tasks, type ProcessHints, type Task, type TasksHeld } from './tasks.js';
import { UntracedCopies } from './untraced-copies.js';

export type { EngineChange } from './finding-log.js';
export type { WindowMapping } from './attach-window.js';
export type { EndMapping, GoneAtExit, SeedMapping } from './mappings.js';
export type { SeedFd } from './fds.js';
export { normalizePath } from './files.js';

export interface EngineOptions extends ProcessHints {
  /**
   * Lines are in entry-time order (merged strace -ff files), so a munmap can
   * be printed after the mmap that reused its range.
   */
  entryOrdered?: boolean;
  /**
   * Processes showsProcess will be asked about (those with a maps-end.N.txt
   * in the bundle): only these are noted as seen, so that the engine keeps
   * nothing of a process that exited (robustness-memory).
   */
  watchedProcesses?: ReadonlySet<number>;
  /**
   * Every process is watched (live: which processes will have a
   * maps-end.N.txt is known only once the capture ends): the trace showed
   * each it noted, exited or not (review 56, F2: a child traced from its
   * fork, gone by the end, was said to be one the trace never showed).
   */
  watchAllProcesses?: boolean;
  /**
   * The lines of process `pid`'s maps-start.txt whose files the capture found
   * gone from their names once that process had exited (a bundle's
   * maps-start-gone.txt): findings of removals out of sight for those of its
   * mappings the trace shows living until its exit (Mappings.goneWhenExited).
   */
  goneAtExit?: GoneAtExit;
  /**
   * The names of files the trace shows mapped (or renamed to) that the
   * capture found leading to no file once the trace ended (a bundle's
   * mapped-gone.txt): a mapping of one still live when its process exited is
   * in doubt, unless the trace shows that name removed or renamed after
   * (Mappings.goneAfterRelease).
   */
  mappedGone?: ReadonlySet<string>;
  /**
   * The other names (a bundle's mapped-named.txt): the file each led to once
   * the trace ended. A mapping made before that file was born, or of another
   * inode, was of a file that lost the name: as mappedGone's (review 70, F1),
   * and so is one its process unmapped while it lived (review 80, F3).
   */
  mappedNamed?: ReadonlyMap<string, NamedAfter>;
  /**
   * An attached capture: the root process's children when it attached,
   * which the tracer does not follow (meta.json's childrenAtAttach). Forked
   * before the trace, they may hold copies of what it mapped then
   * (Files.copiedToUntraced).
   */
  untracedChildren?: readonly number[];
  /**
   * Processes whose maps at the end (maps-end.txt, maps-end.N.txt) were read
   * before the capture stopped them, so that the trace shows their exit
   * after (a launched command): what each held as it exited is kept for
   * deletedAtEnd.
   */
  mapsReadBeforeExit?: ReadonlySet<number>;
  /**
   * `capture --pid`'s target's file mappings before the attach
   * (maps-before.txt) that maps-start.txt, read after it, no longer holds:
   * what the trace shows of them in between (AttachWindow).
   */
  attachWindow?: { pid: number; mappings: readonly WindowMapping[] };
}

export interface EngineStats extends MappingStats {
  events: number;
  /** Of those, events about a file, an fd or a mapping (fileEvent). */
  fileEvents: number;
  processes: number;
}

/** How many entries the engine holds now, for tests and diagnostics: a process that exited leaves none. */
export interface EngineHeld extends TasksHeld {
  /** Events waiting for a clone in flight to return. */
  waitingEvents: number;
  /** Mappings of deleted files waiting to be seen living on. */
  pendingOrphans: number;
}

/** /proc/self/fd/N, /proc/thread-self/fd/N, /proc/PID/fd/N, /dev/fd/N: the fd N of that thread (this one for /dev/fd). */
const PROC_FD = /^\/(?:proc\/(self|thread-self|\d+)|dev)\/fd\/(\d+)$/;

export class Engine {
  private readonly counters = new Counters();
  private readonly log = new FindingLog();
  private readonly images = new RunningImages();
  private readonly execNames = new ExecNames();
  private readonly files: Files;
  private readonly fds: Fds;
  private readonly mappings: Mappings;
  private readonly tasks: Tasks;
  private readonly cloneWait: CloneWait;
  private events = 0;
  /** Hard links the trace shows made (link, linkat): none in a filtered trace may be the filter's doing (Run.result). */
  linksSeen = 0;
  /**
   * Calls of dup, fcntl, close_range, mremap, madvise, symlink or chdir: a filtered trace with one was taken with a
   * filter as broad as the README's, which keeps link and linkat (review 82: the warning was noise there).
   */
  broadFilterCalls = 0;
  private fileEvents = 0;
  private readonly untracedChildren = new UntracedChildren();
  private readonly rings = new BlindSpots('io_uring');
  private readonly views = new BlindSpots('view');
  private readonly unreadNames = new BlindSpots('unread-name');
  private readonly unseenCalls = new BlindSpots('unseen-calls');

  /** The list a blind spot joins: what it made the trace miss. */
  private blindSpotsOf(event: BlindSpotEvent): BlindSpots {
    if (event.missed === 'name') return this.unreadNames;
    if (event.missed === 'calls') return this.unseenCalls;
    return event.call === 'io_uring_setup' ? this.rings : this.views;
  }
  /**
   * Processes the trace never shows whose maps at the end (maps-end.N.txt)
   * map deleted files, one of each (notTracedHolding): a daemon's workers
   * forked before `capture --pid` attached to their parent. Which call
   * removed the file, and whether it was theirs, is not in the trace: in
   * doubt, not a finding (review 25: an idle imapd held the replaced
   * mailboxes.db, and the verdict was clean).
   */
  private readonly untracedHolders: { pid: number; name: string }[] = [];
  /** The watched processes (EngineOptions.watchedProcesses) the trace showed an event of (showsProcess). */
  private readonly shown = new Set<number>();
  private readonly watched: ReadonlySet<number> | null;
  private readonly watchAll: boolean;
  /** What the trace shows of the mappings gone between the attach and maps-start.txt's read (AttachWindow). */
  private readonly window: AttachWindow | null;

  constructor(options: EngineOptions = {}) {
    this.watched = options.watchedProcesses !== undefined && options.watchedProcesses.size > 0 ? options.watchedProcesses : null;
    this.watchAll = options.watchAllProcesses === true;
    const window = options.attachWindow;
    this.window = window === undefined || window.mappings.length === 0 ? null : new AttachWindow(window.pid, window.mappings, () => this.counters.nextId());
    this.files = new Files(this.counters, this.log, this.images);
    this.fds = new Fds(this.files);
    this.mappings = new Mappings(this.counters, this.files, this.fds, this.log, this.images, options.entryOrdered === true);
    this.files.seenFromStart = (space) => this.mappings.seenFromStart(space);
    this.files.stillNamed = (file) => this.mappings.stillNamed(file);
    this.mappings.goneAtExit = options.goneAtExit ?? null;
    this.mappings.mappedGone = options.mappedGone ?? null;
    this.mappings.mappedNamed = options.mappedNamed ?? null;
    if ((options.untracedChildren?.length ?? 0) > 0) this.files.copiedToUntraced = new UntracedCopies();
    if (options.mapsReadBeforeExit !== undefined) this.mappings.mapsReadBeforeExit = options.mapsReadBeforeExit;
    this.tasks = new Tasks(options, this.counters, this.mappings, this.fds, this.log);
    this.files.firstRanBeforeTrace = () => this.tasks.firstRanBeforeTrace((space) => this.mappings.seenFromStart(space));
    this.log.beforeChange = (finding) => this.mappings.sayHeldOf(finding);
    this.files.directoryMoved = (from, to, exchange) => this.tasks.directoryMoved(from, to, exchange);
    this.cloneWait = new CloneWait(this.tasks, this.counters, (event, keeper) => this.applyNow(event, keeper));
  }

  /** `strace: Process N attached`: the first one names the process the trace is about. */
  noteAttached(tid: number): void {
    this.tasks.noteAttached(tid);
  }

  /**
   * The process known as `from` (printed without a pid) was `to`: its task,
   * group and findings take the real id. Called at the end of a trace.
   */
  renameTask(from: number, to: number): EngineChange[] {
    this.log.begin();
    this.tasks.rename(from, to);
    return this.log.changed();
  }

  /**
   * Apply one event; returns the findings decided or resolved by it.
   * @param keeper what the files it concerns keep of it for evidence (ingest's);
   * without one, the event's own `keeper`, else the event itself. An argument,
   * not a property ingest adds to each event: adding one moved every event to
   * another shape and gave it a second store for its properties.
   */
  apply(event: TraceEvent, keeper?: EvidenceKeeper): EngineChange[] {
    this.log.begin();
    const seconds = event.seconds;
    if (seconds !== null) {
      if (this.log.firstSeconds === null) this.log.firstSeconds = seconds;
      else if (seconds >= this.log.remapDoubtEnds) this.log.decidePendingRemaps();
    }
    if (countedEvent(event)) this.events++;
    if (fileEvent(event)) this.fileEvents++;
    this.execNames.correct(event);
    // Most events: nothing waits and no clone is in flight; applied without the wait's own call.
    if (this.cloneWait.idle) this.applyNow(event, keeper ?? event.keeper);
    else this.cloneWait.offer(event, keeper ?? event.keeper);
    return this.log.changed();
  }

  /** The lines of trace file `file` whose unlinks and renames came before the capture read maps-start.txt (start-read.ts). */
  removalsBeforeStartRead(file: string, lines: ReadonlySet<number>): void {
    this.files.removalsBeforeStartRead(file, lines);
  }

  /**
   * Seed an address space with the mappings that existed before the trace
   * (a bundle's maps-start.txt). Mappings of files already deleted become
   * findings once they are seen to live on: their unlink happened before the capture.
   */
  seedMappings(pid: number, mappings: readonly SeedMapping[]): EngineChange[] {
    this.log.begin();
    this.mappings.seed(this.tasks.leaderOf(pid).space, mappings);
    return this.log.changed();
  }

  /**
   * Seed a process's fd table with the fds open when the capture began (a
   * bundle's fds-start.txt): an fd opened before the attach and mapped
   * during the capture is named by it (bpftrace prints no path with an fd).
   */
  seedFds(pid: number, fds: readonly SeedFd[]): void {
    this.fds.seed(this.tasks.leaderOf(pid), fds);
  }

  /**
   * Process `pid` held an io_uring ring when the capture began (a bundle's
   * fds-start.txt, at `at`): as if the trace showed its io_uring_setup
   * (review 24: a broker sets up its rings at start, before any capture
   * --pid, and an unlink through one hid a leak).
   */
  ringBeforeTrace(pid: number, at: string): void {
    this.rings.add({ pid, call: 'io_uring_setup', at, before: true });
  }

  /** The trace shows a ring mapped; its io_uring_setup, if the trace showed it, said so first. */
  private ringMapped(task: Task, event: EventBase): void {
    if (this.rings.count === 0) this.rings.add({ pid: task.group.tgid, call: 'mmap', at: `${event.place.file}:${event.place.line}` });
  }

  /**
   * Process `pid` saw another mount namespace or root than the capture when
   * it attached (`at`: meta.json): a container's, a chroot's. Its calls name
   * files as it sees them, -y annotations and the snapshots as the capture
   * does, and the two never meet (review 24: a leak in a chroot entered
   * before capture --pid read as clean).
   */
  otherViewBeforeTrace(pid: number, at: string): void {
    this.views.add({ pid, call: 'chroot', at, before: true });
  }

  /**
   * Live: the trace has been quiet, and at least `elapsed` seconds of its clock
   * have passed since its first event (the reader's own clock says so). A remap
   * held back in the trace's first seconds (FindingLog.remapped) is decided once
   * an event past the doubt comes; an idle target may make none for minutes, so
   * its warning is decided now instead, as that event would have.
   */
  quietAfter(elapsed: number): EngineChange[] {
    this.log.begin();
    const first = this.log.firstSeconds;
    if (first !== null && first + elapsed >= this.log.remapDoubtEnds) this.log.decidePendingRemaps();
    return this.log.changed();
  }

  /**
   * The lowest thread id on the trace's lines of calls nobody follows
   * (Infinity: none), which the engine never sees: an attached process's
   * leader may have made no other call (Tasks.nameGuessedProcess).
   */
  unfollowedThreadsFrom(lowestTid: number): void {
    this.tasks.lowestUnfollowedTid = lowestTid;
  }

  /** The trace ended: every finding whose mapping is still live is `still-mapped`. */
  finish(): EngineChange[] {
    this.log.begin();
    this.cloneWait.flush();
    this.mappings.sayAllHeld();
    this.tasks.nameGuessedProcess();
    // The process exited (the capture says so), but the trace ends before its exit does: its mappings are as the trace left them.
    const gone = this.mappings.goneAtExit;
    if (gone !== null && this.tasks.has(gone.pid)) {
      this.mappings.goneAtExit = null;
      this.mappings.goneWhenExited(this.tasks.leaderOf(gone.pid).space, gone, true);
    }
    this.mappings.decidePendingOrphans();
    this.log.resolveRemaining();
    return this.log.changed();
  }

  /**
   * After finish(): the mappings of deleted files in process `pid`'s maps at
   * the end of the capture (maps-end.txt) that no finding explains are
   * findings whose unlink the trace does not show (Mappings.deletedAtEnd).
   */
  deletedAtEnd(pid: number, lines: readonly EndMapping[]): EngineChange[] {
    this.log.begin();
    // A process the trace saw exit has no space left to look in: not made anew (it would count as a process). Its
    // mappings as it exited, when its maps were read before that exit (a launched command: mapsReadBeforeExit).
    if (this.tasks.has(pid)) this.mappings.deletedAtEnd(this.tasks.leaderOf(pid).space, lines);
    else this.mappings.deletedAtEnd(this.mappings.newSpace(pid), lines, this.mappings.exitedSpace(pid));
    return this.log.changed();
  }

  /**
   * After finish(): process `pid` maps, at the end, files the capture found
   * with a name left then (`lines`: each range, and the name the maps print):
   * no file gets a name back once its last has gone, so a call the trace ties
   * to no file did not take the name of a mapping live there (HiddenLinks:
   * review 34, exactness F1).
   */
  keptAtEnd(pid: number, lines: Iterable<{ start: number; end: number; name: string }>): void {
    for (const line of lines) this.files.hidden.settle(pid, line.name, line.start, line.end);
  }

  /**
   * After finish(): `findings` of mappings live at the end whose files the
   * capture found with a name left then (FindingLog.keptByAnotherName).
   */
  keptByAnotherName(findings: readonly Finding[]): EngineChange[] {
    this.log.begin();
    for (const finding of findings) this.log.keptByAnotherName(finding);
    return this.log.changed();
  }

  /** Findings of files found gone at their process's exit that the maps at the end show named (RENAMED_NOT_REMOVED): benign. */
  renamedNotRemoved(findings: readonly Finding[]): EngineChange[] {
    this.log.begin();
    for (const finding of findings) this.log.renamedNotRemoved(finding);
    return this.log.changed();
  }

  /**
   * Whether the trace shows process `pid` (an event of one of its threads,
   * at any time): a process whose maps at the end of the capture
   * (maps-end.N.txt) may be checked against what the trace shows of it.
   * Known for the watched processes (EngineOptions.watchedProcesses), and for
   * those still running.
   */
  showsProcess(pid: number): boolean {
    return this.shown.has(pid) || this.tasks.has(pid);
  }

  /**
   * Whether process `pid`'s maps at the end can be checked against the
   * trace: it runs still, or what it held as it exited was kept (its maps
   * were known to be read before: mapsReadBeforeExit). Not so, live, for a
   * process that exited once the capture had read its maps: which processes
   * those are is known only at the end (watchAllProcesses), and a file a
   * hard link kept would read as a leak (review 56, F2).
   */
  checkableAtEnd(pid: number): boolean {
    return !this.watchAll || this.tasks.has(pid) || this.mappings.exitedSpace(pid) !== null;
  }

  /**
   * Files the root process mapped before the trace, whose untraced children
   * (EngineOptions.untracedChildren) may hold copies, whose last name the
   * trace shows go: where, by name (Files.copiedToUntraced).
   */
  untracedCopiesGone(): readonly { name: string; at: string }[] {
    return this.files.copiedToUntraced?.gone ?? [];
  }

  /** After the trace: processes it never shows that map deleted files at the end (untracedHolders). */
  notTracedHolding(holders: readonly { pid: number; name: string }[]): void {
    this.untracedHolders.push(...holders);
  }

  findings(): readonly Finding[] {
    this.mappings.sayAllHeld();
    return this.log.findings();
  }

  /** The file's life so far, for a finding's evidence. */
  evidenceOf(finding: Finding): EvidenceLine[] {
    return this.log.evidenceOf(finding);
  }

  stats(): EngineStats {
    return { events: this.events, fileEvents: this.fileEvents, processes: this.tasks.processes, ...measure(this.tasks.spaces()) };
  }

  /** Opens that returned an fd number still open in the process, as far as the order of the lines shows (Fds.handedOver). */
  fdHandOvers(): ReturnType<Fds['handedOver']> {
    return this.fds.handedOver();
  }

  /**
   * Names of files the trace holds no mapping of that went (or were renamed
   * over) while a process that ran before the trace ran, in a trace with no
   * maps snapshot or before a bundle's capture read maps-start.txt
   * (UnknownRemovals), by any process: files it may have
   * mapped before the trace, and left to its children; no doubt, but no
   * plain verdict either.
   */
  removedUnseen(): number {
    return this.files.unknownRemovals.count;
  }

  /**
   * The mappings a call by a name bpftrace cut may have left without a file
   * (CutNames): neither a finding nor clear, so a verdict cannot pass them.
   */
  mappingsInDoubt(): { pid: number; name: string }[] {
    const found = this.foundFor();
    const others = this.doubtsBesidesGoneAfterRelease(found);
    return [...others, ...this.mappings.goneAfterRelease.inDoubt(coveredBy(found, others))];
  }

  /** Every mapping in doubt but those of files gone after the trace (GoneAfterRelease), which may be of these too: counted once. */
  private doubtsBesidesGoneAfterRelease(found: (pid: number, name: string) => boolean): { pid: number; name: string }[] {
    const replaced = this.files.replaced.inDoubt(found);
    return [
      ...this.files.cut.inDoubt(this.foundAtFor()),
      ...replaced,
      ...this.files.aliased.inDoubt(found),
      ...this.files.swapped.inDoubt(found),
      ...this.files.misplaced.inDoubt(found),
      ...this.mappings.failedUnmaps.inDoubt(found),
      ...this.mappings.unnamed.inDoubt(found),
      ...this.files.hidden.inDoubt(found),
      ...this.files.goneUnknown.inDoubt(found),
      ...this.files.removedHeldBeforeTrace.inDoubt(found),
      ...(this.window?.inDoubt(found) ?? []),
      ...this.mappings.goneLate.mappings,
      ...notCountedIn(replaced, this.releasedGone(found)).map(({ pid, name }) => ({ pid, name })),
      ...this.untracedHolders,
    ];
  }

  /** The mappings of files found gone at their process's exit that it released itself before (Mappings.goneReleased), but those a finding covers. */
  private releasedGone(found: (pid: number, name: string) => boolean): ReleasedGone[] {
    return this.mappings.goneReleased.filter((released) => !found(released.pid, released.name));
  }

  /** Whether a finding of an unlink is of process `pid`'s mapping at `address` (its start, or a piece's), not unmapped since: a doubt it covers is no doubt. */
  private foundAtFor(): (pid: number, address: string) => boolean {
    let found: Set<string> | null = null;
    return (pid, address) => {
      // Not one unmapped in the trace: an earlier mapping at an address the kernel gave again (review 58, F5: a
      // semaphore's page, freed, and a leak by a cut path mapped there read as clean).
      found ??= new Set(
        this.log
          .findings()
          .flatMap((f) => (f.kind === 'unlinked-while-mapped' && f.resolution !== 'unmapped' ? [`${f.pid} ${f.address}`, ...(f.ranges ?? []).map((range) => `${f.pid} ${range.address}`)] : [])),
      );
      return found.has(`${pid} ${address}`);
    };
  }

  /** Whether a finding of an unlink names process `pid` and `name` (among its file's names): a doubt it covers is no doubt. */
  private foundFor(): (pid: number, name: string) => boolean {
    let found: Set<string> | null = null;
    return (pid, name) => {
      found ??= new Set(this.log.findings().flatMap((f) => (f.kind === 'unlinked-while-mapped' ? f.names.map((known) => `${f.pid} ${known}`) : [])));
      return found.has(`${pid} ${name}`);
    };
  }

  /** Why the trace cannot show every process or file call it should (UntracedChildren, BlindSpots), in words; null when it can. */
  untracedReason(): string | null {
    const reasons = [this.untracedChildren.reason(), this.rings.reason(), this.views.reason(), this.unreadNames.reason(), this.unseenCalls.reason(), this.files.unfollowed.reason()].filter(
      (reason) => reason !== null,
    );
    return reasons.length === 0 ? null : reasons.join('; ');
  }

  /** What the engine had to assume because the trace could not say, in plain words for a report. */
  assumptions(): readonly string[] {
    const misplaced = this.files.misplaced.note();
    const aliased = this.files.aliased.note();
    const swapped = this.files.swapped.note();
    const missing = this.files.missingNote();
    const late = this.mappings.goneLate;
    const goneLate =
      late.first === null
        ? null
        : late.afterTrace
          ? `process ${late.first.pid} exited after the trace ended (while the tracer let go of it), and right after, the capture found ${late.first.path} gone from its name (${late.first.at})` +
            `${late.mappings.length > 1 ? `, and ${late.mappings.length - 1} more files it mapped` : ''}; the trace shows neither a removal nor an munmap, but it ended first: ` +
            'removed by a process the trace does not follow while mapped, or after the trace by the process itself (a JVM removes its hsperfdata file as it exits) or another, ' +
            'the mapping live then or not, which the capture cannot tell apart: in doubt'
          : `process ${late.first.pid} exited during the capture, and right after, the capture could not tell whether ${late.first.path} had gone from its name before the exit (${late.first.at})` +
            `${late.mappings.length > 1 ? `, and ${late.mappings.length - 1} more files it mapped` : ''}; the trace shows neither a removal nor an munmap, but the directory changed about the exit or after it, ` +
            'or the name could not be looked up (a name the kernel escaped, a directory that did not answer): removed by a process the trace does not follow while mapped, ' +
            'or just after the exit (a supervisor cleaning up after it), or not at all, which the capture cannot tell apart: in doubt';
    const released = this.releasedGone(this.foundFor());
    const first = released[0];
    const goneReleased =
      first === undefined
        ? null
        : `process ${first.exited} exited during the capture, and right after, the capture found ${first.name} gone from its name, ${directoryTold(first)}, ` +
          `but ${first.pid === first.exited ? 'the process had released its mapping' : `process ${first.pid}, a fork of it, had released its copy of the mapping`} of it itself during the capture (its ${first.call} at ${first.releasedAt})` +
          `${released.length > 1 ? `, and ${released.length - 1} more mappings so` : ''}; ${changeTold(first)}${removalTold(first)}: ` +
          'a process the trace does not follow removed or replaced the file before that release, while it was mapped, or after it, or only renamed it (the lookup names no file), which the capture cannot tell apart: in doubt';
    const copies =
      this.mappings.copiesUnwatched === 0
        ? null
        : `${this.mappings.copiesUnwatched} copies that forks made of mappings of files the capture found gone at its process's exit (maps-start-gone.txt) were not followed, ` +
          'past the first 1,024: a copy given up before that exit is not in doubt as the others are, and one live then is no finding';
    const untraced = this.untracedChildren.note();
    const rings = this.rings.note();
    const views = this.views.note();
    const unreadNames = this.unreadNames.note();
    const unseenCalls = this.unseenCalls.note();
    const unfollowed = this.files.unfollowed.note();
    const failedUnmaps = this.mappings.failedUnmaps.note();
    const unnamed = this.mappings.unnamed.note();
    const hidden = this.files.hidden.note();
    const goneUnknown = this.files.goneUnknown.note();
    const heldBeforeTrace = this.files.removedHeldBeforeTrace.note(this.foundFor());
    const foundOrDoubted = coveredBy(this.foundFor(), this.doubtsBesidesGoneAfterRelease(this.foundFor()));
    const goneAfterRelease = this.mappings.goneAfterRelease.note(foundOrDoubted);
    const unknownRemovals = this.files.unknownRemovals.note();
    const window = this.window?.note() ?? null;
    const fromFiles = [
      ...(untraced === null ? [] : [untraced]),
      ...(rings === null ? [] : [rings]),
      ...(views === null ? [] : [views]),
      ...(unreadNames === null ? [] : [unreadNames]),
      ...(unseenCalls === null ? [] : [unseenCalls]),
      ...(unfollowed === null ? [] : [unfollowed]),
      ...this.fds.assumptions(),
      ...this.files.cut.notes(this.foundAtFor()),
      ...this.files.replaced.notes(this.foundFor()),
      ...this.images.notes(),
      ...(misplaced === null ? [] : [misplaced]),
      ...(aliased === null ? [] : [aliased]),
      ...(swapped === null ? [] : [swapped]),
      ...(missing === null ? [] : [missing]),
      ...(goneLate === null ? [] : [goneLate]),
      ...(goneReleased === null ? [] : [goneReleased]),
      ...(copies === null ? [] : [copies]),
      ...(failedUnmaps === null ? [] : [failedUnmaps]),
      ...(unnamed === null ? [] : [unnamed]),
      ...(hidden === null ? [] : [hidden]),
      ...(goneUnknown === null ? [] : [goneUnknown]),
      ...(heldBeforeTrace === null ? [] : [heldBeforeTrace]),
      ...(goneAfterRelease === null ? [] : [goneAfterRelease]),
      ...(unknownRemovals === null ? [] : [unknownRemovals]),
      ...(window === null ? [] : [window]),
    ];
    return fromFiles.length === 0 ? this.tasks.assumptions() : [...this.tasks.assumptions(), ...fromFiles];
  }

  /**
   * The paths from the trace that assumptions() names, as written there: a
   * path may hold spaces, and free text cannot tell where it ends, so
   * --redact replaces these whole (Redaction.withWholePaths).
   */
  pathsInAssumptions(): string[] {
    return [
      ...this.tasks.pathsInAssumptions(),
      ...this.fds.pathsInAssumptions(),
      ...this.files.cut.paths(this.foundAtFor()),
      ...this.files.replaced.paths(),
      ...this.images.paths(),
      ...this.files.misplaced.paths(),
      ...this.files.unfollowed.paths(),
      ...this.files.aliased.paths(),
      ...this.files.swapped.paths(),
      ...this.mappings.failedUnmaps.paths(),
      ...this.mappings.unnamed.paths(),
      ...this.files.hidden.paths(),
      ...this.files.goneUnknown.paths(),
      ...this.files.removedHeldBeforeTrace.paths(),
      ...this.files.unknownRemovals.paths(),
      ...this.mappings.goneAfterRelease.paths(),
      ...(this.window?.paths() ?? []),
      ...this.files.missingPaths(),
      ...this.releasedGone(this.foundFor())
        .slice(0, 1)
        .map((released) => released.name),
    ];
  }

  held(): EngineHeld {
    return { ...this.tasks.held(), waitingEvents: this.cloneWait.size, pendingOrphans: this.mappings.pendingOrphanCount };
  }

  /** Names that lead to a file now (Files.namesHeld): bounded, whatever the trace links or opens and lets go. */
  namesHeld(): number {
    return this.files.namesHeld;
  }

  /** Steps taken so far resolving threads to their processes (Counters.taskSteps): linear in the events. */
  taskSteps(): number {
    return this.counters.taskSteps;
  }

  /** Files with hidden names looked at by removals tied to no file (HiddenLinks.steps): linear in both. */
  hiddenLinkSteps(): number {
    return this.files.hidden.steps;
  }

  /** Fd numbers close_range calls looked at so far (Fds.rangeSteps): linear in the opens. */
  fdSteps(): number {
    return this.fds.rangeSteps;
  }

  /**
   * A rename, while a mapping maps-start.txt seeded waits for its process's
   * exit, mapped or released (Mappings.nameChanged): its old name, or a directory above
   * it, moved away, or a file renamed over it. (A name cut by bpftrace ties to
   * none: the mapping stays in doubt.)
   */
  private releasedNameRenamed(task: Task, event: RenameEvent): void {
    if (event.oldPathCut === true || event.newPathCut === true) return;
    const to = resolveName(task, event.newDir, event.newPath);
    // A file renamed to the name makes it anew, as an atomic save does: whether the one the lookup found gone was
    // still there is not known (code review 60, F7).
    if (!event.exchange && this.mappings.goneAfterRelease.watching) this.mappings.goneAfterRelease.nameMade(to, undefined);
    this.mappings.nameChanged(resolveName(task, event.oldDir, event.oldPath), true, event);
    this.mappings.nameChanged(to, false, event);
  }

  /**
   * An unlink, while a mapping maps-start.txt seeded waits for its process's
   * exit, mapped or released: a file's name removed (Mappings.nameChanged), or a
   * directory (rmdir), which changed the directory above it (Mappings.entryChanged).
   */
  private releasedNameRemoved(task: Task, event: UnlinkEvent): void {
    if (event.pathCut === true) return;
    const name = resolveName(task, event.dir, event.path);
    if (event.removeDir) this.mappings.entryChanged(name, event);
    else this.mappings.nameChanged(name, false, event);
  }

  /** A link or symlink made `name`, while a mapping maps-start.txt seeded waits for its process's exit, released: its directory changed (Mappings.entryChanged). */
  private releasedDirEntryMade(task: Task, dir: DirRef, path: string, cut: boolean, event: EventBase): void {
    if (cut !== true) this.mappings.entryChanged(resolveName(task, dir, path), event);
  }

  private applyNow(event: TraceEvent, keeper: EvidenceKeeper | undefined): void {
    this.counters.seq++;
    this.files.keeper = keeper;
    // Exit markers of threads already gone (exit_group prints them in any order) must not create tasks. One of a
    // thread the trace never showed may be an attached process's leader, which a filter left with no other line.
    if (event.kind === 'thread-exit' && !this.tasks.has(event.tid)) {
      this.tasks.exitOnly(event.tid);
      return;
    }
    // A failed call is no step of a sequence a benign rule follows, and makes no task of a thread the trace has not shown.
    if (event.kind === 'name-missing') {
      if (this.tasks.has(event.tid)) this.files.nameMissing(this.tasks.taskFor(event.tid, event.tgid), event);
      return;
    }
    // Likewise a munmap that failed: it undoes what its entry did.
    if (event.kind === 'munmap-failed') {
      if (this.tasks.has(event.tid)) this.mappings.munmapFailed(this.tasks.taskFor(event.tid, event.tgid).space, event);
      return;
    }
    this.log.callMade(event);
    const task = this.tasks.taskFor(event.tid, event.tgid);
    if (this.watchAll || this.watched?.has(task.group.tgid) === true) this.shown.add(task.group.tgid);
    if (this.window?.watching === true) this.inWindow(this.window, task, event);
    if (task.group.rootChanged !== null) this.rootChangeUsed(task, event);
    this.dispatch(task, event);
    // The process is gone with this thread: its mappings went (Tasks.threadExit decides it).
    if (event.kind === 'thread-exit' && this.window?.watching === true && this.tasks.gone(task.group)) this.window.released(task.group.tgid, event, 'exit');
  }

  /** What an event tells of the mappings gone between the attach and maps-start.txt's read (AttachWindow), until they have all told. */
  private inWindow(window: AttachWindow, task: Task, event: TraceEvent): void {
    const tgid = task.group.tgid;
    switch (event.kind) {
      case 'mmap':
        // MAP_FIXED replaces what is there: as an munmap would, it tells the range was mapped (review 32, code review 1).
        if ((event.flags & MAP_FIXED) !== 0) window.unmapped(tgid, event.address, event.length, event, true);
        else window.mapped(tgid, event.address, event.length);
        break;
      case 'munmap':
        window.unmapped(tgid, event.address, event.length, event);
        break;
      case 'mremap':
        window.moved(tgid, event.oldAddress, event.oldLength, event.newAddress, event.newLength, event, (event.flags & MREMAP_FIXED) !== 0);
        break;
      case 'unlink':
        if (event.pathCut !== true && event.removeDir !== true) window.nameRemoved(resolveName(task, event.dir, event.path), event);
        break;
      case 'rename':
        if (event.oldPathCut !== true && event.newPathCut !== true && !event.exchange) {
          const to = resolveName(task, event.newDir, event.newPath);
          window.nameRemoved(to, event);
          window.nameMoved(resolveName(task, event.oldDir, event.oldPath), to);
        }
        break;
      case 'clone':
        // A child process of its own holds a copy of each (review 33 attack, F1); a thread or vfork child shares them.
        // Flags 0 are strace's fork() (musl's, a raw SYS_fork); bpftrace's, which show each record's tgid, are flags
        // it did not have (Tasks.cloneReturned: the child's first record decides, and such a child gets no copy).
        if (event.childTid > 0 && (event.flags & CLONE_VM) === 0 && (event.flags !== 0 || event.tgid === undefined)) window.forked(tgid, event.childTid, event);
        break;
      case 'exec':
        window.released(tgid, event, 'exec');
        break;
    }
  }

  /** A call of a process whose root changed: one that takes a name makes that change a blind spot, told once. */
  private rootChangeUsed(task: Task, event: TraceEvent): void {
    const changed = task.group.rootChanged;
    if (changed === null || changed === 'told' || !readsAName(event)) return;
    this.views.add(changed);
    task.group.rootChanged = 'told';
  }

  private dispatch(task: Task, event: TraceEvent): void {
    // The kinds a trace has most come first: each case is a comparison until the switch is optimized.
    switch (event.kind) {
      case 'mmap':
        // A ring's mmap, strace -y naming its fd, though a filter left its io_uring_setup out (review 33, exactness 3).
        if (event.fdHint === IO_URING_FD) this.ringMapped(task, event);
        this.mappings.mmap(task, event);
        break;
      case 'munmap':
        this.mappings.munmap(task.space, event);
        break;
      case 'madvise':
        this.broadFilterCalls++;
        this.mappings.madvise(task.space, event);
        break;
      case 'open':
        if (this.mappings.watchesSeededNames && event.pathCut !== true && event.tmpfile !== true) {
          this.mappings.nameOpened(resolveName(task, event.dir, event.path), event.resolvedHint, event.inode ?? null, event);
        }
        // An open that may write the name anew (O_CREAT|O_TRUNC, or O_CREAT|O_EXCL): not a read, as a cleaner's of what it
        // then removes (code review 60, F11), nor an O_TRUNC without O_CREAT, which found a file at the name (review 74,
        // F1: `cp` over a file, then `rm` of it, after its holder's exit, was a false doubt, exit 2).
        // And one that reaches the file by another spelling than the kernel's (GoneAfterRelease.spelledAs).
        if (this.mappings.goneAfterRelease.watching && event.pathCut !== true) {
          const name = resolveName(task, event.dir, event.path);
          if (event.tmpfile !== true && (event.mayCreate === true || event.created === true)) this.mappings.goneAfterRelease.nameMade(name, event.resolvedHint);
          if (event.resolvedHint !== undefined) this.mappings.goneAfterRelease.spelledAs(name, event.resolvedHint, event.inode);
        }
        // Without -y, an open of /proc/self/fd/N names the path, not the file it reaches: fd N's.
        this.fds.open(task, event, event.resolvedHint === undefined ? this.procFdFile(task, resolveName(task, event.dir, event.path)) : undefined);
        if (event.truncated === true) this.openedTruncated(task, event);
        break;
      case 'close':
        this.fds.close(task, event.fd, event, event.goneName, event.nlink, event.inode);
        break;
      case 'truncate':
        this.truncate(task, event);
        break;
      case 'rename':
        if (this.mappings.watchesReleasedNames || this.mappings.watchesSeededNames) this.releasedNameRenamed(task, event);
        if (this.mappings.unnamed.watching && !event.exchange) {
          // A rename replaces whatever had the new name: perhaps a file mapped unnamed.
          const name = resolveName(task, event.newDir, event.newPath);
          const replaced = this.files.named(name);
          this.files.rename(task, event);
          this.mappings.unnamed.nameRemoved(replaced, name, event);
        } else this.files.rename(task, event);
        break;
      case 'unlink':
        if (this.mappings.watchesReleasedNames || this.mappings.watchesSeededNames) this.releasedNameRemoved(task, event);
        if (this.mappings.unnamed.watching && !event.removeDir) {
          const name = resolveName(task, event.dir, event.path);
          const removed = this.files.named(name);
          this.files.unlink(task, event);
          this.mappings.unnamed.nameRemoved(removed, name, event);
        } else this.files.unlink(task, event);
        break;
      case 'dup':
        this.broadFilterCalls++;
        this.fds.dup(task, event);
        break;
      case 'set-cloexec':
        this.broadFilterCalls++;
        this.fds.setCloexec(task, event);
        break;
      case 'close-range':
        this.broadFilterCalls++;
        this.fds.closeRange(task, event);
        break;
      case 'mremap':
        this.broadFilterCalls++;
        this.mappings.mremap(task.space, event);
        break;
      case 'link':
        this.linksSeen++;
        if (this.mappings.watchesReleasedNames) this.releasedDirEntryMade(task, event.newDir, event.newPath, event.newPathCut === true, event);
        // A link succeeds only to a free name: the file the lookup found gone had lost it (code review 60, F7).
        if (this.mappings.goneAfterRelease.watching && event.newPathCut !== true) this.mappings.goneAfterRelease.nameMade(resolveName(task, event.newDir, event.newPath), undefined);
        this.files.link(task, event, this.linkedFd(task, event));
        break;
      case 'symlink':
        this.broadFilterCalls++;
        if (this.mappings.watchesReleasedNames) this.releasedDirEntryMade(task, event.dir, event.path, false, event);
        this.files.symlink(task, event);
        break;
      case 'chdir':
        this.broadFilterCalls++;
        chdir(task, event, this.files);
        break;
      case 'clone-start':
        this.tasks.cloneStarted(task);
        break;
      case 'clone':
        // A thread with a cwd of its own, or processes sharing one: the engine keeps one per process (review 25).
        if (event.childTid > 0 && ((event.flags & CLONE_THREAD) !== 0) === ((event.flags & CLONE_FS) === 0)) {
          this.views.add({ pid: task.group.tgid, call: 'clone', at: `${event.place.file}:${event.place.line}` });
        }
        this.tasks.cloneReturned(task, event.childTid, event.flags, event.seconds, event.tgid !== undefined);
        if (event.untracedChild === true) this.untracedChildren.add({ pid: task.group.tgid, child: event.childTid, at: `${event.place.file}:${event.place.line}` });
        break;
      case 'exec-start':
        this.execEntered(task, event);
        break;
      case 'exec':
        this.tasks.exec(task, event);
        this.runs(task, event);
        break;
      case 'thread-exit':
        this.release(this.images.returned(event.tid)?.file ?? null);
        this.tasks.threadExit(task, event);
        break;
      case 'lost':
        break;
      case 'fd-seen':
        // Only for what its annotation says of the fd's file (Fds.fileOfFd: a name gone out of sight).
        this.fds.fileOfFd(task, event.fd, event.fdHint, event, undefined, true);
        break;
      case 'name-missing':
      case 'munmap-failed':
        // Applied before (applyNow).
        break;
      case 'blind-spot':
        // A new root changes what a name means only for the calls that take one after it (review 67, F-1: Dovecot's
        // imap-login and anvil chroot, then take no name: every trace of it was undecided).
        if (event.missed === undefined && ROOT_CHANGES.has(event.call)) task.group.rootChanged ??= { pid: task.group.tgid, call: event.call, at: `${event.place.file}:${event.place.line}` };
        else this.blindSpotsOf(event).add({ pid: task.group.tgid, call: event.call, at: `${event.place.file}:${event.place.line}` });
        break;
      default:
        assertNever(event);
    }
  }

  /**
   * The file a link names by an fd, not by a name: an empty old path with a
   * directory fd (AT_EMPTY_PATH), or a procfs fd link (/proc/self/fd/N,
   * /proc/thread-self/fd/N, /proc/PID/fd/N), which a link that succeeded
   * followed (without AT_SYMLINK_FOLLOW it fails with EXDEV). This is how an
   * O_TMPFILE file gets its name. Undefined for a link by name.
   */
  private linkedFd(task: Task, event: LinkEvent): FileNode | null | undefined {
    const dir = event.oldDir.fd;
    if (event.oldPath === '') return dir === 'cwd' ? undefined : this.fds.fileOfFd(task, dir, event.oldDir.hint, event);
    return this.procFdFile(task, resolveName(task, event.oldDir, event.oldPath));
  }

  /**
   * The file a procfs fd link reaches (PROC_FD), which an open or a link
   * through it follows to the fd's own file. Undefined for any other path;
   * null or undefined for an fd the trace does not know.
   */
  private procFdFile(task: Task, path: string): FileNode | null | undefined {
    const procFd = path.startsWith('/proc/') || path.startsWith('/dev/fd/') ? PROC_FD.exec(path) : null;
    if (procFd === null) return undefined;
    const owner = procFd[1] === undefined || procFd[1] === 'self' || procFd[1] === 'thread-self' ? task.fds : this.tasks.fdsOf(Number(procFd[1]));
    return owner?.fds.get(Number(procFd[2]))?.file;
  }

  /**
   * The program the exec'd space runs, by the execve's path (images.ts).
   * None for a cut path (cut-names.ts), nor for an execveat of an fd, whose
   * path is empty.
   */
  private runs(task: Task, event: ExecEvent): void {
    // An exec by a thread other than the leader entered under the thread's own id.
    const entered = this.images.returned(event.formerTid ?? event.tid);
    if (event.pathCut === true || event.path === '' || event.path === '?') {
      this.release(entered?.file ?? null);
      return;
    }
    const name = resolveName(task, { fd: 'cwd' }, event.path);
    const known = this.files.executable(name);
    // The name went between the execve's entry and its return, both printed:
    // the kernel opened the file at the entry (an execve that finds no file
    // fails), and runs it: "(deleted)" if its last name went, under its new
    // name if it was renamed away. A name that names another file by the
    // return may have been made in time for the kernel to open it: that one
    // is taken, as when the entry was not printed apart. An entry of an
    // earlier call (one that failed: the trace shows no event for it) says
    // nothing of this one.
    const same = entered !== null && entered.name === name && entered.at === `${event.place.file}:${event.place.line}`;
    if (known === undefined && same) {
      if (entered.goneAt === null) this.images.started(task.space, entered.file, name, event);
      else this.images.startedGone(task.space, entered.file, name, event, entered.goneAt);
      return;
    }
    const file = known ?? this.files.executed(name);
    this.images.started(task.space, file, file.displayName, event);
    this.release(entered?.file ?? null);
  }

  /**
   * An execve entered (ExecStartEvent): the file its path names now (known
   * from now on, as an execve's file is), held until it returns. An execve
   * that strace prints whole needs none: its line comes before any other
   * process's.
   */
  private execEntered(task: Task, event: ExecStartEvent): void {
    const readable = event.pathCut !== true && event.path !== '' && event.path !== '?';
    const name = readable ? resolveName(task, { fd: 'cwd' }, event.path) : '';
    this.release(this.images.entered(event.tid, readable ? this.files.executed(name) : undefined, name, event));
  }

  /** A file no execve holds any longer: forgotten unless something else holds it. */
  private release(file: FileNode | null): void {
    if (file !== null) this.files.forgetIfUnused(file);
  }

  /**
   * An open with O_TRUNC emptied the file it reached: a size change, as an
   * ftruncate to 0 is, when a mapping of that file is live (review 55, M1:
   * numpy's `mode='w+'` over a live memmap, mapped again, gave no
   * remapped-without-unmap).
   */
  private openedTruncated(task: Task, event: OpenEvent): void {
    const file = task.fds.fds.get(event.fd)?.file;
    if (file !== undefined && file !== null && file.recordCount > 0) this.files.emptied(file, event);
  }

  /** ftruncate names its file by fd, truncate by path. */
  private truncate(task: Task, event: TruncateEvent): void {
    let file: FileNode | null | undefined;
    if (event.fd !== undefined) file = this.fds.fileOfFd(task, event.fd, event.fdHint, event, event.inode, event.fdDeleted === true);
    // A cut path leads to no file (cut-names.ts).
    else if (event.path !== undefined && event.pathCut !== true) file = this.files.named(resolveName(task, event.dir ?? { fd: 'cwd' }, event.path));
    if (file === null || file === undefined) return;
    this.files.resized(file, event.length, event);
    if (event.nlink !== undefined) this.files.linkCountSeen(file, event.nlink, event, 'ftruncate', task.space);
  }
}

/**
 * Children strace's clone showed made with CLONE_UNTRACED: the kernel attaches
 * no tracer to them, so `strace -f` follows neither them nor what they start
 * (review 22: a child that leaked 128 MiB, and a daemon it started, unseen).
 * Counted, the first kept, for one warning and the reason a verdict is refused.
 */
class UntracedChildren extends FirstOfMany<{ pid: number; child: number; at: string }> {
  /** "process 1 made process 2 with clone(CLONE_UNTRACED) at trace.txt:9 (and 1 more like it), which strace does not follow", or null. */
  reason(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return `process ${first.pid} made process ${first.child} with clone(CLONE_UNTRACED) at ${first.at}${more}, which strace does not follow`;
  }

  note(): string | null {
    const reason = this.reason();
    if (reason === null) return null;
    return (
      `${reason}: the kernel attaches no tracer to such a child, so neither it nor anything it starts is in the trace, and a leak of theirs is missed ` +
      '(--fail-on and diff refuse a verdict with no failing finding). Capture with --backend bpftrace, which sees every process'
    );
  }
}

/**
 * Calls after which the trace cannot say what happens to files
 * (BlindSpotEvent): a ring of io_uring, whose file operations are no system
 * call; or a change of which file a name means (chroot, pivot_root, setns,
 * mount, move_mount, umount2, open_tree's clone, fsmount), which the engine
 * does not follow. A leak behind either read as clean (reviews 23 and 24). Counted, the first kept, for one
 * warning and the reason a verdict is refused.
 */
/** How strace -y names a ring's fd (`6<anon_inode:[io_uring]>`). */
const IO_URING_FD = 'anon_inode:[io_uring]';

/**
 * Of the released mappings in doubt, those no doubt of `counted` (of the same
 * process and name, and of the same file where both know it) stands for: a
 * mapping whose release maps-start-gone.txt puts in doubt, and whose fd's
 * close showed its file "(deleted)" (ReplacedNames), is one mapping (review
 * 64, F-2: "2 mappings are in doubt" of one). An open that showed a newer file
 * replaced is of another mapping than the maps-start.txt one released
 * before (review 81: a cache replaced twice, each reloaded, read as 1 in
 * doubt of 2). By inode number alone: an overlayfs file's maps line and its
 * open may give two devices (Files.mayReach).
 */
function notCountedIn(counted: readonly DoubtOfFile[], released: readonly ReleasedGone[]): ReleasedGone[] {
  if (counted.length === 0) return [...released];
  const left = new Map<string, DoubtOfFile[]>();
  for (const doubt of counted) {
    const key = `${doubt.pid}\0${doubt.name}`;
    const same = left.get(key);
    if (same === undefined) left.set(key, [doubt]);
    else same.push(doubt);
  }
  // A doubt of the very file first, then one that names none (a close's): a greedy match in one pass let a doubt with
  // no file take a mapping a doubt of its file stood for, and count the latter's apart (code review 86, 4).
  const standsFor = (doubt: ReleasedGone, exact: boolean): boolean => {
    const same = left.get(`${doubt.pid}\0${doubt.name}`);
    const at = same?.findIndex(({ file }) => (exact ? file !== null && doubt.inode !== null && file.ino === doubt.inode.ino : file === null || doubt.inode === null)) ?? -1;
    if (at < 0) return false;
    same!.splice(at, 1);
    return true;
  };
  const unmatched = released.filter((doubt) => !standsFor(doubt, true));
  return unmatched.filter((doubt) => !standsFor(doubt, false));
}

/** The calls that give a process a new root: a blind spot once it takes a name under it (Engine.rootChangeUsed). */
const ROOT_CHANGES: ReadonlySet<string> = new Set(['chroot', 'pivot_root']);

/** The events whose calls take a name, which a new root changes the meaning of (a chdir only sets where later ones start). */
const NAMES_TAKEN: ReadonlySet<TraceEvent['kind']> = new Set(['open', 'unlink', 'rename', 'link', 'symlink', 'exec', 'exec-start']);

/** Whether the trace reads a file's name from `event`: a name the call takes (NAMES_TAKEN), or the path -y names its fd by, as the new root spells it. */
function readsAName(event: TraceEvent): boolean {
  if (NAMES_TAKEN.has(event.kind)) return true;
  switch (event.kind) {
    case 'mmap':
    case 'fd-seen':
      return event.fdHint?.startsWith('/') === true;
    case 'truncate':
      return event.path !== undefined || event.fdHint?.startsWith('/') === true;
    case 'dup':
      return event.oldHint?.startsWith('/') === true;
    case 'close':
      return event.goneName !== undefined;
    default:
      return false;
  }
}

class BlindSpots extends FirstOfMany<{ pid: number; call: string; at: string; before?: true }> {
  constructor(private readonly what: 'io_uring' | 'view' | 'unread-name' | 'unseen-calls') {
    super();
  }

  /** "process 1 called chroot at trace.txt:9 (and 1 more call like it), after which …", or null. */
  reason(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more call${this.count > 2 ? 's' : ''} like it)` : '';
    if (this.what === 'unread-name') return `process ${first.pid}'s ${first.call} at ${first.at}${more} succeeded with a name bpftrace could not read (it printed none)`;
    if (this.what === 'unseen-calls') {
      const whose =
        first.call === 'track' ? `a new process of process ${first.pid} (at ${first.at})${more} could not be traced` : `a call of process ${first.pid} (at ${first.at})${more} could not be printed`;
      return `${whose}: bpftrace's maps were full (BPFTRACE_MAP_KEYS_MAX: as many threads inside a traced call, or live processes in the traced tree)`;
    }
    if (this.what === 'io_uring') {
      const uring =
        first.before === true
          ? `held an io_uring ring when the capture began (${first.at})`
          : first.call === 'mmap'
            ? `mapped an io_uring ring at ${first.at} (its io_uring_setup is not in the trace: left out by its filter?)`
            : `set up io_uring at ${first.at}`;
      return `process ${first.pid} ${uring}${more}, whose opens, closes, unlinks and renames are no system call the trace can show`;
    }
    return first.before === true
      ? `process ${first.pid} saw another mount namespace or root than the capture when it attached (${first.at})${more}, so a name may mean another file than the trace takes it for`
      : `process ${first.pid} called ${first.call} at ${first.at}${more}, after which a name may mean another file than the trace takes it for`;
  }

  note(): string | null {
    const reason = this.reason();
    if (reason === null) return null;
    if (this.what === 'unseen-calls')
      return (
        `${reason}, so a file it opened, mapped or removed is not in the trace, and a leak may be missed (--fail-on and diff refuse a verdict with no failing finding). ` +
        'Capture again with a larger BPFTRACE_MAP_KEYS_MAX, or with strace; on the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan)'
      );
    if (this.what === 'unread-name')
      return (
        `${reason}: the script reads a name at the call's exit, and a process can make that read fail (drop the page that holds it), so which file the call ` +
        'opened, removed or renamed is not known, and a leak may be missed (--fail-on and diff refuse a verdict with no failing finding). On the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan)'
      );
    return this.what === 'io_uring'
      ? `${reason}: a file removed through the ring while mapped is missed, and no finding says so (--fail-on and diff refuse a verdict with no failing finding). ` +
          'Neither strace nor bpftrace sees those operations; on the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan)'
      : `${reason}: orphanmap resolves names as ${this.first?.before === true ? 'the capture sees them' : 'the traced processes saw them when the trace began'}, so an unlink or rename may be tied to the wrong file, ` +
          'or to none, and a leak missed (--fail-on and diff refuse a verdict with no failing finding). On the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan)';
  }
}

/** When the directory of a released mapping's file last changed, as the capture's lookup tells it (Mappings.releasedBeforeExit). */
function directoryTold(released: ReleasedGone): string {
  return released.dirChangedAt === null ? `its directory last changed before the exit (${released.goneAt})` : `its directory last changed about the exit or after it (${released.goneAt})`;
}

/** The traced change of that directory after the release, which the lookup may have seen instead of the file's removal. */
function changeTold(released: ReleasedGone): string {
  return released.dirChangedAt === null ? '' : `a traced call changed that directory after the release (at ${released.dirChangedAt}), which may be the change the capture saw; `;
}

/** What the trace shows of the name of a released mapping's file (Mappings.releasedBeforeExit). */
function removalTold(released: ReleasedGone): string {
  // Review 33 exactness, 1: this said "no removal" of a name the trace's first line removed.
  if (released.removedWhileMapped !== null)
    return `the trace shows that name removed while it was mapped (at ${released.removedWhileMapped}), names it does not know keeping the file then (hard links made before the trace), but not whether those went before the release`;
  const reopened = released.reopened;
  if (reopened === null) return 'the trace shows no removal of that name';
  const reached =
    reopened.reached === null
      ? 'a file the trace does not name (strace prints no inode), perhaps not the mapped one'
      : `inode ${reopened.reached.ino}, not inode ${reopened.listed?.ino ?? '?'}, the file maps-start.txt lists there`;
  return `the trace shows that name removed after the release, but its open at ${reopened.at} reached ${reached}, so that removal may have been another file's`;
}

/** Whether a finding covers process `pid` and `name`, or one of `doubts` is of them already. */
function coveredBy(found: (pid: number, name: string) => boolean, doubts: readonly { pid: number; name: string }[]): (pid: number, name: string) => boolean {
  const doubted = new Set(doubts.map(({ pid, name }) => `${pid} ${name}`));
  return (pid, name) => found(pid, name) || doubted.has(`${pid} ${name}`);
}

// Fd tables: fd → file identity. dup/dup2/dup3/fcntl F_DUPFD alias, close and
// close_range drop, O_CLOEXEC goes on execve; CLONE_FILES shares a table, a
// fork copies it. Close takes effect at its entry, so a number handed out
// again proves the old one was closed even before that close is printed.
// The -y annotation of an fd is the kernel's word at that call: where it names
// another file than the table holds, the table missed a close, open or dup
// (filtered out with -e trace=…) and the annotation wins (fileOfFd).
import type { CloseRangeEvent, DupEvent, EventBase, Inode, OpenEvent, SetCloexecEvent, TraceEvent } from '../parse/events.js';
import { flatCopy } from '../parse/flat-copy.js';
import { deletedKind } from '../parse/maps.js';
import { DELETED_IN_ANNOTATION, learnCwd, REMOVED_OUT_OF_SIGHT, noteRelative, resolveName, type FileNode, type Files } from './files.js';
import { sameInode } from './inode.js';
import type { Task } from './tasks.js';

/** An fd open when the capture began: a line of a bundle's fds-start.txt. */
export interface SeedFd {
  fd: number;
  /** The file's path, without the " (deleted)" readlink appends. */
  path: string;
  /** readlink said " (deleted)": the file had lost that name already. */
  deleted: boolean;
  place: { file: string; line: number };
  text: string;
}

/** An fd whose -y annotation named another file than its binding: the first one, for the report's warning. */
interface Rebinding {
  pid: number;
  fd: number;
  was: string;
  now: string;
  at: string;
  /** `was` came from fds-start.txt, not from a call of the trace. */
  seeded: boolean;
}

/** An open that returned a number still open here: its close was in flight, or the lines are out of order. */
export interface HandOver {
  pid: number;
  fd: number;
  at: string;
}

interface FdEntry {
  file: FileNode | null;
  cloexec: boolean;
  /**
   * The binding came from an annotation or a snapshot (an fd opened before
   * the trace), not from an open or dup the trace showed: it holds only until
   * an annotation says otherwise.
   */
  annotated: boolean;
  /**
   * The path the fd was opened by, when its last component was a symlink
   * (Files.opened names the file by its real path): a directory opened so is
   * reached through a symlinked directory, and a path relative to the fd is
   * spelled through it, as the process spelled it. Null for most fds.
   */
  through: string | null;
  /** The binding is fds-start.txt's, read after the tracer attached (Fds.seed). */
  seeded?: true;
  /**
   * An open returned this number while it was still live here: the close of
   * the old file was in flight (printed later, as in merged -ff traces where
   * lines carry entry times). The next close of this number is that one, and
   * until then the old file is kept here, with its fd reference: a call of
   * the closing thread whose -y annotation names it was made before that
   * close (fileOfFd).
   */
  inFlight?: FileNode | null;
  /** The thread whose open handed the number out while `inFlight` held it, and the one whose open gave `inFlight`. */
  openedBy?: number;
  inFlightOpenedBy?: number;
}

export class FdTable {
  readonly fds = new Map<number, FdEntry>();
  /**
   * The fds of `fds` that are not close-on-exec: what close_range(…,
   * CLOSE_RANGE_CLOEXEC) can change. A process holding 20,000 fds that made
   * the call 20,000 times had each call visit every fd (review 20, R20-3:
   * 67 s for 3.6 MB of trace); now each fd is visited once per open.
   */
  readonly kept = new Set<number>();
  /** Tasks sharing the table (CLONE_FILES); its fds are released with the last. */
  users = 0;
}

export class Fds {
  /** Opens, closes and dups applied: none in a trace whose fds are known from annotations alone. */
  private tableEvents = 0;
  /** Fd numbers close_range looked at (fdsIn): linear in the opens, whatever the calls (Engine.fdSteps). */
  rangeSteps = 0;
  /**
   * Closes and dups applied. A trace that shows them shows them all (an
   * unfiltered one): an annotation that names another file than the table is
   * then another spelling of the same file, never a close or dup2 out of sight.
   */
  private closesAndDups = 0;
  /** Dups applied (dup, dup2, dup3, fcntl F_DUPFD): none while a filter may leave them out. */
  private dups = 0;
  /** Files reached through an fd with its -y annotation (mmap, ftruncate, dup). */
  private annotatedLookups = 0;
  private rebindings = 0;
  private firstRebinding: Rebinding | null = null;
  /** Annotations naming another known file with the same base name, against which the table was kept (see stale). */
  private keptBindings = 0;
  private firstKept: Rebinding | null = null;
  /** Mappings of fds no call in the trace had made, with no -y annotation or inode to name the file (mappedUnknownFd). */
  private unknownFdMaps = 0;
  private firstUnknownFdMap: { pid: number; fd: number; at: string } | null = null;
  /** Opens that returned a number still open here, as far as the order of the lines shows (FdEntry.inFlight). */
  private handOvers = 0;
  private firstHandOver: HandOver | null = null;

  constructor(private readonly files: Files) {}

  /** What had to be assumed about fds, in plain words for a report's warnings. */
  assumptions(): string[] {
    const notes: string[] = [];
    const first = this.firstRebinding;
    if (first !== null) {
      const more = this.rebindings > 1 ? ` (and ${this.rebindings - 1} more like it)` : '';
      // fds-start.txt is read once the tracer has attached: a call traced before it was read may already show the fd's next file.
      notes.push(
        first.seeded
          ? `fd ${first.fd} of process ${first.pid} was ${first.was} by fds-start.txt, but its -y annotation at ${first.at} names ${first.now}${more}: ` +
              'fds-start.txt is read after the tracer attaches, so an fd closed and opened again while it was read shows its next file in the trace first; ' +
              'each such fd was taken for the file its annotation names'
          : `fd ${first.fd} of process ${first.pid} was ${first.was} as far as the trace showed, but its -y annotation at ${first.at} names ${first.now}${more}: ` +
              'the trace does not show every open, close or dup of its fds (filtered out with -e trace=…?), so each such fd was taken for the file its annotation names',
      );
    }
    const kept = this.firstKept;
    if (kept !== null) {
      const more = this.keptBindings > 1 ? ` (and ${this.keptBindings - 1} more like it)` : '';
      notes.push(
        `fd ${kept.fd} of process ${kept.pid} is ${kept.was} as far as the trace showed, but its -y annotation at ${kept.at} names ${kept.now}, another file the trace knows${more}: ` +
          `kept ${kept.was} because the annotation ends with its base name and the trace reached it through a symlinked directory (another spelling of it?), and the trace shows closes but no dup. ` +
          `If a dup2 or dup3 left out with -e trace=… put ${kept.now} on that fd, the findings of both files are wrong: capture without -e trace=, or with orphanmap capture`,
      );
    }
    const unknown = this.firstUnknownFdMap;
    if (unknown !== null) {
      const more = this.unknownFdMaps > 1 ? ` (and ${this.unknownFdMaps - 1} more like it)` : '';
      notes.push(
        `process ${unknown.pid} mapped fd ${unknown.fd} at ${unknown.at}, which no call in the trace had opened${more}: the trace gives the file no name, so an unlink of it cannot be matched, ` +
          'and a mapping of it that outlived its file is not reported as a finding (a name removed while it lives puts it in doubt). The call that made the fd is not in the trace: a dup, dup2, dup3 or fcntl F_DUPFD left out with -e trace=…, ' +
          'an fd received over a unix socket (recvmsg with SCM_RIGHTS), or one opened before the trace began. Capture with -y, whose annotation names the file',
      );
    }
    if (this.tableEvents === 0 && this.annotatedLookups > 0) {
      const times = this.annotatedLookups === 1 ? 'once' : `${this.annotatedLookups} times`;
      notes.push(
        `the trace reaches files through -y annotated fds ${times} but shows no open, close or dup: if it was captured with -e trace=… leaving them out, ` +
          'each fd is named by its annotation alone, and if clone, execve, exit or rename calls were left out too, processes and names are not followed: ' +
          'the findings may be wrong or missing; capture without -e trace=, or with orphanmap capture',
      );
    }
    return notes;
  }

  /** How many opens returned a number still open here, and the first: an -ff set without -y or -T cannot tell which file a call of that number meant. */
  handedOver(): { count: number; first: HandOver | null } {
    return { count: this.handOvers, first: this.firstHandOver };
  }

  /** The paths assumptions() names, to be hashed whole under --redact: a path may hold spaces. */
  pathsInAssumptions(): string[] {
    return [this.firstRebinding, this.firstKept].flatMap((rebinding) => (rebinding === null ? [] : [rebinding.was, rebinding.now]));
  }

  /** @param reached the file an fd link (/proc/self/fd/N) leads to, when the path is one and the trace printed no real path */
  open(task: Task, event: OpenEvent, reached?: FileNode | null): void {
    this.tableEvents++;
    learnCwd(task, event.dir);
    if (reached !== undefined && reached !== null && event.tmpfile !== true) {
      this.setFd(task, event.fd, reached, event.cloexec, event);
      reached.note(event, this.files.keeper);
      return;
    }
    if (event.memfd === true) {
      // The file -y's annotation names at an mmap of the fd ("/memfd:NAME (deleted)": Fds.fileOfFd), made at once:
      // a new one at each call, whatever its name (Wayland and PipeWire make many memfds of one name).
      const file = this.files.memfd(event.path);
      this.setFd(task, event.fd, file, event.cloexec, event);
      file.note(event, this.files.keeper);
      return;
    }
    const name = resolveName(task, event.dir, event.path);
    if (event.pathCut === true && event.tmpfile !== true) {
      // A name the tracer cut may be another file's, cut alike: the file is the inode's.
      const file = this.files.openedByCutName(name, event.inode);
      this.setFd(task, event.fd, file, event.cloexec, event);
      file.note(event, this.files.keeper);
      return;
    }
    // Through a symlink to the file (its last component): the file is named by the symlink's target, and the fd remembers the way.
    // Without an annotation, the symlinks the trace made tell where the path leads.
    const tmpfile = event.tmpfile === true;
    const resolved = tmpfile ? event.resolvedHint : (event.resolvedHint ?? this.files.followSymlinks(name));
    if (resolved === undefined || !resolved.startsWith('/')) noteRelative(task, name, event);
    const real = tmpfile ? null : this.files.symlinkTarget(name, resolved);
    // A new file: a file the trace knew by that inode number was freed, whatever the trace shows held of it (review 51, A5).
    if (event.created === true && event.inode !== undefined) this.files.inodeMadeNew(event.inode);
    if (event.inode !== undefined && real === null && !tmpfile) this.files.openedInode(task, name, event.inode, event);
    const file = real === null ? this.files.opened(name, event.inode, resolved, tmpfile) : this.files.openedThrough(real, event.inode);
    if (real === null && !tmpfile) this.files.madeHere(file, name, event.created === true);
    const through = real === null ? null : flatCopy(name);
    if (event.realName !== undefined && real === null) this.files.awaitRealName(file, name, event.realName);
    this.setFd(task, event.fd, file, event.cloexec, event, false, through);
    file.note(event, this.files.keeper);
  }

  /**
   * @param goneName the path -y printed for the fd with "(deleted)" after it (CloseEvent.goneName)
   * @param nlink the link count of the fd's file at the close, and `inode` the file's (bpftrace: CloseEvent.nlink)
   */
  close(task: Task, fd: number, event: EventBase, goneName?: string, nlink?: number, inode?: Inode): void {
    this.tableEvents++;
    this.closesAndDups++;
    this.files.closesShown = true;
    const entry = task.fds.fds.get(fd);
    if (entry === undefined) {
      // An fd opened before the trace, first seen here, its file gone: perhaps by an unlink the trace showed (review 47, P1).
      if (goneName !== undefined) this.files.goneHeldSinceBefore(task, fd, goneName, event);
      return;
    }
    if (goneName !== undefined && entry.inFlight === undefined && entry.file !== null) this.closedGone(task, fd, entry, entry.file, goneName, event);
    // Counted for the file the table holds only when it is that file: the table may be off by a call the trace missed.
    const bound = entry.inFlight === undefined ? entry.file : null;
    const known = nlink !== undefined && bound !== null ? this.files.seedInodeOf(bound) : null;
    if (nlink !== undefined && bound !== null && known !== null && inode !== undefined && sameInode(known, inode)) {
      if (nlink === 0) this.closedNameless(task, bound, event);
      else this.files.linkCountSeen(bound, nlink, event, 'close', task.space);
    }
    if (entry.inFlight !== undefined) {
      const before = entry.inFlight;
      delete entry.inFlight;
      if (entry.openedBy === task.tid && entry.inFlightOpenedBy !== undefined && entry.inFlightOpenedBy !== task.tid) {
        // The thread whose open took the number closes it: its own file. Its open and this close ran
        // before the other thread's open returned the number (stamped first, it returned last), so that
        // thread's file holds the number now (review 29: a JVM pool's mmap was charged to another
        // thread's scratch file, and the scratch file's unlink made a leak up).
        const mine = entry.file;
        entry.file = before;
        entry.openedBy = entry.inFlightOpenedBy;
        delete entry.inFlightOpenedBy;
        this.files.releaseFd(mine);
        if (mine !== null) this.files.noteUnlessForgotten(mine, event);
        return;
      }
      // This close released the previous file, whose number came back already.
      delete entry.inFlightOpenedBy;
      this.files.releaseFd(before);
      if (before !== null) this.files.noteUnlessForgotten(before, event);
      return;
    }
    task.fds.fds.delete(fd);
    task.fds.kept.delete(fd);
    this.files.releaseFd(entry.file);
    if (entry.file !== null) this.files.noteUnlessForgotten(entry.file, event);
  }

  /**
   * The kernel's word at a close: the fd's file has lost the name -y printed.
   * When the trace still holds that name as the file's and a mapping of it is
   * live, the name went by a call the trace could not tie to it (an unlink
   * through a second spelling of its directory, a symlink or a bind mount
   * made before the trace: review 22), or by one it does not show: the
   * mappings outlived it, as fileOfFd decides for an mmap or ftruncate.
   */
  private closedGone(task: Task, fd: number, entry: FdEntry, bound: FileNode, goneName: string, event: EventBase): void {
    if (bound.gone || deletedKind(goneName) !== 'file') return;
    if (this.files.named(goneName) !== bound) {
      // A name the trace never gave any file, on an fd it saw opened: the file's own, renamed out of its sight.
      if (entry.annotated || entry.seeded === true || this.files.named(goneName) !== undefined || this.files.goneNamed(goneName) !== undefined) return;
      // A file really named "seg (deleted)", as older strace printed a deleted one: its name, not a sign (review 26, F2).
      if (this.files.isNamed(bound, goneName + DELETED_IN_ANNOTATION)) return;
      // A name of its own the trace saw go (a link keeps it: review 31, F-3).
      if (bound.history.includes(goneName)) return;
      const live = [...bound.liveRecords()];
      if (live.length === 0) return;
      this.files.goneUnknown.add({ fd, shown: flatCopy(goneName), known: bound.displayName, pid: task.group.tgid, at: `${event.place.file}:${event.place.line}` });
      this.files.goneUnknown.doubt(live, bound.displayName);
      return;
    }
    // Names the kernel counted that the trace does not know may keep it: its live mappings in doubt, no more (review 32).
    if (this.files.hidden.goneOutOfSight(bound, `${event.place.file}:${event.place.line}`)) return;
    // Its mappings no longer live (unmapped first, the usual order: review 23's journalctl, whose files the vacuum
    // removed; or gone with their processes) are in doubt; those live now are findings (their doubt gives way to them).
    this.files.closedGoneUnmapped(bound, goneName, event, task.group.tgid);
    if (bound.recordCount === 0) return;
    this.files.wentOutOfSight(bound, event, task.space, `The -y annotation of fd ${fd} at ${event.place.file}:${event.place.line} shows it "(deleted)": ${REMOVED_OUT_OF_SIGHT}`);
  }

  /**
   * bpftrace's word at a close: the fd's file had no name left (a link count
   * of 0), by no call the trace showed (a rename over it by a process not
   * traced: dovecot's cache, replaced while an imap process held it; review
   * 44, H1). As for strace's "(deleted)" (closedGone), its mappings no longer
   * live are in doubt and those live now are findings. A file the trace knows
   * by no name (an fd opened before it, a memfd) had none to lose.
   */
  private closedNameless(task: Task, file: FileNode, event: EventBase): void {
    if (file.gone || file.unnamed || (file.names.size === 0 && file.hiddenLinks === 0)) return;
    this.files.closedGoneUnmapped(file, file.displayName, event, task.group.tgid, true);
    if (file.recordCount === 0) return;
    this.files.linkCountSeen(file, 0, event, 'close', task.space);
  }

  closeRange(task: Task, event: CloseRangeEvent): void {
    this.tableEvents++;
    this.closesAndDups++;
    this.files.closesShown = true;
    if (event.unshare === true && task.fds.users > 1) {
      // CLOSE_RANGE_UNSHARE: this task gets its own copy first; the others keep theirs open.
      const copy = copyTable(task.fds, (entry) => ({ file: entry.file, cloexec: entry.cloexec, annotated: entry.annotated, through: entry.through }));
      copy.users = 1;
      this.release(task.fds);
      task.fds = copy;
    }
    const table = task.fds;
    const among = event.cloexecOnly ? table.kept : table.fds;
    this.rangeSteps += Math.min(event.high - event.low + 1, among.size);
    for (const fd of fdsIn(among, event.low, event.high)) {
      if (!event.cloexecOnly) {
        this.close(task, fd, event);
        continue;
      }
      const entry = table.fds.get(fd);
      if (entry !== undefined) entry.cloexec = true;
      table.kept.delete(fd);
    }
  }

  dup(task: Task, event: DupEvent): void {
    this.tableEvents++;
    this.closesAndDups++;
    this.files.closesShown = true;
    this.dups++;
    if (event.oldFd === event.newFd) return;
    const file = this.fileOfFd(task, event.oldFd, event.oldHint, event, undefined, event.oldDeleted === true);
    const old = task.fds.fds.get(event.oldFd);
    this.setFd(task, event.newFd, file, event.cloexec, null, false, old !== undefined && old.file === file ? old.through : null);
    file?.note(event, this.files.keeper);
  }

  setCloexec(task: Task, event: SetCloexecEvent): void {
    const entry = task.fds.fds.get(event.fd);
    if (entry === undefined) return;
    entry.cloexec = event.cloexec;
    if (event.cloexec) task.fds.kept.delete(event.fd);
    else task.fds.kept.add(event.fd);
  }

  /**
   * The file behind an fd at `event`; an fd opened before the trace is named
   * from the -y hint. A hint that names another file than the binding wins
   * when the binding may be stale (stale): the trace may not show every
   * close, open or dup of the fd. A "(deleted)" hint (`hintGone`, or older
   * strace's " (deleted)" inside it) names a file that lost that name: never
   * the file that has it now, always one gone (the one that last had it, as
   * far as the trace shows, or one gone before the trace).
   */
  fileOfFd(task: Task, fd: number, hint: string | undefined, event: EventBase, inode?: Inode, hintGone = false): FileNode | null {
    if (hint !== undefined) this.annotatedLookups++;
    // An fd the trace never saw made (or only copied: Python's mmap module copies the fd it maps), of a file it
    // let go with its names: an fd sent over a unix socket (Files.wake).
    const byInode = this.files.withInode(inode) ?? (task.fds.fds.get(fd)?.file?.unknownOrigin === false ? undefined : this.files.wake(inode));
    if (byInode !== undefined) return byInode;
    let gone = hintGone;
    if (hint !== undefined && !gone && hint.endsWith(DELETED_IN_ANNOTATION) && deletedKind(hint.slice(0, -DELETED_IN_ANNOTATION.length)) === 'file') {
      hint = hint.slice(0, -DELETED_IN_ANNOTATION.length);
      gone = true;
    }
    // memfd, /dev/zero, SysV shm and O_TMPFILE files print "(deleted)" too: they never had a name to lose.
    // An O_TMPFILE file ("DIR/#INODE") has none until a link gives it one, and then still prints that way.
    let tmpfile = false;
    if (gone && hint !== undefined) {
      const kind = deletedKind(hint);
      gone = kind === 'file';
      tmpfile = kind === 'tmpfile';
    }
    const entry = task.fds.fds.get(fd);
    if (entry !== undefined) {
      const bound = entry.file;
      // Without -y: the thread whose open gave the file in flight calls on its own number until its close
      // (another thread's open, stamped between, returned after that close: review 29, a JVM pool).
      // (The same thread on both: its own close of the older one was not in the trace, as with -e trace=%file.)
      if (hint === undefined && entry.inFlight !== undefined && entry.inFlightOpenedBy === task.tid && entry.openedBy !== task.tid) return entry.inFlight;
      if (hint === undefined || bound === null) return bound;
      if (gone ? this.files.isNamedGone(bound, hint) : this.files.isNamed(bound, hint)) return bound;
      if (tmpfile && bound.history.includes(hint)) return bound;
      // 5959  .477583 openat(AT_FDCWD, "/d/t2-82", O_RDWR|O_CREAT, 0644) = 5</d/t2-82>   (thread B, entered first)
      // 5958  .477604 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5</d/t3-88>, 0)           (thread A)
      //                                                       ^^^^^^^^^^^^ the kernel's word: A's file
      // 5958  .477639 close(5</d/t3-88>)                      (B's openat returned after this)
      // The number was handed out again while its close was in flight: a call
      // whose annotation names the file it held came before that close.
      const before = entry.inFlight;
      if (before !== undefined && before !== null && (gone ? this.files.isNamedGone(before, hint) : this.files.isNamed(before, hint))) return before;
      if (gone && this.files.named(hint) === bound && (this.closesAndDups > 0 || !entry.annotated || entry.seeded === true)) {
        // 8369 .938535 mmap(NULL, 225280, …, MAP_SHARED, 3</d/db.tdb>, 0) = 0x7f87ded7c000
        // 8369 .516636 mmap(NULL, 225280, …, MAP_SHARED, 3</d/db.tdb>(deleted), 0)   (mv new.tdb db.tdb, by a process not traced)
        // The fd's own file lost its name, by no call the trace shows: the fd still holds the file it
        // was opened on (review 9, R9-2), not one gone before the trace, when the trace shows its open
        // (an open of another file on that number would show too), the kernel's fds-start.txt gave it,
        // or the trace shows closes (an unfiltered one).
        // Its mappings no longer live are in doubt, as at a close that shows it so (closedGone): another process's,
        // a fork child's that has exited (review 61, F-5: varnishd's cache child mapped its storage file through the
        // manager's fd, an operator removed the file, and the next child's mmap showed it "(deleted)": clean, exit 0).
        if (bound.hiddenLinks === 0) this.files.closedGoneUnmapped(bound, hint, event, task.group.tgid, false, callOf(event));
        this.files.wentOutOfSight(bound, event, task.space, `The -y annotation of fd ${fd} at ${event.place.file}:${event.place.line} shows it "(deleted)": ${REMOVED_OUT_OF_SIGHT}`);
        return bound;
      }
      if (!this.stale(entry, bound, hint, gone)) {
        if (this.keptAgainst(bound, hint, gone)) this.noteKept(task, fd, bound, hint, event);
        return bound;
      }
      this.noteRebinding(task, fd, bound, hint, event, gone, entry.seeded === true);
    }
    const file = gone ? this.files.goneBeforeTrace(hint!) : tmpfile ? this.files.nameless(hint!, inode) : this.files.openedBeforeTrace(fd, hint);
    if (!gone && !tmpfile) this.files.heldSinceBefore(file, task, fd);
    else if (gone) this.files.goneHeldSinceBefore(task, fd, hint!, event);
    if (inode !== undefined && file.inode === null) this.files.setInode(file, inode);
    this.setFd(task, fd, file, false, null, true);
    return file;
  }

  /**
   * The annotation `hint` names another file than `bound`: whether the table's
   * binding may be stale. A "(deleted)" hint of the very file that has the
   * name now, in a trace that shows no close: always (a file gone is not the
   * one created since; where closes are shown, fileOfFd takes it for the
   * bound file's name gone out of sight). In a trace
   * that shows no close or dup: when the binding came from an annotation
   * itself (any other name: the fd was closed and reused out of sight), or
   * when the engine knows the hint's name as another file's (a dup2 over it,
   * out of sight); not against a name the engine does not know, another
   * spelling of its file (the kernel's path through a symlinked directory, or
   * outside a container's root, after a rename took the known one away).
   * In a trace that shows closes: only while it has shown no dup (a filter
   * that keeps close but leaves dup2, dup3 and fcntl out), and only for a
   * name the engine knows as another file's, unless the bound file was
   * reached through two spellings (a symlinked directory) and the name ends
   * with the base name of one of its names: a rename through that directory
   * can leave the engine giving the kernel's spelling to the file it replaced.
   * A file the trace only ever named as the kernel does (d1/x.index, with
   * another file at d2/x.index) has no such spelling: the annotation wins
   * (review 3, finding D).
   */
  private stale(entry: FdEntry, bound: FileNode, hint: string, gone: boolean): boolean {
    if (gone && this.files.named(hint) === bound) return true;
    const named = gone ? this.files.goneNamed(hint) : this.files.namedByAnnotation(hint);
    if (named === bound) return false;
    if (this.closesAndDups === 0) return named !== undefined || entry.annotated;
    return this.dups === 0 && named !== undefined && !(bound.spellings !== null && this.files.spellsBaseName(bound, hint));
  }

  /**
   * The table was kept against an annotation naming another file the engine
   * knows, only because it spells a name of the binding through another
   * directory (stale's last rule): a guess, said in the report's warnings.
   */
  private keptAgainst(bound: FileNode, hint: string, gone: boolean): boolean {
    if (gone || this.closesAndDups === 0 || this.dups > 0) return false;
    const named = this.files.namedByAnnotation(hint);
    return named !== undefined && named !== bound;
  }

  private noteKept(task: Task, fd: number, bound: FileNode, hint: string, event: EventBase): void {
    this.keptBindings++;
    if (this.firstKept !== null) return;
    this.firstKept = { pid: task.group.tgid, fd, was: bound.displayName, now: hint, at: `${event.place.file}:${event.place.line}`, seeded: false };
  }

  /** The fds open when the capture began (a bundle's fds-start.txt): bound until the trace or an annotation says otherwise. */
  seed(task: Task, seeds: readonly SeedFd[]): void {
    for (const seed of seeds) {
      const file = this.files.seededFd(seed.path, seed.deleted);
      this.setFd(task, seed.fd, file, false, null, true);
      task.fds.fds.get(seed.fd)!.seeded = true;
      file.note({ place: seed.place, time: null, seconds: null, tid: 0, raw: seed.text }, undefined);
    }
  }

  private noteRebinding(task: Task, fd: number, bound: FileNode, hint: string, event: EventBase, gone: boolean, seeded: boolean): void {
    this.rebindings++;
    if (this.firstRebinding !== null) return;
    const now = gone ? `${hint}${DELETED_IN_ANNOTATION}` : hint;
    this.firstRebinding = { pid: task.group.tgid, fd, was: bound.displayName, now, at: `${event.place.file}:${event.place.line}`, seeded };
  }

  /**
   * An mmap of `fd` that nothing can name: no -y annotation, no inode, and no
   * call of the trace made the fd, or only a copy of one no call made (Python's
   * mmap module maps a dup of the fd it is given: fcntl(F_DUPFD_CLOEXEC) of a
   * number received over a unix socket, review 26). Said in a warning
   * (assumptions): the file is followed as one "opened before the trace",
   * whose unlink no name matches. True for such an mmap (Mappings.unnamed).
   */
  mappedUnknownFd(task: Task, fd: number, hint: string | undefined, inode: Inode | undefined, event: EventBase): boolean {
    if (hint !== undefined || inode !== undefined) return false;
    const entry = task.fds.fds.get(fd);
    if (entry !== undefined && entry.file?.unknownOrigin !== true) return false;
    this.unknownFdMaps++;
    this.firstUnknownFdMap ??= { pid: task.group.tgid, fd, at: `${event.place.file}:${event.place.line}` };
    return true;
  }

  /** A fork without CLONE_FILES: the child's own copy of the table. */
  forFork(table: FdTable): FdTable {
    return copyTable(table, (entry) => ({ ...entry }));
  }

  /** An execve: the table is unshared and close-on-exec fds go. */
  forExec(table: FdTable): FdTable {
    const fds = copyTable(table, (entry) => (entry.cloexec ? null : { ...entry }));
    fds.users = 1;
    this.release(table);
    return fds;
  }

  /** A task stopped using the table: the last one out closes its fds. */
  release(table: FdTable): void {
    table.users--;
    if (table.users > 0) return;
    for (const entry of table.fds.values()) {
      this.files.releaseFd(entry.file);
      if (entry.inFlight !== undefined) this.files.releaseFd(entry.inFlight);
    }
    table.fds.clear();
    table.kept.clear();
  }

  /** @param handedOut the open that returned `fd`, null for a dup or an annotation */
  private setFd(task: Task, fd: number, file: FileNode | null, cloexec: boolean, handedOut: EventBase | null, annotated = false, through: string | null = null): void {
    const previous = task.fds.fds.get(fd);
    // The new reference counts before the old one is let go: the same file
    // opened again on the same number (its close not traced) would otherwise
    // have none for a moment, and be forgotten with its names.
    if (file !== null) file.fdRefs++;
    const entry: FdEntry = { file, cloexec, annotated, through };
    if (handedOut !== null) entry.openedBy = handedOut.tid;
    if (previous !== undefined) {
      if (previous.inFlight !== undefined) this.files.releaseFd(previous.inFlight);
      // An fd number handed out again proves the old one was closed (maybe by a
      // close still <unfinished ...> on another thread, or printed later in
      // another file of an -ff set): its file waits here for that close.
      // Not a binding of fds-start.txt: that is read after the tracer attached, and an open the trace
      // shows handing its number out with no close between says it was read after that open (a busy
      // process, in the first few hundred ms), not that a close is in flight; its "(deleted)" file,
      // kept in flight, took every later "(deleted)" annotation of the fd (CI: tdb's database,
      // replaced by another process right after the attach, read as no leak).
      if (handedOut !== null && previous.file !== file && previous.seeded !== true) {
        entry.inFlight = previous.file;
        entry.openedBy = handedOut.tid;
        if (previous.openedBy !== undefined) entry.inFlightOpenedBy = previous.openedBy;
        this.handOvers++;
        this.firstHandOver ??= { pid: task.group.tgid, fd, at: `${handedOut.place.file}:${handedOut.place.line}` };
      } else this.files.releaseFd(previous.file);
    }
    task.fds.fds.set(fd, entry);
    if (cloexec) task.fds.kept.delete(fd);
    else task.fds.kept.add(fd);
  }
}

/**
 * The fds of `among` from `low` to `high`, in a copy (the caller closes
 * them): by the numbers of the range when it is the smaller, so that a call
 * over a few numbers costs a few steps whatever the table holds.
 */
function fdsIn(among: ReadonlyMap<number, unknown> | ReadonlySet<number>, low: number, high: number): number[] {
  const found: number[] = [];
  if (high - low < among.size) {
    for (let fd = low; fd <= high; fd++) if (among.has(fd)) found.push(fd);
    return found;
  }
  for (const fd of among.keys()) if (fd >= low && fd <= high) found.push(fd);
  return found;
}

/** A new table (no users yet) holding `take`'s copy of each entry it keeps. */
function copyTable(table: FdTable, take: (entry: FdEntry) => FdEntry | null): FdTable {
  const copy = new FdTable();
  for (const [fd, entry] of table.fds) {
    const taken = take(entry);
    if (taken === null) continue;
    copy.fds.set(fd, taken);
    if (!taken.cloexec) copy.kept.add(fd);
    if (entry.file !== null) entry.file.fdRefs++;
    if (taken.inFlight !== undefined && taken.inFlight !== null) taken.inFlight.fdRefs++;
  }
  return copy;
}

/** The call `event` is, as a warning names it ("the mmap at trace.txt:40"). */
function callOf(event: EventBase): string {
  return (event as Partial<TraceEvent>).kind ?? 'call';
}

// Fd tables: fd → file identity. dup/dup2/dup3/fcntl F_DUPFD alias, close and
// close_range drop, O_CLOEXEC goes on execve; CLONE_FILES shares a table, a
// fork copies it. Close takes effect at its entry, so a number handed out
// again proves the old one was closed even before that close is printed.
import type { CloseRangeEvent, DupEvent, EventBase, Inode, OpenEvent, SetCloexecEvent } from '../parse/events.js';
import { learnCwd, resolveName, type FileNode, type Files } from './files.js';
import type { Task } from './tasks.js';

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

export class FdTable {
  readonly fds = new Map<number, FdEntry>();
  /** Tasks sharing the table (CLONE_FILES); its fds are released with the last. */
  users = 0;
}

export class Fds {
  constructor(private readonly files: Files) {}

  open(task: Task, event: OpenEvent): void {
    learnCwd(task, event.dir);
    const file = this.files.opened(resolveName(task, event.dir, event.path), event.inode, event.resolvedHint);
    this.setFd(task, event.fd, file, event.cloexec, true);
    file.note(event, this.files.keeper);
  }

  close(task: Task, fd: number, event: EventBase): void {
    const entry = task.fds.fds.get(fd);
    if (entry === undefined) return;
    if (entry.closeInFlight === true) {
      // This close released the previous file, already dropped when the number came back.
      entry.closeInFlight = false;
      return;
    }
    task.fds.fds.delete(fd);
    this.files.releaseFd(entry.file);
    if (entry.file !== null) this.files.noteUnlessForgotten(entry.file, event);
  }

  closeRange(task: Task, event: CloseRangeEvent): void {
    if (event.unshare === true && task.fds.users > 1) {
      // CLOSE_RANGE_UNSHARE: this task gets its own copy first; the others keep theirs open.
      const copy = copyTable(task.fds, (entry) => ({ file: entry.file, cloexec: entry.cloexec }));
      copy.users = 1;
      this.release(task.fds);
      task.fds = copy;
    }
    for (const fd of [...task.fds.fds.keys()]) {
      if (fd < event.low || fd > event.high) continue;
      if (event.cloexecOnly) task.fds.fds.get(fd)!.cloexec = true;
      else this.close(task, fd, event);
    }
  }

  dup(task: Task, event: DupEvent): void {
    if (event.oldFd === event.newFd) return;
    const file = this.fileOfFd(task, event.oldFd, event.oldHint);
    this.setFd(task, event.newFd, file, event.cloexec);
    file?.note(event, this.files.keeper);
  }

  setCloexec(task: Task, event: SetCloexecEvent): void {
    const entry = task.fds.fds.get(event.fd);
    if (entry !== undefined) entry.cloexec = event.cloexec;
  }

  /** The file behind an fd; an fd opened before the trace is named from the -y hint. */
  fileOfFd(task: Task, fd: number, hint: string | undefined, inode?: Inode): FileNode | null {
    const byInode = this.files.withInode(inode);
    if (byInode !== undefined) return byInode;
    const entry = task.fds.fds.get(fd);
    if (entry !== undefined) return entry.file;
    const file = this.files.openedBeforeTrace(fd, hint);
    if (inode !== undefined) this.files.setInode(file, inode);
    this.setFd(task, fd, file, false);
    return file;
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
    for (const entry of table.fds.values()) this.files.releaseFd(entry.file);
    table.fds.clear();
  }

  private setFd(task: Task, fd: number, file: FileNode | null, cloexec: boolean, handedOut = false): void {
    const previous = task.fds.fds.get(fd);
    // An fd number handed out again proves the old one was closed (maybe by a
    // close still <unfinished ...> on another thread).
    if (previous !== undefined) this.files.releaseFd(previous.file);
    const entry: FdEntry = { file, cloexec };
    if (handedOut && previous !== undefined && previous.file !== file) entry.closeInFlight = true;
    task.fds.fds.set(fd, entry);
    if (file !== null) file.fdRefs++;
  }
}

/** A new table (no users yet) holding `take`'s copy of each entry it keeps. */
function copyTable(table: FdTable, take: (entry: FdEntry) => FdEntry | null): FdTable {
  const copy = new FdTable();
  for (const [fd, entry] of table.fds) {
    const taken = take(entry);
    if (taken === null) continue;
    copy.fds.set(fd, taken);
    if (entry.file !== null) entry.file.fdRefs++;
  }
  return copy;
}

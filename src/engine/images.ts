// The programs processes run. The kernel maps a program (and its ELF
// interpreter) at execve, and no mmap in the trace shows it: an address
// space starts empty, and when a relink or a package upgrade removes the last
// name of a program a live process runs, /proc shows it "(deleted)" and the
// engine holds no mapping to make a finding of (review 2, D5). What the trace
// does show: the execve's path, and the call that removed that file's last
// name while the process ran. That is said in a warning. An attached
// capture's maps-start.txt gives the attached process's own program its
// addresses, and its unlink is a finding like any other (Mappings.seed).
import type { EventBase } from '../parse/events.js';
import { flatCopy } from '../parse/flat-copy.js';
import type { FileNode } from './files.js';
import type { Space } from './mappings.js';

/** The program an address space runs, from its execve. */
interface Run {
  file: FileNode;
  /** The execve's path, resolved as other names are. */
  path: string;
  execAt: string;
}

/** A program whose last name went while a process ran it. */
interface Replaced {
  pid: number;
  path: string;
  execAt: string;
  goneAt: string;
  /** The name that went, when not the execve's path: the one /proc shows "(deleted)". */
  lastName: string | null;
}

/**
 * An execve entered and not yet returned (ExecStartEvent): the file its path
 * named then, held until the return (RunningImages.returned), and where its
 * last name went meanwhile, if it did.
 */
interface Starting {
  file: FileNode;
  /** The path, resolved as other names are: the return's must be the same. */
  name: string;
  /** The entry's line, "file:line", which the joined event of its return starts on: a later execve of the thread is another call. */
  at: string;
  goneAt: string | null;
}

/** Programs told in the warning; the others are counted. */
const SHOWN = 5;

export class RunningImages {
  private readonly bySpace = new Map<Space, Run>();
  /** Each file that some space runs → those spaces. */
  private readonly byFile = new Map<FileNode, Set<Space>>();
  private readonly replaced: Replaced[] = [];
  private replacedCount = 0;
  /** By the thread inside the execve: few at a time. */
  private readonly starting = new Map<number, Starting>();

  /** The space runs `file`, exec'd by `path` at `event`. */
  started(space: Space, file: FileNode, path: string, event: EventBase): void {
    this.stopped(space);
    this.bySpace.set(space, { file, path, execAt: `${event.place.file}:${event.place.line}` });
    this.add(file, space);
  }

  /**
   * Thread `tid` entered an execve of `file` (by `name`), whose return the
   * trace prints later: the file is held until then. Returns the file of an
   * execve it entered before and never returned from (one that failed: the
   * trace shows no event for it), which may be forgotten now, or null.
   */
  entered(tid: number, file: FileNode | undefined, name: string, event: EventBase): FileNode | null {
    const before = this.returned(tid);
    if (file !== undefined) {
      file.runningIn++;
      this.starting.set(tid, { file, name, at: `${event.place.file}:${event.place.line}`, goneAt: null });
    }
    return before?.file ?? null;
  }

  /** Thread `tid` returned from its execve, or ended: what it entered, no longer held (the caller may forget the file), or null. */
  returned(tid: number): Starting | null {
    const starting = this.starting.get(tid);
    if (starting === undefined) return null;
    this.starting.delete(tid);
    starting.file.runningIn--;
    return starting;
  }

  /** The space runs `file`, whose last name went at `goneAt` while the execve that runs it was in the kernel. */
  startedGone(space: Space, file: FileNode, path: string, event: EventBase, goneAt: string): void {
    this.started(space, file, path, event);
    this.replacedCount++;
    if (this.replaced.length < SHOWN) this.replaced.push({ pid: space.ownerTgid, path, execAt: `${event.place.file}:${event.place.line}`, goneAt, lastName: null });
  }

  /** A fork's child runs its parent's program until it execs. */
  forked(parent: Space, child: Space): void {
    const run = this.bySpace.get(parent);
    if (run === undefined) return;
    this.bySpace.set(child, run);
    this.add(run.file, child);
  }

  /** The space is released (exit, exec): returns the file it ran, which may be forgotten now, or null. */
  stopped(space: Space): FileNode | null {
    const run = this.bySpace.get(space);
    if (run === undefined) return null;
    this.bySpace.delete(space);
    const spaces = this.byFile.get(run.file);
    spaces?.delete(space);
    if (spaces?.size === 0) this.byFile.delete(run.file);
    run.file.runningIn--;
    return run.file;
  }

  /** The file's last name, `name`, went (`event`): each process running it runs a program "(deleted)" from now on. */
  lostLastName(file: FileNode, event: EventBase, name: string): void {
    const goneAt = `${event.place.file}:${event.place.line}`;
    for (const starting of this.starting.values()) if (starting.file === file) starting.goneAt ??= goneAt;
    const spaces = this.byFile.get(file);
    if (spaces === undefined) return;
    for (const space of spaces) {
      this.replacedCount++;
      const run = this.bySpace.get(space)!;
      if (this.replaced.length < SHOWN) this.replaced.push({ pid: space.ownerTgid, path: run.path, execAt: run.execAt, goneAt, lastName: name === run.path ? null : flatCopy(name) });
    }
  }

  /** The programs replaced while they ran, in plain words for a report's warning. */
  notes(): string[] {
    if (this.replaced.length === 0) return [];
    // The name /proc shows "(deleted)" is the last one (review 65, F-1: mold renamed a running program to .mold-XXXXXX, then removed it).
    const each = this.replaced.map(
      (run) =>
        `process ${run.pid} runs ${run.path} (execve at ${run.execAt}), whose last name${run.lastName === null ? '' : `, ${run.lastName} (renamed since; the name /proc shows),`} went at ${run.goneAt}`,
    );
    if (this.replacedCount > SHOWN) each.push(`and ${this.replacedCount - SHOWN} more`);
    return [
      `${each.join('; ')}: /proc/PID/maps shows the program (deleted) until the process exits or runs execve again. ` +
        'The kernel maps a program at execve and the trace shows no mmap of it, so no finding can give its addresses ' +
        '(attach to a running process with orphanmap capture --pid: maps-start.txt gives them). ' +
        'Unless that path was a symlink or a #! script: then the program mapped is another file, which may have kept its name',
    ];
  }

  /** The paths notes() names, to be hashed whole under --redact: an execve's path may hold spaces. */
  paths(): string[] {
    return this.replaced.flatMap((run) => (run.lastName === null ? [run.path] : [run.path, run.lastName]));
  }

  private add(file: FileNode, space: Space): void {
    file.runningIn++;
    let spaces = this.byFile.get(file);
    if (spaces === undefined) {
      spaces = new Set();
      this.byFile.set(file, spaces);
    }
    spaces.add(space);
  }
}

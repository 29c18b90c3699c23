// Which ids of a trace are processes, for `analyze --pid`.
import { CLONE_THREAD, type TraceEvent } from '../parse/events.js';

/**
 * Which ids of a trace are processes (thread groups) and which only threads,
 * for telling a user that `--pid N` names no process of the trace. A stopgap
 * beside the engine, which knows this better (it decides every finding's pid)
 * but keeps no list of the processes it has seen once they exit.
 */
export class TraceIds {
  private readonly processes = new Set<number>();
  /** Threads a clone(CLONE_THREAD) made. */
  private readonly threads = new Set<number>();
  private readonly tids = new Set<number>();
  /**
   * Threads seen without their clone and no tgid given: they existed before
   * the trace (attach, or the first process), and belong to the process the
   * trace starts in, whose pid is one of theirs (its leader's) or unknown.
   */
  private readonly unclaimed = new Set<number>();
  private attachedRoot: number | null = null;

  note(event: TraceEvent): void {
    const tid = event.tid;
    if (!this.tids.has(tid)) {
      this.tids.add(tid);
      if (event.tgid === undefined && !this.threads.has(tid) && !this.processes.has(tid)) this.unclaimed.add(tid);
    }
    if (event.tgid !== undefined) this.processes.add(event.tgid);
    if (event.kind === 'clone' && event.childTid > 0) {
      // strace -f can print a child's first call before its parent's clone returns.
      this.unclaimed.delete(event.childTid);
      if ((event.flags & CLONE_THREAD) !== 0) this.threads.add(event.childTid);
      else this.processes.add(event.childTid);
    }
    // After an execve the caller is its process's leader: its tid is the pid.
    if (event.kind === 'exec') this.processes.add(tid);
  }

  attached(tid: number): void {
    this.attachedRoot ??= tid;
  }

  /** The lines printed without a pid (tid 0) were process `to`'s. */
  rename(from: number, to: number): void {
    for (const set of [this.tids, this.processes, this.unclaimed]) if (set.delete(from)) set.add(to);
  }

  /** Null when `pid` is a process of the trace; otherwise what to tell the user. */
  notice(pid: number, alsoProcesses: readonly number[]): string | null {
    const processes = new Set([...this.processes, ...alsoProcesses]);
    // The threads seen without a clone are one process. Its pid, as the
    // engine decides it: the attach message's, or an exec'd thread's (the
    // one its findings carry), else the one asked about when no thread has a
    // lower id (a leader's tid is its pid, and it is the first thread), else
    // the lowest thread id.
    const unclaimed = [...this.unclaimed];
    // A loop, not Math.min(...unclaimed): an attach trace can have 100k threads, past the spread's stack.
    let lowest: number | undefined;
    for (const tid of unclaimed) if (lowest === undefined || tid < lowest) lowest = tid;
    const root = this.attachedRoot ?? unclaimed.find((tid) => processes.has(tid)) ?? (lowest !== undefined && pid <= lowest ? pid : lowest);
    if (root !== undefined) processes.add(root);
    processes.delete(0);
    if (processes.has(pid)) return null;
    const sorted = [...processes].sort((a, b) => a - b);
    const shown = sorted.slice(0, 12).join(', ') + (sorted.length > 12 ? ` and ${sorted.length - 12} more` : '');
    const listed = sorted.length === 0 ? 'the trace names no process' : `the trace has process${sorted.length === 1 ? '' : 'es'} ${shown}`;
    const what = this.tids.has(pid) ? `${pid} is a thread in the trace, not a process (findings are per process, by thread group id)` : `no process ${pid} in the trace`;
    return `--pid ${pid}: ${what}, so no finding can match it; ${listed}`;
  }
}

// The thread name a program takes at execve. The kernel names a thread after
// the base name of the path it exec'd (at most 15 bytes: TASK_COMM_LEN), but
// strace 6.1's -Y keeps printing the name a forked child had before an execve
// that follows failed ones (a PATH search): `git repack`, run by Python's
// subprocess, shows as <python3> on every line after its
// `execve("/usr/bin/git", …) = 0` (review 50, item 5),
// and a ticket then says python3 removed the pack. Each thread's name from
// its last successful exec stands in for that stale one until the trace
// prints another name for the thread. Pure: no I/O.
import type { ExecEvent, TraceEvent } from '../parse/events.js';

/** The kernel's limit on a thread name, the terminating NUL left out (TASK_COMM_LEN - 1). */
const COMM_BYTES = 15;

interface Renamed {
  /** The name the tracer printed on the exec's own line: the one it goes on printing. */
  stale: string;
  /** The name the kernel gave the thread. */
  fresh: string;
}

export class ExecNames {
  private readonly byTid = new Map<number, Renamed>();

  /** `event` with the name the kernel gave its thread when the tracer printed the one from before its exec. */
  correct(event: TraceEvent): void {
    if (this.byTid.size > 0 && event.comm !== undefined && event.tid !== null) {
      const renamed = this.byTid.get(event.tid);
      if (renamed !== undefined) {
        if (event.comm === renamed.stale) event.comm = renamed.fresh;
        // The tracer printed another name (it caught up, or the thread named itself): nothing to stand in for.
        else this.byTid.delete(event.tid);
      }
    }
    if (event.kind === 'exec') this.execd(event);
    else if (event.kind === 'thread-exit' && event.tid !== null) this.byTid.delete(event.tid);
  }

  private execd(event: ExecEvent): void {
    if (event.tid === null) return;
    this.byTid.delete(event.tid);
    if (event.formerTid !== undefined) this.byTid.delete(event.formerTid);
    const fresh = commOf(event.path);
    // A cut path, an execveat of an fd ("", or the fd's number), a name the same as before: nothing to correct.
    if (event.comm === undefined || event.pathCut !== undefined || fresh === '' || fresh === event.comm) return;
    this.byTid.set(event.tid, { stale: event.comm, fresh });
  }
}

/** The thread name the kernel gives a program exec'd by `path`: its base name, cut to 15 bytes of UTF-8 (whole characters). */
export function commOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  let bytes = 0;
  let end = 0;
  for (const char of base) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes > COMM_BYTES) break;
    end += char.length;
  }
  return base.slice(0, end);
}

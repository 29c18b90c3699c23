// strace -f -ttt -T -y -Y traces of many short-lived processes and threads,
// line by line, for tests that state how the engine's state and work grow
// with them. The shapes are taken from traces/attach-threads/trace.txt (a
// python3 that starts threads and vforks helpers, captured with strace
// -f -ttt -T -y -Y -p).
import type { Engine } from '../../src/engine/engine.js';
import { StraceReader, type ParseOutput } from '../../src/parse/strace.js';

/** Microseconds from the first line; one per line keeps times distinct and ordered. */
class Clock {
  private micros = 0;

  next(): string {
    this.micros++;
    const total = 1795606335_000000 + this.micros;
    return `${Math.floor(total / 1e6)}.${String(total % 1e6).padStart(6, '0')}`;
  }
}

/** An address for the n-th mapping of a process, page-aligned, in the range glibc's mmap hands out. */
function addressOf(n: number): string {
  return `0x${(0x7f3eec000000 + (n % 4096) * 0x10000).toString(16)}`;
}

export interface ForkTraceOptions {
  /** Children the parent forks, one after another; each maps a file of its own and exits. */
  processes: number;
  /** The parent's pid; children take the next ones. */
  parentPid?: number;
  /** The child (0-based) that unlinks its file while it is still mapped: one finding, resolved when that child exits. */
  leaker?: number;
  /** Each child also starts a thread that maps the file once more and exits before its process does. */
  withThreads?: boolean;
  /** The parent maps a file of its own first (a table a server reads), which every child holds a copy of until it exits. */
  parentMaps?: boolean;
}

/**
 * A server that forks a worker per job (strace -f): each worker opens a file
 * of its own, sizes it, maps it, closes the fd and exits with the mapping
 * still live (exit releases it); the parent reaps it. Nothing of a worker is
 * needed once it is gone, unless it left a finding.
 */
export function* forkAndExitTrace(options: ForkTraceOptions): Generator<string> {
  const clock = new Clock();
  const parent = options.parentPid ?? 1000;
  let nextPid = parent + 1;
  if (options.parentMaps === true) {
    yield `${parent}<server> ${clock.next()} openat(AT_FDCWD</srv/jobs>, "/srv/jobs/table.cdb", O_RDONLY|O_CLOEXEC) = 3</srv/jobs/table.cdb> <0.000021>`;
    yield `${parent}<server> ${clock.next()} mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</srv/jobs/table.cdb>, 0) = 0x7f3eed800000 <0.000012>`;
    yield `${parent}<server> ${clock.next()} close(3</srv/jobs/table.cdb>) = 0 <0.000006>`;
  }
  yield `${parent}<server> ${clock.next()} openat(AT_FDCWD</srv/jobs>, "/srv/jobs/queue", O_RDONLY|O_CLOEXEC) = 3</srv/jobs/queue> <0.000021>`;
  for (let job = 0; job < options.processes; job++) {
    const child = nextPid++;
    const file = `/srv/jobs/seg-${child}.dat`;
    const worker = `${child}<worker>`;
    yield `${parent}<server> ${clock.next()} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f3eed9fca10) = ${child}<worker> <0.000112>`;
    yield `${worker} ${clock.next()} set_robust_list(0x7f3eed9fca20, 24) = 0 <0.000004>`;
    yield `${worker} ${clock.next()} close(3</srv/jobs/queue>) = 0 <0.000006>`;
    yield `${worker} ${clock.next()} openat(AT_FDCWD</srv/jobs>, "${file}", O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC, 0644) = 3<${file}> <0.000031>`;
    yield `${worker} ${clock.next()} ftruncate(3<${file}>, 16384) = 0 <0.000012>`;
    yield `${worker} ${clock.next()} mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_SHARED, 3<${file}>, 0) = ${addressOf(job)} <0.000015>`;
    yield `${worker} ${clock.next()} close(3<${file}>) = 0 <0.000007>`;
    if (options.withThreads === true) {
      const thread = nextPid++;
      const threadName = `${thread}<worker>`;
      yield `${worker} ${clock.next()} clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f3eecbff990, parent_tid=0x7f3eecbff990, exit_signal=0, stack=0x7f3eec3ff000, stack_size=0x7fff80, tls=0x7f3eecbff6c0} => {parent_tid=[${thread}]}, 88) = ${thread} <0.000081>`;
      yield `${threadName} ${clock.next()} openat(AT_FDCWD</srv/jobs>, "${file}", O_RDONLY|O_CLOEXEC) = 4<${file}> <0.000019>`;
      yield `${threadName} ${clock.next()} mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4<${file}>, 0) = 0x7f3eed73a000 <0.000011>`;
      yield `${threadName} ${clock.next()} close(4<${file}>) = 0 <0.000005>`;
      yield `${threadName} ${clock.next()} exit(0) = ?`;
      yield `${threadName} ${clock.next()} +++ exited with 0 +++`;
    }
    if (job === options.leaker) yield `${worker} ${clock.next()} unlink("${file}") = 0 <0.000022>`;
    yield `${worker} ${clock.next()} exit_group(0) = ?`;
    yield `${worker} ${clock.next()} +++ exited with 0 +++`;
    yield `${parent}<server> ${clock.next()} --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=${child}, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---`;
    yield `${parent}<server> ${clock.next()} wait4(${child}, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = ${child} <0.000009>`;
  }
  yield `${parent}<server> ${clock.next()} exit_group(0) = ?`;
  yield `${parent}<server> ${clock.next()} +++ exited with 0 +++`;
}

export interface AttachTraceOptions {
  /** Threads of the attached process that show up without their clone, one after another; all stay alive until the end. */
  threads: number;
  /** The attached process's pid; its threads take the next ids. */
  pid?: number;
  /**
   * Every this many threads, the main thread vforks a helper and its
   * `<unfinished ...>` stays open while the next thread prints: events of a
   * thread never seen wait for that clone to return (tasks.ts, CloneWait).
   */
  vforkEvery?: number;
}

/**
 * strace -f -p PID on a process whose threads ran before the attach: each
 * thread is first seen at a call of its own (it opens, sizes, maps and
 * unmaps an index file); once every one has shown up, they exit. The main
 * thread now and then vforks a helper that execs and exits.
 */
export function* attachedThreadsTrace(options: AttachTraceOptions): Generator<string> {
  const clock = new Clock();
  const pid = options.pid ?? 5000;
  const main = `${pid}<python3>`;
  const first = pid + 1;
  let nextTid = first;
  const tids: number[] = [];
  for (let n = 0; n < options.threads; n++) {
    const tid = nextTid++;
    tids.push(tid);
    const thread = `${tid}<python3>`;
    const file = `/tmp/at/seg-${n}.index`;
    const vfork = options.vforkEvery !== undefined && n % options.vforkEvery === 0;
    const helper = vfork ? nextTid++ : 0;
    if (vfork) yield `${main} ${clock.next()} vfork( <unfinished ...>`;
    yield `${thread} ${clock.next()} openat(AT_FDCWD</tmp/at>, "${file}", O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC, 0644) = 5<${file}> <0.000193>`;
    yield `${thread} ${clock.next()} ftruncate(5<${file}>, 16384) = 0 <0.000035>`;
    yield `${thread} ${clock.next()} mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_SHARED, 5<${file}>, 0) = ${addressOf(n)} <0.000057>`;
    yield `${thread} ${clock.next()} close(5<${file}>) = 0 <0.000033>`;
    yield `${thread} ${clock.next()} munmap(${addressOf(n)}, 16384) = 0 <0.000092>`;
    if (vfork) {
      // The helper's first call is printed before its parent's vfork returns.
      yield `${helper}<python3> ${clock.next()} execve("/usr/bin/true", ["true"], 0x7fffdd8303e8 /* 38 vars */) = 0 <0.000345>`;
      yield `${main} ${clock.next()} <... vfork resumed>) = ${helper}<true> <0.006677>`;
      yield `${helper}<true> ${clock.next()} exit_group(0) = ?`;
      yield `${helper}<true> ${clock.next()} +++ exited with 0 +++`;
      yield `${main} ${clock.next()} --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=${helper}, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---`;
    }
  }
  for (const tid of tids) {
    yield `${tid}<python3> ${clock.next()} exit(0)  = ?`;
    yield `${tid}<python3> ${clock.next()} +++ exited with 0 +++`;
  }
}

/** Feeds lines through the strace reader into the engine, as analyze does; the reader is dropped at the end. */
export function applyLines(engine: Engine, lines: Iterable<string>): void {
  const reader = new StraceReader('trace.txt');
  const out: ParseOutput[] = [];
  let lineNo = 0;
  const drain = (): void => {
    for (const item of out) {
      if (item.type === 'event') engine.apply(item.event);
      else if (item.type === 'diagnostic') throw new Error(`${item.diagnostic.place.line}: ${item.diagnostic.reason}: ${item.diagnostic.text}`);
    }
    out.length = 0;
  };
  for (const line of lines) {
    reader.push(line, ++lineNo, out);
    drain();
  }
  reader.end(out);
  drain();
}

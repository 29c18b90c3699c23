// The strace reader: physical lines in, TraceEvents and diagnostics out.
// Stateful but pure (no I/O): it repairs lines cut by strace's own messages,
// joins `<unfinished ...>` with `<... NAME resumed>` per thread, accumulates
// -r clocks, and decodes the calls the engine follows.
import type { Diagnostic, EventBase, MunmapFailedEvent, NameMissingEvent, TraceEvent } from './events.js';
import { cloneFlagsAtEntry, decodeCall, decodeJoined, type DecodeResult, EFFECTIVE_AT_ENTRY, FOLLOWED_SYSCALLS } from './strace-decode.js';
import { flatCopy } from './flat-copy.js';
import { followedName, hasResult, MESSAGE_SPLICE, stderrPid } from './strace-scan.js';
import { CALL, ignoredCall, ResumeMarkers, type SkippedLines, type SkipPolicy, TRACE_LINE, UNFINISHED } from './strace-skip.js';
import {
  type CallStatus,
  type ContinuationRecord,
  decodeCString,
  type ExitRecord,
  isTid,
  type LinePrefix,
  messagePidInRange,
  newLineScan,
  parseStraceLine,
  scanCall,
  scanPrefix,
  straceShapeBesidesTid,
  type StraceRecord,
  TID_OUT_OF_RANGE,
  TID_RANGE_REASON,
} from './strace-line.js';

/**
 * How many prefixed tids of a stderr trace are kept as candidates for the
 * process whose lines have no prefix. Prefixes start with its first clone, so
 * it prints among the first few; a trace of a million short-lived processes
 * must not keep a million tids for this.
 */
const PID_CANDIDATES = 64;

/**
 * How many tracees alive a stderr trace counts to tell whose an unprefixed
 * line is. Past it the count is not trusted: such lines go to the first process.
 */
const LIVE_LIMIT = 4096;

/** The calls that make a tracee; a tid first seen while one is in flight may be its child. */
const CLONE_CALLS: ReadonlySet<string> = new Set(['clone', 'clone3', 'fork', 'vfork']);
/** Calls that remove a name: one in flight on another thread explains a name found gone (removalInFlight). */
const NAME_REMOVERS: ReadonlySet<string> = new Set(['unlink', 'unlinkat', 'rename', 'renameat', 'renameat2']);
/** A line cut by "strace: Process N attached" (StraceReader.carry) that is a clone's head. */
const CLONE_HEAD = /^(?:\[pid +\d+\] )?[^(]*?\b(?:clone3?|v?fork)\(/;
/** `strace: Process 14181 attached`, `… attached with 3 threads` (-f -p). */
const ATTACHED = /^strace: Process (\d+) attached(?: with (\d+) threads)?/;
const DETACHED = /^strace: Process (\d+) detached/;

/** A munmap's resume that says it failed, `) = -1 ENOMEM (Cannot allocate memory) <0.000265>`: its error name. */
const MUNMAP_FAILURE = /^\) += -1 (E[A-Z0-9]+)\b/;

/** The first lines are read in full: they tell whether this is a -r trace. Lines after them may be skipped. */
const SKIP_AFTER = 5;
/** The return value of a complete `set_tid_address(…) = N` (its body, after the opening parenthesis), before any -T time. */
const SET_TID_RESULT = /\) += (\d{1,7})(?: <[\d.]+>)?$/;

/**
 * Every this many lines, the unfinished calls still waiting are copied out
 * of their lines. A thread can sit in a call for the whole trace (a futex, a
 * read on a socket), and what `pending` keeps of it, cut from its line, would
 * pin the line's input chunk that long; but most calls resume within a few
 * lines, and copying every unfinished line cost f20 a tenth of its parse.
 * Until then, a chunk or two of a filtered trace are pinned at most.
 */
const PENDING_COPY_LINES = 4096;

export type ParseOutput =
  | { type: 'event'; event: TraceEvent }
  | { type: 'diagnostic'; diagnostic: Diagnostic }
  /** `strace: Process N attached`: tells which threads existed before the trace. */
  | { type: 'attached'; tid: number }
  /** At the end of a trace to stderr: the process printed without a pid prefix (tid 0) was `tid`. */
  | { type: 'tid-known'; from: number; tid: number }
  /** What the reader could not tell from the trace, and what it did instead, for the report's warnings. */
  | { type: 'warning'; text: string };

/** What the reader saw of the capture flags, for the preflight warnings. */
export interface StraceShape {
  lines: number;
  callLines: number;
  /**
   * Lines that are unmistakably strace output: a call with its result
   * (`…) = 3`), an unfinished or resumed call, `+++ exited…+++`, `--- SIG… ---`,
   * a `strace:` message. A text that is not a trace has (almost) none.
   */
  traceLines: number;
  /** Lines that printed a pid prefix (`1234 `, `[pid 1234] `): none means no -f. */
  withPid: number;
  withTime: number;
  withRelative: number;
  withFdHints: number;
  /** Calls read that name an fd, where -y prints its path (open, close, dup, mmap of a file): with none, -y cannot be told. */
  withFdCalls: number;
  /**
   * The trace's first line of a call is an execve: it began with the program
   * (launched), not in a running process (attached). A child's execve later
   * does not make it so (review 55, H1).
   */
  startsAtExecve: boolean;
  /** When the first line of a call was (seconds), if it had a time: the first member of an -ff set is the one that started. */
  firstCallSeconds: number | null;
  attachedSeen: boolean;
  /** Successful clone/fork calls: their children exist even when the trace does not follow them. */
  clones: number;
  /**
   * A line of a call orphanmap does not follow (read, brk, futex…) was read or skipped: without one, `-e trace=` kept
   * only followed ones. A flag, not a count: the line filter skips an ignored call's continuations too (strace-skip.ts).
   */
  sawUnfollowedCall: boolean;
}

/**
 * The call line being read: its prefix as the reader settled it (pid noted,
 * -r clock applied) and where its body is. One per reader, filled per line.
 */
interface CallLine extends LinePrefix {
  status: CallStatus;
  name: string;
  /** The line (copied); the body is text[bodyStart, bodyEnd), as CallRecord.body. */
  text: string;
  bodyStart: number;
  bodyEnd: number;
}

interface PendingCall {
  name: string;
  head: string;
  line: number;
  raw: string;
  time: string | null;
  seconds: number | null;
  comm?: string;
  /** close/munmap were already applied at entry. */
  applied: boolean;
  /** `raw` is not the physical line (EventBase.rebuilt). */
  rebuilt?: true;
  /** Its strings are flat copies (copyPending), not slices of the input. */
  copied: boolean;
  /** When it was started (or moved to another tid), in StraceReader.started. */
  order: number;
}

/**
 * A call line at the end of an input without a newline ends where strace
 * ends a whole one, after its return value: a -T time or an fd's -y path
 * (`>`), an error's text or a comment (`)`), `?`. A bare value does not show
 * it is whole: `= 0x7f8a8` may have been `= 0x7f8a8f3b4000`, `= 3` `= 35`.
 */
function endsWhole(line: string): boolean {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 32) end--;
  const last = line.charCodeAt(end - 1);
  return last === 62 /* > */ || last === 41 /* ) */ || last === 63; /* ? */
}

export class StraceReader {
  readonly shape: StraceShape = {
    lines: 0,
    callLines: 0,
    traceLines: 0,
    withPid: 0,
    withTime: 0,
    withRelative: 0,
    withFdHints: 0,
    withFdCalls: 0,
    startsAtExecve: false,
    firstCallSeconds: null,
    attachedSeen: false,
    clones: 0,
    sawUnfollowedCall: false,
  };
  /**
   * The call each thread is inside, by tid; undefined once it ended. A call
   * that ends leaves its tid's key (copyPending prunes them): deleting it and
   * adding it again for the thread's next call was most of what the Map cost.
   */
  private readonly pending = new Map<number, PendingCall | undefined>();
  /** Calls started so far: `pending`'s order as a Map whose ended calls were deleted (end). */
  private started = 0;
  private carry: { text: string; line: number } | null = null;
  private relativeClock = 0;
  private lastUnfinishedTid: number | null = null;
  /** The line being read is not the physical line as the input has it: its events say so (EventBase.rebuilt). */
  private rebuilt = false;

  /**
   * @param file name used in places and diagnostics
   * @param defaultTid the tid for lines without a pid prefix (the -ff file's
   *   suffix, or 0 when the trace does not say)
   */
  constructor(
    readonly file: string,
    private readonly defaultTid = 0,
  ) {}

  push(text: string, lineNo: number, out: ParseOutput[]): void {
    this.shape.lines++;
    // A message that cut the line before this one counts from now: that line's prefix was printed before it.
    if (this.deferred.length > 0 && this.carry === null) this.applyDeferred();
    this.lineNo = lineNo;
    if (lineNo >= this.copyPendingAt) this.copyPending(lineNo);
    let line = text;
    let firstLine = lineNo;
    this.rebuilt = false;
    if (line.charCodeAt(line.length - 1) === 13 /* \r */) {
      line = line.slice(0, -1);
      this.rebuilt = true;
    }
    if (this.carry !== null) {
      this.rebuilt = true;
      // The previous physical line was cut by "strace: Process N attached".
      line = this.carry.text + line;
      firstLine = this.carry.line;
      this.carry = null;
    }
    const last = line.charCodeAt(line.length - 1);
    if ((last === 100 /* d */ || last === 115) /* s */ && !line.startsWith('strace: ')) {
      const splice = MESSAGE_SPLICE.exec(line);
      if (splice !== null) {
        // "…strace: Process 99999999999999999999 attached": no process has that id; the line is unreadable as a whole.
        if (!messagePidInRange(splice[0])) {
          out.push(this.diagnostic(firstLine, line, TID_RANGE_REASON));
          return;
        }
        this.noteMessage(splice[0], out);
        this.deferred.push(splice[0]);
        this.carry = { text: line.slice(0, splice.index), line: firstLine };
        return;
      }
    }
    // Calls, most lines by far, are read from one scan of the line, made
    // before anything is copied out of it; other lines by parseStraceLine.
    const scan = this.scan;
    const first = line.charCodeAt(0);
    const notCall = line.length === 0 || first === 41 /* ) */ || (first === 115 /* s */ && line.startsWith('strace: ')) || (first === 32 && line.startsWith(' > '));
    const at = notCall ? -1 : scanPrefix(line, scan);
    if (at === TID_OUT_OF_RANGE) {
      // Said before anything reads the prefix: an ignored call's pid would count a tracee alive.
      // A strace line all the same (a trace of such lines is a trace with unreadable lines, not text).
      if (straceShapeBesidesTid(line)) this.shape.traceLines++;
      out.push(this.diagnostic(firstLine, line, TID_RANGE_REASON));
      return;
    }
    const isCall = at >= 0 && scanCall(line, at, scan);
    const followed = isCall ? followedName(line, scan.nameStart, scan.nameEnd) : undefined;
    // The first lines are always read in full: they tell whether this is a -r trace.
    // A followed call after a plain prefix is one ignoredCall would not skip: no need to ask it.
    if (isCall && followed === undefined) {
      this.shape.sawUnfollowedCall = true;
      const tid = scan.tid ?? this.defaultTid;
      if (tid > 0 && tid < this.lowestSkipped) this.lowestSkipped = tid;
    }
    if (this.shape.lines >= SKIP_AFTER && !(followed !== undefined && scan.plain) && this.isIgnoredCall(line)) {
      // On stderr the pid prefix comes and goes: every prefixed line tells who is alive.
      if (this.defaultTid === 0 && line.startsWith('[pid ')) {
        this.stderrPrefixes = true;
        this.notePid(stderrPid(line), out);
      }
      return;
    }
    // "[pid 19885] …": strace writes to stderr, where a line's prefix says how many tracees are alive (notePid).
    if (first === 91 /* [ */ && !this.stderrPrefixes && this.defaultTid === 0 && line.startsWith('[pid ')) this.stderrPrefixes = true;
    if (lineNo === this.cutLine) {
      if (isCall && followed !== undefined && (scan.status === 'complete' || scan.status === 'resumed') && !endsWhole(line) && hasResult(line, scan.bodyStart, scan.bodyEnd)) {
        out.push(this.diagnostic(firstLine, line, `${followed} line cut by the end of the input (no newline after it): its return value may be cut short`));
        return;
      }
    }
    // The line is not copied: it is a slice of the input chunk, and so are the
    // strings cut from it, but what outlives the line is copied where it is
    // kept (an unfinished call here, in copyPending; names and times in the
    // engine; samples in ingest).
    if (isCall) {
      this.callLine(line, followed, firstLine, out);
      return;
    }
    const record = parseStraceLine(line);
    // strace drops the thread that exec'd from its count before it prints "+++ superseded +++" for the leader.
    if (record.type === 'exit' && record.supersededBy !== undefined) this.noteGone(record.supersededBy);
    if (record.type === 'call' || record.type === 'exit' || record.type === 'signal') this.settlePrefix(record, first === 91 /* [ */, out);
    this.read(record, firstLine, lineNo, line, out);
  }

  private copyPendingAt = PENDING_COPY_LINES;

  /** The input's last line has no newline (LineSink.cut): `lineNo`, pushed next. */
  cutAt(lineNo: number): void {
    this.cutLine = lineNo;
  }
  private cutLine = -1;

  /** The calls still waiting for their resume, copied out of their lines (PENDING_COPY_LINES). */
  private copyPending(lineNo: number): void {
    this.copyPendingAt = lineNo + PENDING_COPY_LINES;
    for (const [tid, pending] of this.pending) {
      if (pending === undefined) this.pending.delete(tid);
      if (pending === undefined || pending.copied) continue;
      pending.copied = true;
      pending.name = flatCopy(pending.name);
      pending.head = flatCopy(pending.head);
      pending.raw = flatCopy(pending.raw);
      if (pending.time !== null) pending.time = flatCopy(pending.time);
      if (pending.comm !== undefined) pending.comm = flatCopy(pending.comm);
    }
  }

  /** A line's prefix as the trace means it: its pid noted (none: tid 0 on stderr), a -r delta made a clock. */
  private settlePrefix(record: LinePrefix, bracketed: boolean, out: ParseOutput[]): void {
    if (this.shape.lines <= 4 && record.relative !== null) this.relativeMode = true;
    // Counted before notePid turns "no prefix" into tid 0.
    if (record.tid !== null) {
      this.shape.withPid++;
      // "1234 …": strace -o FILE, which prints every line's pid; not a trace to stderr.
      if (!bracketed) this.pidColumn = true;
    }
    record.tid = this.notePid(record.tid, out);
    if (record.relative !== null && record.time === null) {
      // -r deltas are between consecutive printed lines: keep seconds since the first one.
      this.relativeClock += record.relative;
      record.seconds = this.relativeClock;
      record.time = `+${this.relativeClock.toFixed(6)}`;
    }
  }

  private readonly scan = newLineScan();
  private readonly line: CallLine = { tid: null, comm: undefined, time: null, seconds: null, relative: null, status: 'complete', name: '', text: '', bodyStart: 0, bodyEnd: 0 };

  /** A call line, from `scan` of its text: its prefix settled as `push` settles every prefix, then the call. */
  private callLine(text: string, followed: string | undefined, firstLine: number, out: ParseOutput[]): void {
    const scan = this.scan;
    const call = this.line;
    call.tid = scan.tid;
    call.time = scan.timeStart < 0 ? null : text.slice(scan.timeStart, scan.timeEnd);
    call.seconds = scan.seconds;
    call.relative = scan.relative;
    if (scan.commStart < 0) call.comm = undefined;
    else {
      const comm = text.slice(scan.commStart, scan.commEnd);
      call.comm = comm.indexOf('\\') < 0 ? comm : decodeCString(comm);
    }
    this.settlePrefix(call, text.charCodeAt(0) === 91 /* [ */, out);
    call.status = scan.status;
    call.name = followed ?? text.slice(scan.nameStart, scan.nameEnd);
    call.text = text;
    call.bodyStart = scan.bodyStart;
    call.bodyEnd = scan.bodyEnd;
    this.call(call, firstLine, text, out);
  }

  /**
   * Once the first lines are read (they tell whether this is a -r trace,
   * whose every line counts for its clock): what the line reader needs to
   * skip lines for this reader (IgnoredLineFilter); null while it may not.
   */
  skipPolicy(): SkipPolicy | null {
    if (this.shape.lines < SKIP_AFTER || this.relativeMode) return null;
    return { stderrPrefixes: this.defaultTid === 0 };
  }

  /** Lines the line reader skipped (IgnoredLineFilter), noted as `push` would have. */
  noteSkipped(skipped: SkippedLines): void {
    this.shape.lines += skipped.lines;
    this.shape.traceLines += skipped.traceLines;
    if (skipped.lines > 0) this.shape.sawUnfollowedCall = true;
    if (skipped.unfinished >= 0) this.lastUnfinishedIgnored = skipped.unfinished === 1;
    // Lines of a -ff member carry no prefix: its thread's.
    const tid = skipped.lowestTid > 0 ? skipped.lowestTid : skipped.lines > 0 ? this.defaultTid : 0;
    if (tid > 0 && tid < this.lowestSkipped) this.lowestSkipped = tid;
  }

  /** One record, by its kind (its pid and clock already noted). */
  private read(record: StraceRecord, firstLine: number, lineNo: number, line: string, out: ParseOutput[]): void {
    switch (record.type) {
      case 'skip':
        if (line.length > 0) this.shape.traceLines++; // a -k stack frame
        return;
      case 'message': {
        // Before any line of a call: strace -p attached to the process (or processes) named.
        const leading = this.shape.traceLines === 0 && this.shape.callLines === 0;
        // "strace: Process 14181 attached"; not any text that begins with "strace: ".
        if (record.attachedPid !== undefined || record.detachedPid !== undefined) this.shape.traceLines++;
        this.noteMessage(record.text, out);
        this.countMessage(record.text, leading);
        return;
      }
      case 'bad':
        out.push(this.diagnostic(firstLine, line, record.reason));
        return;
      case 'continuation':
        this.continuation(record, lineNo, line, out);
        return;
      case 'signal':
        this.shape.traceLines++;
        return;
      case 'exit':
        this.exit(record, firstLine, line, out);
        return;
      case 'call':
        // Not reached: push reads call lines itself (callLine).
        this.call({ ...record, text: record.body, bodyStart: 0, bodyEnd: record.body.length }, firstLine, line, out);
        return;
    }
  }

  /** A bare ") = 0" (strace -z): the end of the last call left unfinished. */
  private continuation(record: ContinuationRecord, lineNo: number, line: string, out: ParseOutput[]): void {
    if (hasResult(line, 0)) this.shape.traceLines++;
    if (this.lastUnfinishedIgnored) return;
    const tid = this.lastUnfinishedTid;
    const pending = tid === null ? undefined : this.pending.get(tid);
    if (tid === null || pending === undefined) {
      out.push(this.diagnostic(lineNo, line, 'continuation line with no call to continue'));
      return;
    }
    this.pending.set(tid, undefined);
    if (this.resumeIsRead(pending)) this.finish(pending, tid, record.body, 0, lineNo, line, out);
  }

  /** `+++ exited with 0 +++`, `+++ superseded by execve in pid N +++`. */
  private exit(record: ExitRecord, firstLine: number, line: string, out: ParseOutput[]): void {
    this.shape.traceLines++;
    const tid = record.tid ?? this.defaultTid;
    const base = this.base(record, firstLine, line);
    if (record.supersededBy !== undefined) {
      // A non-leader thread exec'd: its pending execve resumes under the leader's tid.
      const moved = this.pending.get(record.supersededBy);
      this.pending.delete(tid);
      if (moved !== undefined) {
        this.pending.delete(record.supersededBy);
        moved.order = this.started++;
        this.pending.set(tid, moved);
      }
      // With -ff the execve started in the other thread's file: its resume here has no start.
      this.supersededFrom.set(tid, record.supersededBy);
      return;
    }
    // strace prints exit statuses (no -qq): an exit_group waiting for its own is not needed.
    if (record.how.startsWith('exited with ')) {
      this.exitStatusesShown = true;
      this.heldExits.length = 0;
    } else this.releaseHeldExits(out);
    // A thread that dies inside a call leaves it pending forever.
    this.pending.delete(tid);
    this.noteGone(tid);
    out.push({ type: 'event', event: { ...base, kind: 'thread-exit', how: record.how } });
  }

  /** The hot path: most lines of a real trace are calls the engine does not follow (strace-skip.ts). */
  private isIgnoredCall(line: string): boolean {
    if (this.relativeMode) return false;
    const flags = ignoredCall(line, 0, line.length, this.markers);
    if (flags === 0) return false;
    if ((flags & TRACE_LINE) !== 0) this.shape.traceLines++;
    if ((flags & CALL) !== 0) this.lastUnfinishedIgnored = (flags & UNFINISHED) !== 0;
    return true;
  }
  private readonly markers = new ResumeMarkers();

  /**
   * strace writing to stderr prints "[pid N] " only while more than one
   * tracee exists (printleader: `nprocs > 1 && !outfname`), checked as each
   * line starts. So a line without one is the only tracee alive's: the first
   * process's until it clones, and again whenever one tracee is left (a
   * shell after its child exits, a child whose parent exited).
   *
   * strace's count is followed as strace keeps it: one for the process it
   * started; one more for each `strace: Process N attached` (printed as it
   * takes each new tracee, or each process -p attached to, unless -q); one
   * less for each `+++ exited +++`, `+++ killed by +++`, `+++ superseded +++`
   * and `Process N detached` (unless -qq). A prefixed tid no such line
   * announced is the first process, whose lines are tid 0 until its pid shows
   * (rootTid); under -q no tracee is announced, and the first process is told
   * from the clones traced (isFirstProcess), or guessed, with a warning.
   */
  private notePid(tid: number | null, out: ParseOutput[]): number {
    if (this.defaultTid !== 0) return tid ?? this.defaultTid; // a -ff file: the name says
    if (tid === null) return this.unprefixedTid(out);
    if (this.prefixedTids.size < PID_CANDIDATES) this.prefixedTids.add(tid);
    if (this.stderrPrefixes && !this.live.has(tid)) this.unannounced(tid, out);
    return tid;
  }

  /** A prefixed tid that is not counted alive: no `Process N attached` announced it. */
  private unannounced(tid: number, out: ParseOutput[]): void {
    this.unseenClones.delete(tid);
    if (this.rootTid === null && this.rootAlive) {
      // Every tracee but the first process is announced: this is it.
      if (this.announced) {
        this.nameRoot(tid, out);
        return;
      }
      // strace -q: its child, or itself now that a child lives?
      if (this.unprefixedSeen && this.isFirstProcess(tid)) {
        this.nameRoot(tid, out);
        this.rootGuess = tid;
        return;
      }
    } else if (this.unnamedThreads > 0) this.unnamedThreads--;
    this.addLive(tid);
  }

  /**
   * Whether `tid`, prefixed for the first time, is the first process: no
   * clone we saw made it, and no clone is in flight whose child it could be
   * (a child prints before its parent's clone returns). A clone in flight in
   * the first process itself leaves it open: it is the first process if it
   * resumes that call (call → nameRoot).
   */
  private isFirstProcess(tid: number): boolean {
    if (this.cloneChildren.has(tid)) return false;
    for (const pending of this.pending.values()) if (pending !== undefined && CLONE_CALLS.has(pending.name)) return false;
    return !(this.carry !== null && CLONE_HEAD.test(this.carry.text));
  }

  /**
   * The first process's pid is `tid`: what it did as tid 0 takes it now
   * (tid-known), before any event of its own, so that it is one thread
   * throughout; a call it left unfinished as tid 0 resumes under it.
   */
  private nameRoot(tid: number, out: ParseOutput[]): void {
    this.rootTid = tid;
    if (this.rootAlive) this.addLive(tid);
    const pending = this.pending.get(0);
    if (pending !== undefined && this.pending.get(tid) === undefined) {
      this.pending.set(0, undefined);
      this.pending.set(tid, pending);
    }
    if (this.lastUnfinishedTid === 0) this.lastUnfinishedTid = tid;
    if (this.unprefixedSeen) out.push({ type: 'tid-known', from: 0, tid });
  }

  /**
   * The tid of a line without a prefix: the one tracee alive. The first
   * process before its pid showed: 0. When the count says no tracee or
   * several (the trace hides some attach or exit lines: -q, -qq), the one
   * the trace still tells, or the first process's, with a warning.
   */
  private unprefixedTid(out: ParseOutput[]): number {
    if (!this.pidColumn && !this.overflow) {
      const unnamed = this.rootTid === null && this.rootAlive ? 1 : 0;
      const count = this.live.size + unnamed + this.unnamedThreads;
      if (count === 1) {
        if (unnamed === 1) {
          this.unprefixedSeen = true;
          return 0;
        }
        if (this.unnamedThreads === 0) return this.soleLive();
      } else if (count === 0 && this.unseenClones.size === 1) {
        // strace -q: a child that never printed a prefix, alone now; its clone was traced.
        for (const child of this.unseenClones) this.addLive(child);
        this.unseenClones.clear();
        return this.soleLive();
      } else if (count === 2 && unnamed === 1 && this.unnamedThreads === 0 && this.exitsSeen > 0 && this.unprefixedSeen) {
        // strace -q: the one counted besides the first process is the first process, if no clone made it.
        const named = this.soleLive();
        if (!this.cloneChildren.has(named)) {
          this.nameRoot(named, out);
          this.rootGuess = named;
          return named;
        }
      }
      if (this.stderrPrefixes) this.unknownAlone(out);
    }
    if (this.rootTid !== null) return this.rootTid;
    this.unprefixedSeen = true;
    return 0;
  }

  /** The one tid in `live`. */
  private soleLive(): number {
    if (this.liveChanged) {
      this.liveChanged = false;
      for (const tid of this.live) this.sole = tid;
    }
    return this.sole;
  }

  /** A tracee strace counts from now on. */
  private addLive(tid: number): void {
    if (this.live.size >= LIVE_LIMIT) {
      this.overflow = true;
      return;
    }
    this.live.add(tid);
    this.liveChanged = true;
  }

  /** A tracee left: it no longer counts for the prefix (notePid). */
  private noteGone(tid: number): void {
    if (this.pidColumn || this.defaultTid !== 0) return;
    this.exitsSeen++;
    if (tid === 0 && this.rootTid === null) this.rootAlive = false;
    else if (this.live.delete(tid)) this.liveChanged = true;
    if (tid === this.rootTid) this.rootAlive = false;
    this.unseenClones.delete(tid);
  }

  /**
   * What a `strace: Process N attached` or `detached` message changes in the
   * count. `leading`: before any call, the process strace -p attached to,
   * the first process (or one more, with several -p).
   */
  private countMessage(text: string, leading: boolean): void {
    if (this.defaultTid !== 0) return;
    const attached = ATTACHED.exec(text);
    if (attached !== null) {
      const tid = Number(attached[1]);
      this.announced = true;
      if (leading && this.rootTid === null && !this.unprefixedSeen) {
        this.rootTid = tid;
        this.rootAlive = true;
      } else {
        this.announcedChildren++;
        if (this.prefixedTids.size < PID_CANDIDATES || this.prefixedTids.has(tid)) this.cloneChildren.add(tid);
      }
      this.unseenClones.delete(tid);
      this.addLive(tid);
      // "attached with 3 threads" (-f -p): the others are named by their prefixes.
      if (attached[2] !== undefined) this.unnamedThreads += Math.max(0, Number(attached[2]) - 1);
      return;
    }
    const detached = DETACHED.exec(text);
    if (detached !== null) this.noteGone(Number(detached[1]));
  }

  /** Messages that cut a line: counted once that line is read (push). */
  private applyDeferred(): void {
    for (const text of this.deferred) this.countMessage(text, false);
    this.deferred.length = 0;
  }

  /** The first unprefixed line whose tracee the count cannot tell. */
  private unknownAlone(out: ParseOutput[]): void {
    if (this.warnedAlone) return;
    this.warnedAlone = true;
    const who = this.rootTid === null ? 'the first process (pid 0 until its pid shows)' : `the first process, ${this.rootTid}`;
    out.push({
      type: 'warning',
      text: `${this.file}:${this.lineNo}: this line has no [pid N] prefix, which strace -f writing to stderr leaves off when one process is traced, but the trace does not show which one that was (it hides some "strace: Process N attached" or "+++ exited" lines: -q, -qq): such lines are given to ${who}, and may be another process's. Capture with -o FILE to have every line's pid`,
    });
  }

  /** The first process was told from the prefixed tids alone (strace -q), and no clone was traced to check it. */
  private guessedRoot(tid: number, out: ParseOutput[]): void {
    out.push({
      type: 'warning',
      text: `${this.file}: process ${tid} is taken for the first process, whose lines have no [pid N] prefix, as the first to print a prefix; the trace cannot tell (no "strace: Process N attached" lines, -q, and no clone calls traced), and if it was a child, findings of the two are under each other's pid. Capture with -o FILE, or without -q and with clone traced`,
    });
  }

  /** At the end of a stderr trace: which tid the unprefixed lines (tid 0) belonged to, when not named already (nameRoot). */
  private unprefixedProcess(): number | null {
    // Announced, the first process is named at its first prefix: if none showed, the trace does not say.
    if (!this.unprefixedSeen || this.rootTid !== null || this.announced) return null;
    return this.firstUncloned();
  }

  /** The first process's pid as far as the trace tells: the first prefixed tid no clone created. */
  private firstUncloned(): number | null {
    for (const tid of this.prefixedTids) if (!this.cloneChildren.has(tid)) return tid;
    return null;
  }

  /** The first process printed lines without a prefix (tid 0) before its pid was known. */
  private unprefixedSeen = false;
  /** The trace has `[pid N] ` prefixes: strace wrote it to stderr, and the tracees alive are counted (notePid). */
  private stderrPrefixes = false;
  /** The trace has `PID ` prefixes (strace -o FILE): every line names its tid, nothing is counted. */
  private pidColumn = false;
  /** The tracees counted alive (notePid) whose tids are known; bounded (a trace whose exits are hidden would grow it forever). */
  private readonly live = new Set<number>();
  /** More than LIVE_LIMIT counted: the count is not trusted. */
  private overflow = false;
  private liveChanged = false;
  private sole = 0;
  private exitsSeen = 0;
  /** The first process is alive: counted apart from `live` while its pid is unknown. */
  private rootAlive = true;
  /** -f -p "attached with N threads": threads counted whose tids have not shown yet. */
  private unnamedThreads = 0;
  /** The trace has `strace: Process N attached` lines: strace announces each tracee (no -q). */
  private announced = false;
  /** Under -q: children of clones traced that have printed nothing with a prefix; bounded. */
  private readonly unseenClones = new Set<number>();
  /** `strace: Process N attached` messages that cut a line, counted once it is read. */
  private readonly deferred: string[] = [];
  private warnedAlone = false;
  /** The first process as told under -q (unannounced), checked at the end against the clones traced. */
  private rootGuess: number | null = null;
  /** `strace: Process N attached` lines after the trace began: new tracees. */
  private announcedChildren = 0;
  /** The line being read, for warnings. */
  private lineNo = 0;
  /** The first process's pid, once it showed (nameRoot), or the process strace -p attached to. */
  private rootTid: number | null = null;
  /** The first PID_CANDIDATES prefixed tids, in order: the unprefixed process is among the first. */
  private readonly prefixedTids = new Set<number>();
  /** Tids that are not the first process (clone children, announced tracees), while they may be candidates: bounded like them. */
  private readonly cloneChildren = new Set<number>();

  private relativeMode = false;
  private lastUnfinishedIgnored = false;
  /**
   * The lowest thread id among the lines of calls nobody follows, skipped
   * here or by the line filter (Infinity: none): in an attach trace, the
   * leader of a JVM or a Go program may make no other call, and only these
   * lines show it (review 22).
   */
  private lowestSkipped = Number.POSITIVE_INFINITY;

  /** See lowestSkipped. */
  get lowestSkippedTid(): number {
    return this.lowestSkipped;
  }

  /** Lines still open when the trace ends are reported, not dropped. */
  end(out: ParseOutput[]): void {
    if (this.carry !== null) {
      out.push(this.diagnostic(this.carry.line, this.carry.text, 'trace ends inside a line cut by a strace message'));
      this.carry = null;
    }
    const cutOff = [...this.pending].filter((entry): entry is [number, PendingCall] => entry[1] !== undefined).sort(([, a], [, b]) => a.order - b.order);
    for (const [tid, pending] of cutOff) {
      if (!FOLLOWED_SYSCALLS.has(pending.name) || pending.applied) continue;
      // "exit_group(0 <unfinished ...>" and nothing after: the process ended (under -qq, silently).
      if (pending.name === 'exit_group') {
        this.emit(pending.name, `${pending.head}) = ?`, 0, this.baseFor(pending, tid, [pending.line]), out);
        continue;
      }
      out.push(this.diagnostic(pending.line, pending.raw, `${pending.name} call cut off by the end of the trace`));
    }
    this.pending.clear();
    this.releaseHeldExits(out);
    if (this.announcedChildren > 0 && this.shape.clones === 0 && !this.pidColumn) {
      out.push({
        type: 'warning',
        text: `${this.file}: no clone, fork or vfork call is in the trace, but strace announced ${this.announcedChildren} new tracee${this.announcedChildren === 1 ? '' : 's'} ("strace: Process N attached"): each is taken for a thread of the first process, though it may have been a child process; a child's mappings are then counted in the first process and end when it exits. Keep clone,clone3,fork,vfork in -e trace=`,
      });
    }
    const process = this.unprefixedProcess();
    if (process !== null) {
      out.push({ type: 'tid-known', from: 0, tid: process });
      this.rootGuess = process;
    }
    if (this.rootGuess !== null && this.shape.clones === 0) this.guessedRoot(this.rootGuess, out);
    else if (process === null && this.unprefixedSeen && this.rootTid === null && this.stderrPrefixes) {
      out.push({
        type: 'warning',
        text: `${this.file}: the first process's pid is not in the trace: strace -f writing to stderr prints a line's [pid N] prefix only while another process is traced, and it printed none then; what it did is reported under pid 0. Capture with -o FILE to have every line's pid`,
      });
    }
  }

  /** A "+++ exited with N +++" line was read: strace prints exit statuses (no -qq). */
  private exitStatusesShown = false;
  /** exit_group calls that may be the exits of their processes (quietExit), in order. */
  private readonly heldExits: TraceEvent[] = [];

  /**
   * An `exit_group(N) = ?`. strace prints the process's "+++ exited with N
   * +++" after it, and that line is the exit the engine follows; under -qq
   * it prints none, and the call is all the trace shows of the exit: without
   * it every mapping the process held was reported still mapped at the end.
   * So the call is held, and dropped when an exit line comes (the trace
   * prints them: from then on calls are not held), or applied, at its own
   * time and place, before the next followed call or other exit is read (a
   * parent that reaps its child and then unlinks the file the child mapped
   * removed a name nothing mapped any more: the kernel tore the child's
   * address space down first), or when the input ends (releaseHeldExits).
   * Only calls nobody follows come in between in a trace that prints exit
   * lines, as a rule (other threads' calls cut short by the exit): its
   * exits stay those lines.
   */
  private quietExit(event: TraceEvent): void {
    if (!this.exitStatusesShown) this.heldExits.push(event);
  }

  /** Held exit_group calls (quietExit) are exits: no exit line came before the input's end, or before the next call. */
  releaseHeldExits(out: ParseOutput[]): void {
    if (this.heldExits.length === 0) return;
    for (const event of this.heldExits) out.push({ type: 'event', event });
    this.heldExits.length = 0;
  }

  private readonly supersededFrom = new Map<number, number>();

  private call(record: CallLine, lineNo: number, line: string, out: ParseOutput[]): void {
    if (this.shape.callLines === 0) {
      this.shape.firstCallSeconds = record.seconds;
      if (this.shape.traceLines === 0 && (record.name === 'execve' || record.name === 'execveat')) this.shape.startsAtExecve = true;
    }
    this.shape.callLines++;
    if (record.status !== 'complete' || hasResult(record.text, record.bodyStart, record.bodyEnd)) this.shape.traceLines++;
    const tid = record.tid ?? this.defaultTid;
    this.notePrefix(record);
    if (this.heldExits.length > 0 && FOLLOWED_SYSCALLS.has(record.name)) this.releaseHeldExits(out);
    if (record.status === 'resumed') {
      let pending = this.pending.get(tid);
      // "[pid 19835] <... vfork resumed>) = 19885": the vfork began as tid 0, the first process's, its pid unknown until now.
      if (pending === undefined && this.rootTid === null && this.stderrPrefixes && tid !== 0 && this.pending.get(0)?.name === record.name) {
        this.nameRoot(tid, out);
        pending = this.pending.get(tid);
      }
      if (pending === undefined || pending.name !== record.name) {
        if (pending !== undefined) this.pending.set(tid, undefined);
        // Calls that are not followed are not tracked, so their resumes have no start here.
        if (!FOLLOWED_SYSCALLS.has(record.name)) return;
        const former = this.supersededFrom.get(tid);
        if (former !== undefined && (record.name === 'execve' || record.name === 'execveat')) {
          this.supersededFrom.delete(tid);
          const base = this.base(record, lineNo, line);
          out.push({ type: 'event', event: { ...base, kind: 'exec', path: '?', formerTid: former } });
          return;
        }
        out.push(this.diagnostic(lineNo, line, `"<... ${record.name} resumed>" with no start on thread ${tid}`));
        return;
      }
      this.pending.set(tid, undefined);
      if (pending.applied && pending.name === 'munmap') {
        this.munmapResumed(pending, tid, record, lineNo, line, out);
        return;
      }
      // Most resumes of close (applied at entry) end here: nothing to join.
      if (!this.resumeIsRead(pending)) return;
      let rest = record.bodyStart;
      // "<... read resumed> <unfinished ...>) = ?": the thread died inside the call.
      if (record.text.startsWith(' <unfinished ...>', rest)) rest += ' <unfinished ...>'.length;
      // A resume's body runs to the end of its line (scanCall): the tail is record.text[rest…].
      this.finish(pending, tid, record.text, rest, lineNo, line, out, record);
      return;
    }
    if (record.status === 'unfinished') {
      const previous = this.pending.get(tid);
      if (previous !== undefined && FOLLOWED_SYSCALLS.has(previous.name) && !previous.applied) {
        out.push(this.diagnostic(previous.line, previous.raw, `${previous.name} left unfinished: thread ${tid} started another call`));
      }
      const head = record.text.slice(record.bodyStart, record.bodyEnd);
      const pending: PendingCall = {
        name: record.name,
        head,
        line: lineNo,
        raw: line,
        time: record.time,
        seconds: record.seconds,
        applied: false,
        copied: false,
        // A call that replaces one left unfinished takes its place, as Map.set does.
        order: previous === undefined ? this.started++ : previous.order,
      };
      if (record.comm !== undefined) pending.comm = record.comm;
      if (this.rebuilt) pending.rebuilt = true;
      this.pending.set(tid, pending);
      this.lastUnfinishedTid = tid;
      this.lastUnfinishedIgnored = false;
      const cloneFlags = cloneFlagsAtEntry(record.name, head);
      if (cloneFlags !== null) {
        out.push({ type: 'event', event: { ...this.baseFor(pending, tid, [lineNo]), kind: 'clone-start', flags: cloneFlags } });
      }
      if (record.name === 'execve' || record.name === 'execveat') this.execStarted(pending, tid, lineNo, out);
      if (EFFECTIVE_AT_ENTRY.has(record.name)) {
        // close/munmap release at entry: apply now so another thread's
        // open/mmap printed before our resume sees the fd/range free.
        pending.applied = true;
        const applied = this.emitJoined(record.name, head, ') = 0', 0, this.headerFor(pending, tid, [lineNo]), out);
        if (applied?.kind === 'munmap') applied.atEntry = true;
      }
      return;
    }
    if (record.status === 'detached' || record.status === 'pid-changed') return;
    if (!FOLLOWED_SYSCALLS.has(record.name)) return;
    if (record.name === 'set_tid_address') {
      if (tid === 0) this.rootPidFrom(record, out);
      return;
    }
    this.emit(record.name, record.text, record.bodyStart, this.header(record, lineNo, line), out);
  }

  /**
   * `set_tid_address(0x7f58c98b5310) = 20984`, printed without a prefix by
   * the first process before its pid showed: the call returns the caller's
   * thread id, and glibc makes it once at the start of every program, in its
   * only thread, whose id is the pid. Without it a trace to stderr of a
   * process that never printed a prefix (it never ran beside another tracee)
   * reported everything under "process 0".
   */
  private rootPidFrom(record: CallLine, out: ParseOutput[]): void {
    if (this.rootTid !== null || this.defaultTid !== 0 || this.pidColumn) return;
    const result = SET_TID_RESULT.exec(record.text.slice(record.bodyStart, record.bodyEnd));
    const pid = result === null ? Number.NaN : Number(result[1]);
    // A clone's child printing alone is not the first process.
    if (!isTid(pid) || this.cloneChildren.has(pid)) return;
    this.nameRoot(pid, out);
  }

  /** An execve left unfinished: its path, read now (ExecStartEvent). Nothing when it cannot be read: the resume says why. */
  private execStarted(pending: PendingCall, tid: number, lineNo: number, out: ParseOutput[]): void {
    const decoded = decodeJoined(pending.name, pending.head, ') = 0', 0, this.headerFor(pending, tid, [lineNo]));
    if (decoded === null || typeof decoded === 'string' || decoded.kind !== 'exec') return;
    out.push({ type: 'event', event: { ...decoded, kind: 'exec-start' } });
  }

  /**
   * The resume of a munmap applied at its entry (`<... munmap resumed>) = -1
   * ENOMEM (…)`): a failure is an event, since the entry took a range the
   * kernel kept mapped (MunmapFailedEvent); a success, nothing more.
   */
  private munmapResumed(pending: PendingCall, tid: number, record: CallLine, lineNo: number, line: string, out: ParseOutput[]): void {
    const failure = MUNMAP_FAILURE.exec(record.text.slice(record.bodyStart, record.bodyEnd));
    if (failure === null) return;
    const decoded = decodeJoined('munmap', pending.head, ') = 0', 0, this.headerFor(pending, tid, [pending.line, lineNo]));
    if (decoded === null || typeof decoded === 'string' || decoded.kind !== 'munmap') return;
    const event: MunmapFailedEvent = { ...decoded, kind: 'munmap-failed', error: failure[1]! };
    event.raw = `${pending.raw}\n${line}`;
    out.push({ type: 'event', event });
  }

  /** Whether the end of a pending call makes an event: it is followed, and was not applied at entry already. */
  private resumeIsRead(pending: PendingCall): boolean {
    return !pending.applied && FOLLOWED_SYSCALLS.has(pending.name);
  }

  /** A pending call (resumeIsRead) and the end of its argument list, tail[tailFrom…]: its event. */
  private finish(pending: PendingCall, tid: number, tail: string, tailFrom: number, lineNo: number, line: string, out: ParseOutput[], resumed?: LinePrefix): void {
    if (resumed !== undefined && resumed.comm !== undefined && pending.comm === undefined) pending.comm = resumed.comm;
    const base = this.headerFor(pending, tid, [pending.line, lineNo]);
    base.raw = `${pending.raw}\n${line}`;
    if (this.rebuilt) base.rebuilt = true;
    // 11051 1795606335.411625 mmap(NULL, 10485760, …, 5</d/0.index>, 0 <unfinished ...>
    // 11051 1795606335.411778 <... mmap resumed>) = 0x7feb45600000 <0.000096>
    //       ^^^^^^^^^^^^^^^^^ this line's own time; the event's is the first line's
    // A bare ") = 0" continuation prints no time.
    base.lineTimes = [pending.time, resumed?.time ?? null];
    const event = this.emitJoined(pending.name, pending.head, tail, tailFrom, base, out);
    const former = this.supersededFrom.get(tid);
    if (former !== undefined) {
      this.supersededFrom.delete(tid);
      if (event?.kind === 'exec') event.formerTid = former;
    }
  }

  /** Decodes the call whose body is text[from…]. */
  private emit(name: string, text: string, from: number, base: EventBase, out: ParseOutput[]): TraceEvent | null {
    const event = this.emitted(decodeCall(name, text, from, base), base, out);
    if (event === null) return null;
    if (annotatesAnFd(text, from)) this.shape.withFdHints++;
    if (namesAnFd(event)) this.shape.withFdCalls++;
    return event;
  }

  /** emit of the call whose body is head + tail[tailFrom…], without that text when the tail closes the argument list (decodeJoined). */
  private emitJoined(name: string, head: string, tail: string, tailFrom: number, base: EventBase, out: ParseOutput[]): TraceEvent | null {
    if (tail.charCodeAt(tailFrom) !== 41 /* ) */) return this.emit(name, head + tail.slice(tailFrom), 0, base, out);
    const event = this.emitted(decodeJoined(name, head, tail, tailFrom, base), base, out);
    if (event === null) return null;
    // The tail starts with ")": no "</" spans the two.
    if (annotatesAnFd(head, 0) || annotatesAnFd(tail, tailFrom)) this.shape.withFdHints++;
    if (namesAnFd(event)) this.shape.withFdCalls++;
    return event;
  }

  /** A decoded call's event, pushed; or its diagnostic. */
  private emitted(decoded: DecodeResult, base: EventBase, out: ParseOutput[]): TraceEvent | null {
    if (decoded === null) return null;
    if (typeof decoded === 'string') {
      out.push(this.diagnostic(base.place.line, base.raw, decoded));
      return null;
    }
    if (decoded.kind === 'clone' && decoded.childTid > 0) {
      const child = decoded.childTid;
      if (this.prefixedTids.size < PID_CANDIDATES || this.prefixedTids.has(child)) this.cloneChildren.add(child);
      // Under -q (no tracee announced), a child that may never print a prefix (unprefixedTid).
      if (!this.announced && !this.pidColumn && this.defaultTid === 0 && !this.live.has(child) && this.unseenClones.size < LIVE_LIMIT) this.unseenClones.add(child);
      this.shape.clones++;
    }
    if (decoded.kind === 'thread-exit') {
      this.quietExit(decoded);
      return decoded;
    }
    if (decoded.kind === 'name-missing' && this.removalInFlight(decoded)) return null;
    out.push({ type: 'event', event: decoded });
    return decoded;
  }

  /**
   * Whether another thread is inside an unlink or rename of the very name a
   * failed call found gone (its head, left `<unfinished ...>`, quotes it).
   * That call removed the name first, and its line comes later: the name was
   * not removed out of sight, and taking it so would give a file the name
   * gets next (an O_CREAT open in between) the removal the trace then prints
   * (review 7, item 6). The hint is dropped; the removal is applied when its
   * line comes.
   */
  private removalInFlight(missing: NameMissingEvent): boolean {
    const quoted = `"${missing.path}"`;
    for (const [tid, pending] of this.pending) {
      if (pending === undefined || tid === missing.tid || !NAME_REMOVERS.has(pending.name)) continue;
      // The name it removes is its first string: a rename's second is where the file goes.
      const first = pending.head.indexOf('"');
      if (first >= 0 && pending.head.startsWith(quoted, first)) return true;
    }
    return false;
  }

  private base(record: LinePrefix, lineNo: number, line: string): EventBase {
    const base: EventBase = { place: { file: this.file, line: lineNo }, time: record.time, seconds: record.seconds, tid: record.tid ?? this.defaultTid, raw: line };
    if (record.comm !== undefined) base.comm = record.comm;
    if (this.rebuilt) base.rebuilt = true;
    return base;
  }

  /**
   * The header of the event being decoded, refilled for each: the decoders
   * copy its fields into their event (withExtras) and none keeps it, so no
   * object is made for it per event. Every field is always present (unset
   * ones undefined, which withExtras skips): one hidden class for all.
   */
  private readonly scratch: EventBase = {
    place: { file: '', line: 0 },
    time: null,
    seconds: null,
    tid: 0,
    raw: '',
    tgid: undefined,
    comm: undefined,
    lines: undefined,
    lineTimes: undefined,
    rebuilt: undefined,
  };

  /** base(record, lineNo, line), in `scratch`: for decodeCall, whose events copy it. */
  private header(record: LinePrefix, lineNo: number, line: string): EventBase {
    const header = this.scratch;
    header.place = { file: this.file, line: lineNo };
    header.time = record.time;
    header.seconds = record.seconds;
    header.tid = record.tid ?? this.defaultTid;
    header.raw = line;
    header.comm = record.comm;
    header.lines = undefined;
    header.lineTimes = undefined;
    header.rebuilt = this.rebuilt ? true : undefined;
    return header;
  }

  /** baseFor(pending, tid, lines), in `scratch`: for decodeCall, whose events copy it. */
  private headerFor(pending: PendingCall, tid: number, lines: number[]): EventBase {
    const header = this.scratch;
    header.place = { file: this.file, line: pending.line };
    header.time = pending.time;
    header.seconds = pending.seconds;
    header.tid = tid;
    header.raw = pending.raw;
    header.comm = pending.comm;
    header.lines = lines;
    header.lineTimes = undefined;
    header.rebuilt = pending.rebuilt;
    return header;
  }

  private baseFor(pending: PendingCall, tid: number, lines: number[]): EventBase {
    const base: EventBase = { place: { file: this.file, line: pending.line }, time: pending.time, seconds: pending.seconds, tid, raw: pending.raw, lines };
    if (pending.comm !== undefined) base.comm = pending.comm;
    if (pending.rebuilt === true) base.rebuilt = true;
    return base;
  }

  private notePrefix(record: LinePrefix): void {
    if (record.time !== null) this.shape.withTime++;
    if (record.relative !== null) this.shape.withRelative++;
  }

  /** `strace: Process N attached`: the trace is from strace's stderr, and N is a tracee (countMessage counts it). */
  private noteMessage(text: string, out: ParseOutput[]): void {
    if (!text.startsWith('strace: Process ')) return;
    const attached = ATTACHED.exec(text);
    if (attached !== null) {
      this.shape.attachedSeen = true;
      out.push({ type: 'attached', tid: Number(attached[1]) });
    }
  }

  private diagnostic(line: number, text: string, reason: string): ParseOutput {
    return { type: 'diagnostic', diagnostic: { place: { file: this.file, line }, text, reason } };
  }
}

/** Whether strace -y prints a path in the call's line: it names an fd (an open's is its return value), or a directory fd. */
/**
 * Whether text[from…] shows an fd with strace -y's annotation: a path
 * (`3</d/f>`), or a socket's, a pipe's or an anonymous inode's (`25<TCP:[…]>`,
 * `<pipe:[…]>`, `<anon_inode:[eventfd]>`, `<anon_inode:bpf-map>`): an
 * attached daemon that only served sockets while traced was told it had no
 * -y (review 61, F-3). Not a -T time (` <0.000025>`) or `<unfinished ...>`,
 * which follow a space, nor -Y's name of a process (`= 7681<python3>`: code
 * review 63, F2), which has no `:[`.
 */
export function annotatesAnFd(text: string, from: number): boolean {
  if (text.indexOf('</', from) >= 0) return true;
  for (let at = text.indexOf('<', from); at > from; at = text.indexOf('<', at + 1)) {
    if (!isDigitCode(text.charCodeAt(at - 1)) || !FD_KIND.test(text.slice(at + 1, at + 40))) continue;
    let start = at - 1;
    while (start > from && isDigitCode(text.charCodeAt(start - 1))) start--;
    // The fd is an argument or the return value: after "(", ", " or "= ".
    const before = text.charCodeAt(start - 1);
    if (before === 40 /* ( */ || before === 32 /* space */) return true;
  }
  return false;
}

/** What -y prints for an fd that is no path: `socket:[…]`, `TCP:[…]`, `UNIX-STREAM:[…]`, `pipe:[…]`, `anon_inode:…`. */
const FD_KIND = /^(?:[A-Za-z][A-Za-z0-9-]*:\[|anon_inode:)/;

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

function namesAnFd(event: TraceEvent): boolean {
  switch (event.kind) {
    case 'open':
    case 'close':
    case 'dup':
    case 'set-cloexec':
      return true;
    case 'mmap':
      return event.fd >= 0;
    case 'truncate':
      return event.fd !== undefined;
    default:
      return 'dir' in event && typeof event.dir === 'object' && event.dir.fd !== 'cwd';
  }
}

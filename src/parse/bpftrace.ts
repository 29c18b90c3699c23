// Reader for the output of scripts/orphanmap.bt (line formats 1 and 2, the second with a key before each line:
// docs/bpftrace-format.md; the script's header says the same in brief). Pure: no I/O.
//
//   bpftrace-line.ts     parseBpftraceLine: one logical line -> one record (bpftrace-fields.ts reads
//                        its key=value fields, bpftrace-markers.ts the lines that are not records)
//   bpftrace-joiner.ts   ContinuationJoiner: physical lines -> logical lines (a newline inside a path splits a record)
//   bpftrace-reorder.ts  ReorderBuffer: merges bpftrace 0.17's per-CPU output buffers back into ns order
//   bpftrace-halves.ts   joinHalf: a rename/link's two records -> one event
//   bpftrace-dirs.ts     RealDirectories: `dir` records -> the real path of each opened file
//   bpftrace.ts          BpftraceReader: all of them, plus rename/link half pairing: lines in, ParseOutputs out
import { RealDirectories } from './bpftrace-dirs.js';
import { byteLength } from './byte-names.js';
import { ContinuationJoiner } from './bpftrace-joiner.js';
import { joinHalf, missingHalf } from './bpftrace-halves.js';
import { BPFTRACE_FORMAT_VERSION, parseBpftraceLine, type BpftraceRecord, type DirRecord, type Half, type LogicalLine, type RealDirRef } from './bpftrace-line.js';
import { ReorderBuffer, type ReorderOptions } from './bpftrace-reorder.js';
import { assertNever, type BlindSpotEvent, type TraceEvent } from './events.js';
import { flatCopy } from './flat-copy.js';
import type { ParseOutput } from './strace.js';

export { RealDirectories } from './bpftrace-dirs.js';
export { describeWaitStatus } from './bpftrace-fields.js';
export { ContinuationJoiner } from './bpftrace-joiner.js';
export { joinHalf } from './bpftrace-halves.js';
export {
  BPFTRACE_FORMAT_VERSION,
  looksLikeBpftrace,
  parseBpftraceLine,
  type BpftraceRecord,
  type DirRecord,
  type Half,
  type LogicalLine,
  type Marker,
  type MarkerKind,
  type RealDirRef,
} from './bpftrace-line.js';
export { ReorderBuffer, type ReorderOptions } from './bpftrace-reorder.js';

/** What waits in the reorder buffer: events, and the `dir` records that the opens after them resolve through. */
type Held = ParseOutput | { type: 'dir'; dir: DirRecord };

export interface BpftraceShape {
  lines: number;
  records: number;
  version: number | null;
  root: number | null;
  lostEvents: number;
  /** Paths as long as BPFTRACE_STRLEN-1 allows: probably cut. */
  longPaths: number;
  /** Records that arrived too late to be put in order. */
  late: number;
  /** The `stop` record's ns: the capture began to stop then. */
  stopNs: bigint | null;
  /** `stop` lines left out: before the capture began to stop (BpftraceReader.trustStopsFrom), or from a process not the header's stopper=. */
  forgedStops: number;
  /** Header lines after the first, left out: BEGIN prints the one real header before any probe is attached. */
  forgedHeaders: number;
  /** Lines of a keyed capture (format 2) without the key and not the rest of a path: not printed by the script. */
  unkeyed: number;
  /** Records of a keyed capture whose path never ended with the key (the trace was cut as bpftrace wrote one). */
  unclosed: number;
  /** Records keyed after the stop, left out: what bpftrace printed while it took its probes off. */
  afterStop: number;
  endSeen: boolean;
}

export interface BpftraceReaderOptions extends ReorderOptions {
  /** The BPFTRACE_STRLEN of the capture (default 200): paths of strlen-1 bytes were probably cut. */
  strlen?: number;
  /**
   * The events' `time` and `seconds`. `ns` (default): bpftrace's own stamp,
   * nanoseconds of CLOCK_BOOTTIME as printed, and those ns in seconds: the
   * record as it is. `trace-start`: seconds since the trace started, the ns of
   * the `orphanmap-bt 1 begin ns=…` line (the first record's without one), as
   * text with 6 decimals (`+29.665759`): what a report shows. The script
   * prints no wall-clock anchor, so no time of day can be given.
   */
  clock?: 'ns' | 'trace-start';
}

/**
 * Physical lines of an orphanmap.bt capture in, TraceEvents in kernel order out.
 * Same shape as the strace reader: push(text, lineNo, out) then end(out).
 */
export class BpftraceReader {
  readonly shape: BpftraceShape = {
    lines: 0,
    records: 0,
    version: null,
    root: null,
    lostEvents: 0,
    longPaths: 0,
    late: 0,
    stopNs: null,
    forgedStops: 0,
    forgedHeaders: 0,
    unkeyed: 0,
    unclosed: 0,
    afterStop: 0,
    endSeen: false,
  };
  private readonly joiner = new ContinuationJoiner();
  private readonly buffer: ReorderBuffer<Held>;
  private readonly halves = new Map<number, Half>();
  private readonly dirs = new RealDirectories();
  /** Opens held in the reorder buffer, and the directory that really holds their file. */
  private readonly realDirs = new WeakMap<TraceEvent, RealDirRef>();
  /** Each thread's last `gen` record, until the record of its open (printed just after it, by the same CPU) takes it. */
  private readonly generations = new Map<number, { ino: number; gen: number }>();
  private readonly strlen: number;
  private readonly sinceStart: boolean;
  private readonly liveWindowNs: bigint;
  /** Time 0 of a `trace-start` clock: the begin line's ns, else the first record's. */
  private origin: bigint | null = null;

  constructor(
    readonly file: string,
    options: BpftraceReaderOptions = {},
  ) {
    this.buffer = new ReorderBuffer(options);
    this.liveWindowNs = options.liveWindowNs ?? 150_000_000n;
    this.strlen = options.strlen ?? 200;
    this.sinceStart = options.clock === 'trace-start';
  }

  /** The first line a `stop` record is taken from (trustStopsFrom): any, unless the capture said where it stopped. */
  private stopsFromLine = 0;
  /** The process whose `stop` records are the capture's, as the header names it (stopper=); undefined: any (older captures). */
  private stopper: number | undefined;

  /**
   * `stop` records only from line `lineNo` on: the first line the capture
   * wrote after it began to stop (BundleMeta.stopAfterByte); Infinity, none
   * (it never stopped bpftrace, or has not yet). The record's own check (from
   * the capture's pid only) cannot tell a line a traced process printed in a
   * file name: orphanmap.bt prints names raw, newlines and all.
   */
  trustStopsFrom(lineNo: number): void {
    this.stopsFromLine = lineNo;
  }

  push(text: string, lineNo: number, out: ParseOutput[]): void {
    this.shape.lines++;
    for (const logical of this.joiner.push(text, lineNo)) this.handle(logical, out);
  }

  /**
   * Live input caught up with bpftrace: the last record is complete if nothing
   * can continue it, and records older than `nowNs - liveWindowNs` are released
   * in order without waiting for a newer one (a quiet process would otherwise
   * hold its last records until its next call). `nowNs` is process.hrtime
   * (CLOCK_MONOTONIC); 0.17's `nsecs` is CLOCK_BOOTTIME, the same clock on a
   * machine that never suspended. After a suspend the keys run ahead of
   * `nowNs` and records wait for a newer one, as without this.
   */
  idle(out: ParseOutput[], nowNs: bigint): void {
    for (const logical of this.joiner.idle()) this.handle(logical, out);
    this.release(this.buffer.releaseBefore(nowNs - this.liveWindowNs), out);
  }

  end(out: ParseOutput[]): void {
    for (const logical of this.joiner.end()) this.handle(logical, out);
    for (const half of this.halves.values()) {
      this.emitNow({ type: 'diagnostic', diagnostic: { place: half.place, text: half.raw, reason: `${half.kind} without its second record` } }, out);
    }
    this.halves.clear();
    this.release(this.buffer.flush(), out);
    this.shape.late = this.buffer.late;
    this.shape.afterStop = this.buffer.cut;
  }

  /**
   * The capture's key (format 2) once its header is read; null for format 1.
   * Every line the script prints starts with it and a blank, and a record
   * with a path ends with a blank and it: no event's text holds either.
   */
  get key(): string | null {
    return this.joiner.key;
  }

  /** Lines that are orphanmap.bt output: its records, header and end line. */
  get traceLines(): number {
    return this.shape.records + (this.shape.version === null ? 0 : 1) + (this.shape.stopNs === null ? 0 : 1) + (this.shape.endSeen ? 1 : 0);
  }

  /**
   * Why the trace is not orphanmap.bt's whole, in a keyed capture (format 2),
   * which a verdict cannot pass; null when nothing says so. Records whose path
   * never ended with the key were cut (and what they said is unknown), and
   * lines without the key were written by something else than the script.
   */
  damage(): string | null {
    const s = this.shape;
    if (s.unclosed > 0) return `${this.file}: ${s.unclosed} record(s) of orphanmap.bt were cut short (their path never ended with the capture's key): what they said is unknown`;
    if (s.unkeyed > 0) return `${this.file}: ${s.unkeyed} line(s) without the capture's key are in the trace: something else than orphanmap.bt wrote into it`;
    return null;
  }

  /** Preflight findings about the capture. */
  warnings(): string[] {
    const s = this.shape;
    const warnings: string[] = [];
    if (s.version === null && s.records > 0) warnings.push(`${this.file}: no orphanmap-bt header line: not a capture of scripts/orphanmap.bt, or its start is missing`);
    else if (s.version !== null && (s.version < 1 || s.version > BPFTRACE_FORMAT_VERSION))
      warnings.push(`${this.file}: orphanmap-bt line format ${s.version}, this parser reads 1 to ${BPFTRACE_FORMAT_VERSION}`);
    else if (this.joiner.key === ZERO_KEY)
      warnings.push(`${this.file}: the trace's key is zeros (orphanmap.bt run by hand, not by capture): a traced process could print lines that read as the script's in a file name`);
    if (s.lostEvents > 0) warnings.push(`${this.file}: bpftrace lost ${s.lostEvents} events (raise BPFTRACE_PERF_RB_PAGES): fd and mapping state after the first loss is uncertain`);
    if (s.longPaths > 0) warnings.push(`${this.file}: ${s.longPaths} paths are ${this.strlen - 1} bytes long and were probably cut at BPFTRACE_STRLEN`);
    if (this.dirs.cutNames > 0) warnings.push(`${this.file}: ${this.dirs.cutNames} directories have names longer than 64 bytes: files under them are known only by the names the process gave`);
    if (s.late > 0) warnings.push(`${this.file}: ${s.late} records arrived too late to be put in time order`);
    if (s.afterStop > 0) {
      warnings.push(`${this.file}: ${s.afterStop} records after the capture began to stop were left out: bpftrace takes its probes off one at a time, so what it printed then is partial`);
    }
    if (this.buffer.releasedPastCut) warnings.push(`${this.file}: records after the capture began to stop were applied before its stop record was read: the trace's last moments may be partial`);
    if (s.forgedStops > 0)
      warnings.push(
        `${this.file}: ${s.forgedStops} line(s) looking like orphanmap.bt's stop record, written before the capture began to stop (meta.json's stopAfterByte, null when it made no stop call) or by a process other than the capture's (the header's stopper=), were left out: a traced process can print such a line inside a file name`,
      );
    if (s.unkeyed > 0)
      warnings.push(`${this.file}: ${s.unkeyed} line(s) without the capture's key, and not the rest of a file name, were left out: orphanmap.bt starts every line it prints with the key`);
    if (s.unclosed > 0) warnings.push(`${this.file}: ${s.unclosed} record(s) whose path never ended with the capture's key were left out: the trace was cut as bpftrace wrote them`);
    if (s.forgedHeaders > 0)
      warnings.push(`${this.file}: ${s.forgedHeaders} line(s) looking like orphanmap.bt's header after the first were left out: a traced process can print such a line inside a file name`);
    if (s.records > 0 && !s.endSeen) warnings.push(`${this.file}: no end line: the capture was cut short`);
    return warnings;
  }

  private handle(logical: LogicalLine, out: ParseOutput[]): void {
    if (logical.unkeyed === true || logical.unclosed === true) {
      // Not the script's, however it looks (a record here would be a traced process's own line), or cut short.
      if (logical.unkeyed === true) this.shape.unkeyed++;
      else this.shape.unclosed++;
      const reason =
        logical.unkeyed === true
          ? "not printed by orphanmap.bt: it lacks the capture's key"
          : "a record whose path never ended with the capture's key: the trace was cut as bpftrace wrote it, or a path ran longer than any call takes";
      this.emitNow({ type: 'diagnostic', diagnostic: { place: { file: this.file, line: logical.lines[0]! }, text: logical.text, reason } }, out);
      return;
    }
    // Parsed from a copy of its own: what the record keeps (its text, time, paths) are slices of the text, and an
    // event waits in the reorder buffer while later lines are read (on a CPU printed late, for seconds); cut from
    // the input's 48 KiB pieces, the held events kept a piece each alive, and old space filled with them.
    const record = parseBpftraceLine(flatCopy(logical.text), logical.lines[0]!, this.file, logical.lines);
    // Every record read says how far its CPU's output has come, an event's included (accept() passes it with the event).
    if (record.type === 'half' || record.type === 'second' || record.type === 'ignored') {
      const { cpu, ns } = streamOf(logical.text);
      this.release(this.buffer.mark(cpu, ns), out);
    }
    switch (record.type) {
      case 'marker':
        if (record.marker.kind === 'header' && this.shape.version !== null) {
          // BEGIN printed the real one before any probe was attached: a later one is a traced process's file name
          // holding a newline and such a line, whose cpus= or stopper= would be taken (review 20, R20-1).
          this.shape.forgedHeaders++;
        } else if (record.marker.kind === 'header') {
          this.shape.version = record.marker.version ?? null;
          this.stopper = record.marker.stopper;
          this.shape.root = record.marker.root ?? null;
          if (record.marker.cpus !== undefined) this.buffer.expectStreams(record.marker.cpus);
          // orphanmap-bt 1 begin ns=1498737093204 cpu=1 self=26011 root=0
          //                      ^^^^^^^^^^^^^^^^ BEGIN ran: the trace starts
          if (this.origin === null && record.marker.ns !== undefined && /^\d+$/.test(record.marker.ns)) this.origin = BigInt(record.marker.ns);
        } else if (record.marker.kind === 'stop' && (logical.lines[0]! < this.stopsFromLine || (this.stopper !== undefined && record.marker.tgid !== this.stopper))) {
          // Printed before the capture began to stop (its bundle says where that was; review 19), or by a process
          // other than the one whose call orphanmap.bt prints as the record (review 20, R20-1: after that point,
          // and stamped with an early ns): a traced process's file name holding a newline and a line like the
          // record, which would hide all it did after. With stopper=0 (no stop call asked for), none is the capture's.
          this.shape.forgedStops++;
        } else if (record.marker.kind === 'stop' && this.shape.stopNs === null) {
          // Every probe was still attached at this instant; later records come from fewer and fewer of them.
          const { cpu, ns } = streamOf(logical.text);
          this.shape.stopNs = ns;
          this.buffer.cutAfter(ns);
          this.release(this.buffer.mark(cpu, ns), out);
        } else if (record.marker.kind === 'end') this.shape.endSeen = true;
        return;
      case 'diagnostic':
        // "unknown event "frobnicate"": and if it was meant as the rest of the path before it, it is not.
        if (logical.notPath !== undefined) record.diagnostic.reason += ` (right after a record ending in path=, but not the rest of its path: ${logical.notPath})`;
        this.emitNow(record, out);
        return;
      case 'ignored':
        this.shape.records++;
        return;
      case 'half': {
        this.shape.records++;
        const { half } = record;
        this.countLongPath(half.path);
        // A half waits for its second record, which may never come: what it keeps is cut from the copy of its own
        // line the record was parsed from (handle), not from the input, so it is kept as it is.
        this.halves.set(half.tid, half);
        return;
      }
      case 'second': {
        this.shape.records++;
        const half = this.halves.get(record.tid);
        if (half !== undefined) this.halves.delete(record.tid);
        const joined = half === undefined ? missingHalf(record) : joinHalf(half, record);
        if (joined.type === 'event') this.accept(joined, out);
        else if (joined.type === 'diagnostic') this.emitNow(joined, out);
        return;
      }
      case 'event':
        this.shape.records++;
        this.accept(record, out);
        return;
      case 'gen':
        this.shape.records++;
        this.generations.set(record.tid, { ino: record.ino, gen: record.gen });
        return;
      case 'dir': {
        this.shape.records++;
        // Applied in time order with the opens: a later record for the same id (a renamed directory, or a new one at a freed address) must not resolve an earlier open.
        const { cpu, ns } = streamOf(logical.text);
        this.release(this.buffer.push(ns, { type: 'dir', dir: record.dir }, cpu, ns), out);
        return;
      }
      default:
        assertNever(record);
    }
  }

  private accept(record: Extract<BpftraceRecord, { type: 'event' }>, out: ParseOutput[]): void {
    const event = unreadNameOf(record.event) ?? record.event;
    if (this.origin === null && event.time !== null) this.origin = BigInt(event.time);
    if (event.kind === 'lost') this.shape.lostEvents += event.count;
    this.markCutPaths(event);
    if (record.realDir !== undefined) this.realDirs.set(event, record.realDir);
    if (event.kind === 'open' && this.generations.size > 0) this.takeGeneration(event);
    const key = record.key ?? this.buffer.newestKey ?? 0n;
    // 1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797
    // ^^^^^^^^^^^^^ ^ printed by CPU 0 at this ns; keyed by ens, when the fd was released
    const printed = event.time === null ? null : (record.printed ?? BigInt(event.time));
    this.release(printed === null ? this.buffer.push(key, { type: 'event', event }) : this.buffer.push(key, { type: 'event', event }, record.cpu, printed), out);
  }

  /**
   * The generation its thread's `gen` record gave the file an open reached (a record lost between them: none). 0 is
   * none either: file systems that keep no generation print 0 for every file (overlayfs, whose numbers are its upper
   * layer's and come back at once: review 78, F1), and the script prints none for them.
   */
  private takeGeneration(open: Extract<TraceEvent, { kind: 'open' }>): void {
    const generation = this.generations.get(open.tid);
    if (generation === undefined) return;
    this.generations.delete(open.tid);
    if (open.inode !== undefined && open.inode.ino === generation.ino && generation.gen !== 0) open.inode.gen = generation.gen;
  }

  /** Events leave the reorder buffer here, in time order, and take the clock asked for; `dir` records are applied. */
  private release(items: Held[], out: ParseOutput[]): void {
    for (const output of items) {
      if (output.type === 'dir') {
        this.dirs.describe(output.dir);
        continue;
      }
      if (output.type === 'event' && output.event.kind === 'open') this.resolve(output.event);
      if (this.sinceStart && output.type === 'event' && output.event.time !== null) {
        const event = output.event;
        // 1498786347689 0 26514 26581 mmap ret=0x7fc9b8fe2000 …
        // ^^^^^^^^^^^^^ ns: the event's time until here
        event.seconds = this.sinceOrigin(event.time!);
        if (event.enteredSeconds !== undefined) event.enteredSeconds -= Number(this.origin ?? 0n) / 1e9;
        // Without a begin line, a record older than the first one read comes out negative.
        event.time = this.madeTimeText(event.seconds);
      }
      out.push(output);
    }
  }

  /**
   * sinceStartText(seconds): the text release() made for those seconds when
   * it is still kept, else made again. Evidence keeps an event's seconds
   * only if they give its time back (InputEvidence.keep), and made again for
   * every event it kept, each text twice was a twentieth of what reading a
   * capture allocated.
   */
  timeText(seconds: number): string {
    const slot = timeSlot(seconds);
    return this.madeSeconds[slot] === seconds ? this.madeTexts[slot]! : sinceStartText(seconds);
  }

  private madeTimeText(seconds: number): string {
    const text = sinceStartText(seconds);
    const slot = timeSlot(seconds);
    this.madeSeconds[slot] = seconds;
    this.madeTexts[slot] = text;
    return text;
  }

  /** The seconds and texts madeTimeText made last, by timeSlot: a batch released at once (a CPU printed late) is thousands. */
  private readonly madeSeconds = new Float64Array(MADE_TIMES).fill(Number.NaN);
  private readonly madeTexts = new Array<string>(MADE_TIMES).fill('');

  /**
   * Nanoseconds `ns` (digits) less the origin, in seconds: by bigints, exact
   * whatever the ns; by doubles when both are below 2^53 (a machine up for
   * less than 104 days), where a double holds them, and so their difference,
   * exactly: the same number, with no bigint made and parsed per event.
   */
  private sinceOrigin(ns: string): number {
    const origin = this.origin ?? 0n;
    const value = Number(ns);
    if (value <= Number.MAX_SAFE_INTEGER && origin <= MAX_SAFE_BIGINT) return (value - Number(origin)) / 1e9;
    return Number(BigInt(ns) - origin) / 1e9;
  }

  /**
   * An open's real path, from the `dir` records read by now (those of its own
   * call were printed just before it, on the same CPU): the engine takes it
   * as another spelling of the file's name, so an unlink that names the file
   * through no symlink finds it.
   */
  private resolve(event: Extract<TraceEvent, { kind: 'open' }>): void {
    const ref = this.realDirs.get(event);
    if (ref === undefined) return;
    const real = this.dirs.realPath(event.path, ref);
    if (real === null) {
      // Through a symlink to the file: its own name is found when a later call names it (Files.claimRealName).
      // Not for a name the tracer cut, whose length differs for that reason alone.
      const clue = event.pathCut === true ? null : this.dirs.realNameClue(event.path, ref);
      if (clue !== null) event.realName = clue;
      return;
    }
    event.resolvedHint = real;
    // Its last component is the file's whole name there (length and tag): the path was not cut, only as long as one.
    if (event.pathCut === true) event.pathCut = undefined;
  }

  /** Diagnostics have no time: pass them on at once. */
  private emitNow(record: Extract<BpftraceRecord, { type: 'diagnostic' }>, out: ParseOutput[]): void {
    out.push({ type: 'diagnostic', diagnostic: record.diagnostic });
  }

  /**
   * The event's paths as long as bpftrace prints one are marked cut
   * (PathCut): the engine then matches no other name with them. A rename's
   * or link's old path was counted with its first record.
   */
  private markCutPaths(event: TraceEvent): void {
    switch (event.kind) {
      case 'open':
      case 'unlink':
      case 'chdir':
      case 'exec':
      case 'truncate':
        if (event.path !== undefined && this.countLongPath(event.path)) event.pathCut = true;
        return;
      case 'rename':
      case 'link':
        if (this.isCut(event.oldPath)) event.oldPathCut = true;
        if (this.countLongPath(event.newPath)) event.newPathCut = true;
        return;
      case 'symlink':
        if (this.isCut(event.target) || this.countLongPath(event.path)) event.pathCut = true;
        return;
      default:
        return;
    }
  }

  /** Counts a path as long as bpftrace prints one: probably cut. */
  private countLongPath(path: string): boolean {
    if (!this.isCut(path)) return false;
    this.shape.longPaths++;
    return true;
  }

  private isCut(path: string): boolean {
    // The capture's bytes were decoded (byte-names.ts): count bytes, not characters.
    // Most paths are far shorter than the limit in bytes however they are encoded: no count.
    return path.length * 3 >= this.strlen - 1 && byteLength(path) >= this.strlen - 1;
  }
}

/**
 * An event's `time` on the `trace-start` clock: its seconds since the trace
 * began, signed, to the µs (`+29.665759`). Evidence keeps the number and makes
 * the text again (InputEvidence.timeText): no line prints it.
 */
export function sinceStartText(seconds: number): string {
  return `${seconds < 0 ? '-' : '+'}${Math.abs(seconds).toFixed(6)}`;
}

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/** How many texts of times the reader keeps (BpftraceReader.timeText), by their µs: a power of two. */
const MADE_TIMES = 4096;

/** Where the text of `seconds` is kept: its µs, modulo MADE_TIMES (NaN in slot 0, never equal to itself). */
function timeSlot(seconds: number): number {
  return Math.floor(seconds * 1e6) & (MADE_TIMES - 1);
}

/** The key of a trace of orphanmap.bt run by hand: the placeholder in the file, which anyone can print. */
const ZERO_KEY = '0000000000000000';

/**
 * The CPU and print time of a line parseBpftraceLine made a record of (it
 * read its head as digits, scanRecordHead).
 */
function streamOf(text: string): { cpu: number; ns: bigint } {
  // 15897203293588 1 32427 32427 dir id=0xd2b11b8715000000 …
  // ^^^^^^^^^^^^^^ ^ cpu
  const first = text.indexOf(' ');
  const second = text.indexOf(' ', first + 1);
  return { cpu: Number(text.slice(first + 1, second)), ns: BigInt(text.slice(0, first)) };
}

/**
 * A call that succeeded with a name bpftrace printed empty, as a blind spot
 * (BlindSpotEvent.missed 'name'); null for any other event. The kernel names no
 * file by "" (ENOENT), so the script's read of the name failed: it reads at
 * the call's exit without faulting the page in, and a process can drop that
 * page meanwhile (review 28, attack F1: an unlink of a mapped file read as
 * one of "", and the leak as clean). A link by an fd (AT_EMPTY_PATH) names
 * none by right.
 */
function unreadNameOf(event: TraceEvent): BlindSpotEvent | null {
  let unread: boolean;
  switch (event.kind) {
    case 'open':
    case 'unlink':
    case 'chdir':
    case 'truncate':
      unread = event.path === '';
      break;
    case 'rename':
      unread = event.oldPath === '' || event.newPath === '';
      break;
    case 'link':
      unread = (event.oldPath === '' && event.oldDir.fd === 'cwd') || event.newPath === '';
      break;
    case 'symlink':
      unread = event.path === '' || event.target === '';
      break;
    default:
      return null;
  }
  if (!unread) return null;
  // Its base fields (place, time, tid, raw…) and nothing of the call's own.
  const { place, time, seconds, tid, tgid, comm, raw, lines, lineTimes } = event;
  const blind: BlindSpotEvent = { kind: 'blind-spot', call: event.kind, missed: 'name', place, time, seconds, tid, raw };
  if (tgid !== undefined) blind.tgid = tgid;
  if (comm !== undefined) blind.comm = comm;
  if (lines !== undefined) blind.lines = lines;
  if (lineTimes !== undefined) blind.lineTimes = lineTimes;
  return blind;
}

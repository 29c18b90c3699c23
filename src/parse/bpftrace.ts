// Reader for the output of scripts/orphanmap.bt (line format version 1; the
// grammar is documented in that script's header). Pure: no I/O.
//
//   parseBpftraceLine   one logical line -> one record (event, half, marker, ignored, diagnostic)
//   ContinuationJoiner  physical lines -> logical lines (a newline inside a path splits a record)
//   ReorderBuffer       restores ns order across bpftrace 0.17's per-CPU output buffers
//   BpftraceReader      all three, plus rename/link half pairing: lines in, ParseOutputs out
import {
  assertNever, AT_REMOVEDIR, CLOSE_RANGE_CLOEXEC, O_CLOEXEC, RENAME_EXCHANGE,
  type Diagnostic, type DirRef, type EventBase, type Inode, type Place, type TraceEvent,
} from './events.js';
import type { ParseOutput } from './strace.js';

/** The version this parser reads: the `1` in `orphanmap-bt 1 begin …`. */
export const BPFTRACE_FORMAT_VERSION = 1;

const AT_FDCWD = -100;
const EBADF = -9;
/** mmap/mremap return -errno as an address: anything at or above -4095 as u64. */
const FIRST_ERROR_ADDRESS = 0xfffffffffffff001n;
/**
 * 2^64, the end of a 64-bit address space: a mapping of a call that succeeded
 * ends at or below it. Sizes and offsets are off_t, below 2^63.
 */
const ADDRESS_SPACE_END = 1n << 64n;
const OFFSET_END = 1n << 63n;

/** Events the script prints, and whether their records end in `path=`. */
const EVENT_NAMES: ReadonlyMap<string, boolean> = new Map([
  ['open', true], ['close', false], ['close_range', false], ['dup', false], ['setfd', false],
  ['mmap', false], ['munmap', false], ['mremap', false], ['ftruncate', false], ['truncate', true],
  ['rename.old', true], ['rename', true], ['link.old', true], ['link', true], ['unlink', true],
  ['chdir', true], ['fchdir', false], ['clone', false], ['exec', true], ['exit', false], ['end', false],
]);

// 1498786270073 0 26514 26581 open sys=openat ret=3 …
// ^ns           ^cpu ^tgid ^tid ^event
const RECORD_HEAD = /^(\d+) (\d+) (\d+) (\d+) ([a-z_.]+)(?: |$)/;
const ATTACHING = /^Attaching (\d+) probes?\.\.\.$/;
const LOST = /^Lost (\d+) events$/;

export type MarkerKind = 'header' | 'attaching' | 'attached' | 'end' | 'blank';

export interface Marker {
  kind: MarkerKind;
  place: Place;
  /** header: format version. */
  version?: number;
  /** header: the root tgid given as $1 (0 = the -c child); attaching: the probe count. */
  root?: number;
  probes?: number;
  /** header: bpftrace's own tgid. */
  self?: number;
  /** header / end: the ns stamp. */
  ns?: string;
}

/** The first record of a two-record call (`rename.old`, `link.old`): paired by (tid, ns). */
export interface Half {
  kind: 'rename.old' | 'link.old';
  tid: number;
  ns: string;
  path: string;
  place: Place;
  raw: string;
  lines: number[];
}

export type BpftraceRecord =
  /** `key` is the ns to sort by (entry ns for close/close_range/munmap); null for `lost`. */
  | { type: 'event'; event: TraceEvent; key: bigint | null; cpu: number }
  | { type: 'half'; half: Half }
  /** The second record of a rename/link: joinHalf() makes the event once its half is known. */
  | { type: 'second'; kind: 'rename' | 'link'; tid: number; ns: string; text: string; place: Place; lines: number[] }
  | { type: 'marker'; marker: Marker }
  /** A readable record the engine does not need: failed calls. */
  | { type: 'ignored'; reason: string }
  | { type: 'diagnostic'; diagnostic: Diagnostic };

/** A logical line: one record, possibly spread over several physical lines. */
export interface LogicalLine {
  text: string;
  /** Physical line numbers, first one first. */
  lines: number[];
}

/** True when these first lines of an input come from orphanmap.bt (or at least bpftrace). */
export function looksLikeBpftrace(firstLines: string[]): boolean {
  return firstLines.some((line) => {
    if (line.startsWith('orphanmap-bt ') || ATTACHING.test(line)) return true;
    const head = RECORD_HEAD.exec(line);
    return head !== null && EVENT_NAMES.has(head[5]!) && line.includes('=');
  });
}

/**
 * Parses one logical line. `lineNo` is its first physical line; pass `lines`
 * when the joiner made it of several.
 */
export function parseBpftraceLine(text: string, lineNo: number, file: string, lines?: number[]): BpftraceRecord {
  const place: Place = { file, line: lineNo };
  const bad = (reason: string): BpftraceRecord => ({ type: 'diagnostic', diagnostic: { place, text, reason } });
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() === '') return { type: 'marker', marker: { kind: 'blank', place } };

  const head = RECORD_HEAD.exec(text);
  if (head === null) return parseOtherLine(text, place, bad);
  const [, ns, cpuText, tgidText, tidText, name] = head as unknown as [string, string, string, string, string, string];
  if (!EVENT_NAMES.has(name)) return bad(`unknown event "${name}"`);
  if (name === 'end') return { type: 'marker', marker: { kind: 'end', place, ns } };

  // 1498786458066 0 26514 26581 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=/tmp/omw/data dir/00000000.index.deleted
  //                                                                                       ^^^^^^ path: to the end, blanks and all
  const rest = text.slice(head[0].length);
  const pathAt = rest.startsWith('path=') ? 0 : rest.indexOf(' path=');
  const path = pathAt < 0 ? undefined : rest.slice(pathAt === 0 ? 5 : pathAt + 6);
  const fields = parseFields(pathAt < 0 ? rest : rest.slice(0, pathAt));
  if (fields === null) return bad('a field is not key=value');
  if (EVENT_NAMES.get(name) && path === undefined) return bad(`${name} record without path=`);

  const tid = Number(tidText);
  const base: EventBase = {
    place, time: ns, seconds: Number(ns) / 1e9, tid, tgid: Number(tgidText), raw: text,
  };
  if (lines !== undefined && lines.length > 1) base.lines = lines;
  const cpu = Number(cpuText);
  const exitKey = BigInt(ns);
  const f = new FieldReader(fields);
  const event = (e: TraceEvent, key: bigint = exitKey): BpftraceRecord =>
    f.missing.length > 0 ? bad(`${name}: missing or bad ${f.missing.join(', ')}`) : { type: 'event', event: e, key, cpu };
  const failed = (ret: number): BpftraceRecord | null => (ret < 0 ? { type: 'ignored', reason: `${name} failed (${ret})` } : null);

  switch (name) {
    case 'rename.old':
    case 'link.old':
      return { type: 'half', half: { kind: name, tid, ns, path: path!, place, raw: text, lines: lines ?? [lineNo] } };
    case 'open': {
      const ret = f.int('ret');
      const flags = f.int('flags');
      const e = event({ ...base, kind: 'open', dir: dirRef(f.int('dfd')), path: path!, fd: ret, cloexec: (flags & O_CLOEXEC) !== 0, ...inodeOf(f) });
      return failedUnlessBad(e, failed(ret));
    }
    case 'close': {
      const ret = f.int('ret');
      const key = f.big('ens');
      // The fd is released at entry, and also when close fails with anything but EBADF.
      const e = event({ ...base, kind: 'close', fd: f.int('fd') }, key);
      return failedUnlessBad(e, ret === EBADF ? failed(ret) : null);
    }
    case 'close_range': {
      const ret = f.int('ret');
      const e = event({ ...base, kind: 'close-range', low: f.int('fd'), high: f.int('max'), cloexecOnly: (f.int('flags') & CLOSE_RANGE_CLOEXEC) !== 0 }, f.big('ens'));
      return failedUnlessBad(e, failed(ret));
    }
    case 'dup': {
      const ret = f.int('ret');
      const e = event({ ...base, kind: 'dup', oldFd: f.int('oldfd'), newFd: ret, cloexec: f.int('cloexec') !== 0 });
      return failedUnlessBad(e, failed(ret));
    }
    case 'setfd': {
      const ret = f.int('ret');
      const e = event({ ...base, kind: 'set-cloexec', fd: f.int('fd'), cloexec: (f.int('fdflags') & 1) !== 0 });
      return failedUnlessBad(e, failed(ret));
    }
    case 'mmap': {
      const ret = f.big('ret');
      const fd = f.int('fd');
      const failedCall = ret >= FIRST_ERROR_ADDRESS && ret < ADDRESS_SPACE_END;
      f.checkRanges = !failedCall;
      const address = f.address('ret', ret);
      const e = event({
        ...base, kind: 'mmap', address, length: f.size('len', address), prot: f.int('prot'), flags: f.int('flags'),
        fd, offset: f.offset('off'), ...(fd >= 0 ? inodeOf(f) : {}),
      });
      return failedUnlessBad(e, failedCall ? { type: 'ignored', reason: 'mmap failed' } : null);
    }
    case 'munmap': {
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      const address = f.address('addr');
      const e = event({ ...base, kind: 'munmap', address, length: f.size('len', address) }, f.big('ens'));
      return failedUnlessBad(e, failed(ret));
    }
    case 'mremap': {
      const ret = f.big('ret');
      const failedCall = ret >= FIRST_ERROR_ADDRESS && ret < ADDRESS_SPACE_END;
      f.checkRanges = !failedCall;
      const oldAddress = f.address('addr');
      const newAddress = f.address('ret', ret);
      const e = event({
        ...base, kind: 'mremap', oldAddress, oldLength: f.size('old_len', oldAddress), newLength: f.size('new_len', newAddress),
        flags: f.int('flags'), newAddress,
      });
      return failedUnlessBad(e, failedCall ? { type: 'ignored', reason: 'mremap failed' } : null);
    }
    case 'ftruncate': {
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      const e = event({ ...base, kind: 'truncate', fd: f.int('fd'), length: f.offset('len'), ...inodeOf(f) });
      return failedUnlessBad(e, failed(ret));
    }
    case 'truncate': {
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      const e = event({ ...base, kind: 'truncate', path: path!, dir: { fd: 'cwd' }, length: f.offset('len') });
      return failedUnlessBad(e, failed(ret));
    }
    case 'rename':
    case 'link':
      return { type: 'second', kind: name, tid, ns, text, place, lines: lines ?? [lineNo] };
    case 'unlink': {
      const ret = f.int('ret');
      const nlink = f.optionalInt('nlink');
      const e = event({
        ...base, kind: 'unlink', dir: dirRef(f.int('dfd')), path: path!, removeDir: (f.int('flags') & AT_REMOVEDIR) !== 0,
        ...inodeOf(f), ...(nlink !== undefined ? { nlinkAfter: nlink } : {}),
      });
      return failedUnlessBad(e, failed(ret));
    }
    case 'chdir': {
      const ret = f.int('ret');
      return failedUnlessBad(event({ ...base, kind: 'chdir', path: path! }), failed(ret));
    }
    case 'fchdir': {
      const ret = f.int('ret');
      return failedUnlessBad(event({ ...base, kind: 'chdir', fd: f.int('fd') }), failed(ret));
    }
    case 'clone':
      return event({ ...base, kind: 'clone', childTid: f.int('child'), flags: f.int('flags') });
    case 'exec': {
      const oldTid = f.int('old_tid');
      return event({ ...base, kind: 'exec', path: path!, ...(oldTid !== tid ? { formerTid: oldTid } : {}) });
    }
    case 'exit':
      return event({ ...base, kind: 'thread-exit', how: describeWaitStatus(f.int('code')), groupDead: f.int('group_dead') !== 0 });
    default:
      return bad(`unknown event "${name}"`);
  }
}

/** Joins a rename/link half with its second record (same tid and ns) into one event. */
export function joinHalf(half: Half, second: Extract<BpftraceRecord, { type: 'second' }>): BpftraceRecord {
  const bad = (reason: string): BpftraceRecord => ({ type: 'diagnostic', diagnostic: { place: second.place, text: second.text, reason } });
  if (half.tid !== second.tid || half.ns !== second.ns || half.kind !== `${second.kind}.old`) {
    return bad(`${second.kind} record without its ${second.kind}.old record (same tid and ns)`);
  }
  const head = RECORD_HEAD.exec(second.text)!;
  const rest = second.text.slice(head[0].length);
  const pathAt = rest.indexOf(' path=');
  const fields = pathAt < 0 ? null : parseFields(rest.slice(0, pathAt));
  if (fields === null) return bad(`unreadable ${second.kind} record`);
  const f = new FieldReader(fields);
  const ret = f.int('ret');
  const base: EventBase = {
    place: half.place, time: half.ns, seconds: Number(half.ns) / 1e9, tid: half.tid, tgid: Number(head[3]),
    raw: `${half.raw}\n${second.text}`, lines: [...half.lines, ...second.lines],
  };
  const names = {
    oldDir: dirRef(f.int('olddfd')), oldPath: half.path, newDir: dirRef(f.int('newdfd')), newPath: rest.slice(pathAt + 6),
  };
  const event: TraceEvent = second.kind === 'rename'
    ? { ...base, kind: 'rename', ...names, exchange: (f.int('flags') & RENAME_EXCHANGE) !== 0 }
    : { ...base, kind: 'link', ...names };
  if (f.missing.length > 0) return bad(`${second.kind}: missing or bad ${f.missing.join(', ')}`);
  if (ret < 0) return { type: 'ignored', reason: `${second.kind} failed (${ret})` };
  return { type: 'event', event, key: BigInt(half.ns), cpu: Number(head[2]) };
}

/** A second record whose half never came. */
function missingHalf(second: Extract<BpftraceRecord, { type: 'second' }>): BpftraceRecord {
  return {
    type: 'diagnostic',
    diagnostic: { place: second.place, text: second.text, reason: `${second.kind} record without its ${second.kind}.old record (same tid and ns)` },
  };
}

function parseOtherLine(text: string, place: Place, bad: (reason: string) => BpftraceRecord): BpftraceRecord {
  // orphanmap-bt 1 begin ns=1498737093204 cpu=1 self=26011 root=0
  if (text.startsWith('orphanmap-bt ')) {
    const parts = text.split(' ');
    const version = Number(parts[1]);
    const fields = parseFields(parts.slice(3).join(' '));
    if (parts[2] !== 'begin' || !Number.isInteger(version) || fields === null) return bad('unreadable orphanmap-bt header');
    const marker: Marker = { kind: 'header', place, version };
    const root = fields.get('root');
    const self = fields.get('self');
    const ns = fields.get('ns');
    if (root !== undefined) marker.root = Number(root);
    if (self !== undefined) marker.self = Number(self);
    if (ns !== undefined) marker.ns = ns;
    return { type: 'marker', marker };
  }
  const attaching = ATTACHING.exec(text);
  if (attaching) return { type: 'marker', marker: { kind: 'attaching', place, probes: Number(attaching[1]) } };
  if (text === '__BPFTRACE_NOTIFY_PROBES_ATTACHED') return { type: 'marker', marker: { kind: 'attached', place } };
  const lost = LOST.exec(text);
  if (lost) {
    // No CPU, pid or time: the reader places it after everything seen so far.
    return {
      type: 'event', key: null, cpu: -1,
      event: { kind: 'lost', count: Number(lost[1]), place, time: null, seconds: null, tid: 0, raw: text },
    };
  }
  return bad('not an orphanmap.bt record');
}

function failedUnlessBad(record: BpftraceRecord, failure: BpftraceRecord | null): BpftraceRecord {
  return record.type === 'diagnostic' || failure === null ? record : failure;
}

/** `key=value key=value` → map; null when a token has no `=`. */
function parseFields(text: string): Map<string, string> | null {
  const fields = new Map<string, string>();
  for (const token of text.split(' ')) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq <= 0) return null;
    fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return fields;
}

const NUMBER = /^-?(?:0x[0-9a-f]+|\d+)$/i;

/** Reads numeric fields and remembers which were missing, so one check covers them all. */
class FieldReader {
  readonly missing: string[] = [];
  constructor(private readonly fields: Map<string, string>) {}

  int(key: string): number {
    const value = this.fields.get(key);
    if (value === undefined || !NUMBER.test(value)) {
      this.missing.push(key);
      return 0;
    }
    return value.startsWith('-') ? -Number(value.slice(1)) : Number(value);
  }

  big(key: string): bigint {
    const value = this.fields.get(key);
    if (value === undefined || !NUMBER.test(value)) {
      this.missing.push(key);
      return 0n;
    }
    return value.startsWith('-') ? -BigInt(value.slice(1)) : BigInt(value);
  }

  optionalInt(key: string): number | undefined {
    return this.fields.has(key) ? this.int(key) : undefined;
  }

  /**
   * Ranges are checked for calls that succeeded only: a failed call's
   * arguments may be anything (an mmap of 1e23 bytes fails with ENOMEM).
   */
  checkRanges = true;

  /** An address: 0 to 2^64 - 1. `value` when the field was already read. */
  address(key: string, value: bigint = this.big(key)): number {
    if (this.checkRanges && (value < 0n || value >= ADDRESS_SPACE_END)) this.missing.push(`${key} (out of range)`);
    return Number(value);
  }

  /** The length of a range starting at `start`: not negative, and not past 2^64 (said once, for a start past it). */
  size(key: string, start: number): number {
    const value = this.big(key);
    if (this.checkRanges && start < 2 ** 64 && (value < 0n || Number(value) + start > 2 ** 64)) this.missing.push(`${key} (out of range)`);
    return Number(value);
  }

  /** A file size or offset (off_t): 0 to 2^63 - 1. */
  offset(key: string): number {
    const value = this.big(key);
    if (this.checkRanges && (value < 0n || value >= OFFSET_END)) this.missing.push(`${key} (out of range)`);
    return Number(value);
  }
}

function dirRef(dfd: number): DirRef {
  return dfd === AT_FDCWD ? { fd: 'cwd' } : { fd: dfd };
}

/** `ino=0` means the script could not resolve a file (failed call, anonymous mapping). */
function inodeOf(f: FieldReader): { inode?: Inode } {
  const ino = f.optionalInt('ino');
  const dev = f.optionalInt('dev');
  return ino !== undefined && ino !== 0 && dev !== undefined ? { inode: { dev, ino } } : {};
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
};

/** task->exit_code in wait() encoding: 0x300 = exit(3), 0x9 = SIGKILL, | 0x80 = core dumped. */
export function describeWaitStatus(code: number): string {
  const signal = code & 0x7f;
  if (signal === 0) return `exited with ${(code >> 8) & 0xff}`;
  const name = SIGNAL_NAMES[signal] ?? `signal ${signal}`;
  return `killed by ${name}${code & 0x80 ? ' (core dumped)' : ''}`;
}

/**
 * Rebuilds records split by newlines inside paths. bpftrace prints strings raw,
 * so `path=new\nline.bin` arrives as `…path=new` and `line.bin`. A physical line
 * continues the previous record when that record ends in a string field and the
 * line is not itself a record, a header or a bpftrace message. A blank line
 * always ends a record (0.17 prints blank lines at exit), so a path that ends in
 * a newline loses it; a path line that happens to look like a record is taken
 * for one.
 */
export class ContinuationJoiner {
  private held: LogicalLine | null = null;
  private heldTakesContinuation = false;
  /** The held line has already seen one idle moment without a line after it. */
  private heldThroughIdle = false;

  /** Feed one physical line; returns the logical lines that are now complete. */
  push(text: string, lineNo: number): LogicalLine[] {
    const done: LogicalLine[] = [];
    this.heldThroughIdle = false;
    if (this.held !== null && this.heldTakesContinuation && !startsRecord(text)) {
      this.held.text += `\n${text}`;
      this.held.lines.push(lineNo);
      return done;
    }
    if (this.held !== null) done.push(this.held);
    this.held = { text, lines: [lineNo] };
    this.heldTakesContinuation = endsInString(text);
    return done;
  }

  /**
   * Live input caught up with its writer. A held line that cannot continue is
   * complete; one ending in a path is complete once a second idle moment
   * passes with nothing after it (orphanmap.bt writes a record, newlines in
   * its path included, with one write: its continuation would have come with it).
   */
  idle(): LogicalLine[] {
    if (this.held === null) return [];
    if (this.heldTakesContinuation && !this.heldThroughIdle) {
      this.heldThroughIdle = true;
      return [];
    }
    return this.end();
  }

  /** The last logical line, at end of input. */
  end(): LogicalLine[] {
    const done = this.held === null ? [] : [this.held];
    this.held = null;
    return done;
  }
}

function startsRecord(text: string): boolean {
  if (text === '' || text === '\r') return true;
  const head = RECORD_HEAD.exec(text);
  if (head !== null && EVENT_NAMES.has(head[5]!)) return true;
  return text.startsWith('orphanmap-bt ') || ATTACHING.test(text) || LOST.test(text) || text === '__BPFTRACE_NOTIFY_PROBES_ATTACHED';
}

function endsInString(text: string): boolean {
  const head = RECORD_HEAD.exec(text);
  return head !== null && EVENT_NAMES.get(head[5]!) === true && text.includes('path=');
}

export interface ReorderOptions {
  /** Hold an item until a key newer by more than this has been seen (ns). Default 250 ms. */
  windowNs?: bigint;
  /** Never hold more than this many items. Default 100 000. */
  maxHeld?: number;
  /**
   * Live input (see BpftraceReader.idle): release an item once the clock is
   * this far past its key, whatever has arrived since. Default 150 ms.
   */
  liveWindowNs?: bigint;
}

/**
 * Restores key (ns) order across bpftrace 0.17's per-CPU perf buffers, which are
 * each in order but are drained in no particular order (docs/bpftrace-format.md, "Order": measured
 * up to ~75 ms of disorder under load). An item is released once an item newer
 * by more than `windowNs` has arrived, or when more than `maxHeld` are held; ties
 * keep arrival order. An item older than one already released cannot be placed:
 * it is released at once and counted in `late`.
 */
export class ReorderBuffer<T> {
  private readonly held: { key: bigint; seq: number; item: T }[] = [];
  private seq = 0;
  private newest: bigint | null = null;
  private lastReleased: bigint | null = null;
  /** Items that arrived after a newer item had already been released. */
  late = 0;
  private readonly windowNs: bigint;
  private readonly maxHeld: number;

  constructor(options: ReorderOptions = {}) {
    this.windowNs = options.windowNs ?? 250_000_000n;
    this.maxHeld = options.maxHeld ?? 100_000;
  }

  /** The newest key seen so far, or null. */
  get newestKey(): bigint | null {
    return this.newest;
  }

  get size(): number {
    return this.held.length;
  }

  push(key: bigint, item: T): T[] {
    if (this.lastReleased !== null && key < this.lastReleased) {
      this.late++;
      return [item];
    }
    if (this.newest === null || key > this.newest) this.newest = key;
    const entry = { key, seq: this.seq++, item };
    // Mostly in order already: search from the end.
    let at = this.held.length;
    while (at > 0 && this.held[at - 1]!.key > key) at--;
    this.held.splice(at, 0, entry);
    let release = 0;
    const horizon = this.newest - this.windowNs;
    while (release < this.held.length && this.held[release]!.key < horizon) release++;
    if (this.held.length - release > this.maxHeld) release = this.held.length - this.maxHeld;
    return this.take(release);
  }

  /** Every item whose key is older than `horizon`, in order (live input: nothing older can still be in flight). */
  releaseBefore(horizon: bigint): T[] {
    let release = 0;
    while (release < this.held.length && this.held[release]!.key < horizon) release++;
    return this.take(release);
  }

  /** Everything still held, in order (end of input). */
  flush(): T[] {
    return this.take(this.held.length);
  }

  private take(count: number): T[] {
    if (count === 0) return [];
    const out = this.held.splice(0, count);
    this.lastReleased = out[out.length - 1]!.key;
    return out.map((entry) => entry.item);
  }
}

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
    lines: 0, records: 0, version: null, root: null, lostEvents: 0, longPaths: 0, late: 0, endSeen: false,
  };
  private readonly joiner = new ContinuationJoiner();
  private readonly buffer: ReorderBuffer<ParseOutput>;
  private readonly halves = new Map<number, Half>();
  private readonly strlen: number;
  private readonly sinceStart: boolean;
  private readonly liveWindowNs: bigint;
  /** Time 0 of a `trace-start` clock: the begin line's ns, else the first record's. */
  private origin: bigint | null = null;

  constructor(readonly file: string, options: BpftraceReaderOptions = {}) {
    this.buffer = new ReorderBuffer(options);
    this.liveWindowNs = options.liveWindowNs ?? 150_000_000n;
    this.strlen = options.strlen ?? 200;
    this.sinceStart = options.clock === 'trace-start';
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
  }

  /** Lines that are orphanmap.bt output: its records, header and end line. */
  get traceLines(): number {
    return this.shape.records + (this.shape.version === null ? 0 : 1) + (this.shape.endSeen ? 1 : 0);
  }

  /** Preflight findings about the capture. */
  warnings(): string[] {
    const s = this.shape;
    const warnings: string[] = [];
    if (s.version === null && s.records > 0) warnings.push(`${this.file}: no orphanmap-bt header line: not a capture of scripts/orphanmap.bt, or its start is missing`);
    else if (s.version !== null && s.version !== BPFTRACE_FORMAT_VERSION) warnings.push(`${this.file}: orphanmap-bt line format ${s.version}, this parser reads ${BPFTRACE_FORMAT_VERSION}`);
    if (s.lostEvents > 0) warnings.push(`${this.file}: bpftrace lost ${s.lostEvents} events (raise BPFTRACE_PERF_RB_PAGES): fd and mapping state after the first loss is uncertain`);
    if (s.longPaths > 0) warnings.push(`${this.file}: ${s.longPaths} paths are ${this.strlen - 1} bytes long and were probably cut at BPFTRACE_STRLEN`);
    if (s.late > 0) warnings.push(`${this.file}: ${s.late} records arrived too late to be put in time order`);
    if (s.records > 0 && !s.endSeen) warnings.push(`${this.file}: no end line: the capture was cut short`);
    return warnings;
  }

  private handle(logical: LogicalLine, out: ParseOutput[]): void {
    const record = parseBpftraceLine(logical.text, logical.lines[0]!, this.file, logical.lines);
    switch (record.type) {
      case 'marker':
        if (record.marker.kind === 'header') {
          this.shape.version = record.marker.version ?? null;
          this.shape.root = record.marker.root ?? null;
          // orphanmap-bt 1 begin ns=1498737093204 cpu=1 self=26011 root=0
          //                      ^^^^^^^^^^^^^^^^ BEGIN ran: the trace starts
          if (this.origin === null && record.marker.ns !== undefined && /^\d+$/.test(record.marker.ns)) this.origin = BigInt(record.marker.ns);
        } else if (record.marker.kind === 'end') this.shape.endSeen = true;
        return;
      case 'diagnostic':
        this.emitNow(record, out);
        return;
      case 'ignored':
        this.shape.records++;
        return;
      case 'half':
        this.shape.records++;
        this.countLongPath(record.half.path);
        this.halves.set(record.half.tid, record.half);
        return;
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
      default:
        assertNever(record);
    }
  }

  private accept(record: Extract<BpftraceRecord, { type: 'event' }>, out: ParseOutput[]): void {
    const event = record.event;
    if (this.origin === null && event.time !== null) this.origin = BigInt(event.time);
    if (event.kind === 'lost') this.shape.lostEvents += event.count;
    if ('path' in event && typeof event.path === 'string') this.countLongPath(event.path);
    if (event.kind === 'rename' || event.kind === 'link') this.countLongPath(event.newPath);
    const key = record.key ?? this.buffer.newestKey ?? 0n;
    this.release(this.buffer.push(key, { type: 'event', event }), out);
  }

  /** Events leave the reorder buffer here, and take the clock asked for. */
  private release(items: ParseOutput[], out: ParseOutput[]): void {
    for (const output of items) {
      if (this.sinceStart && output.type === 'event' && output.event.time !== null) {
        const event = output.event;
        // 1498786347689 0 26514 26581 mmap ret=0x7fc9b8fe2000 …
        // ^^^^^^^^^^^^^ ns: the event's time until here
        const ns = BigInt(event.time!) - (this.origin ?? 0n);
        event.seconds = Number(ns) / 1e9;
        // Without a begin line, a record older than the first one read comes out negative.
        event.time = `${ns < 0n ? '-' : '+'}${(Math.abs(Number(ns)) / 1e9).toFixed(6)}`;
      }
      out.push(output);
    }
  }

  /** Diagnostics have no time: pass them on at once. */
  private emitNow(record: Extract<BpftraceRecord, { type: 'diagnostic' }>, out: ParseOutput[]): void {
    out.push({ type: 'diagnostic', diagnostic: record.diagnostic });
  }

  private countLongPath(path: string): void {
    // The capture's bytes may have been decoded as UTF-8: count bytes, not characters.
    if (utf8Length(path) >= this.strlen - 1) this.shape.longPaths++;
  }
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

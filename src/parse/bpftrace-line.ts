// One logical line of scripts/orphanmap.bt's output (line format version 1,
// docs/bpftrace-format.md) -> one record: an event, the first half of a
// rename/link, a directory description, a marker, an ignored call or a
// diagnostic. Pure.
import { ADDRESS_SPACE_END, describeWaitStatus, FieldReader, parseFields } from './bpftrace-fields.js';
import { ATTACHING, parseMarkerLine } from './bpftrace-markers.js';
import { decodeBytes } from './byte-names.js';
import { isTid, TID_RANGE_REASON } from './strace-line.js';
import { BLIND_SPOT_CALLS } from './strace-decode.js';
import {
  AT_REMOVEDIR,
  CLOSE_RANGE_CLOEXEC,
  MADV_DOFORK,
  MADV_DONTFORK,
  MAP_FIXED,
  O_CLOEXEC,
  O_CREAT_EXCL,
  O_TMPFILE,
  O_CREAT,
  O_TRUNC,
  type BlindSpotEvent,
  type ChdirEvent,
  type CloneEvent,
  type CloseEvent,
  type CloseRangeEvent,
  type Diagnostic,
  type DirRef,
  type DupEvent,
  type EventBase,
  type ExecEvent,
  type MadviseEvent,
  type MmapEvent,
  type MremapEvent,
  type MunmapEvent,
  type OpenEvent,
  type Place,
  type SetCloexecEvent,
  type ThreadExitEvent,
  type TraceEvent,
  type TruncateEvent,
  type UnlinkEvent,
} from './events.js';

/**
 * The newest version this parser reads: the `2` in `KEY orphanmap-bt 2 begin …`.
 * It reads 1 too, the same lines without the key.
 */
export const BPFTRACE_FORMAT_VERSION = 2;

const AT_FDCWD = -100;
const EBADF = -9;
/** mmap/mremap return -errno as an address: anything at or above -4095 as u64. */
const FIRST_ERROR_ADDRESS = 0xfffffffffffff001n;
/** A `dir=` value: the directory's id, in bits 8-23 a tag of the file's name there, in the low byte its length. */
const NAME_BITS = 0xffffffn;
const NAME_LENGTH_BITS = 0xffn;
/** A `dir` record prints this many bytes of a name; a longer one is cut. */
export const DIR_NAME_BYTES = 64;

/** Events the script prints, and whether their records end in `path=`. */
export const EVENT_NAMES: ReadonlyMap<string, boolean> = new Map([
  ['open', true],
  ['close', false],
  ['close_range', false],
  ['dup', false],
  ['setfd', false],
  ['mmap', false],
  ['munmap', false],
  ['madvise', false],
  ['mremap', false],
  ['ftruncate', false],
  ['truncate', true],
  ['rename.old', true],
  ['rename', true],
  ['link.old', true],
  ['link', true],
  ['symlink.old', true],
  ['symlink', true],
  ['unlink', true],
  ['chdir', true],
  ['fchdir', false],
  ['clone', false],
  ['exec', true],
  ['exit', false],
  ['blind', false],
  ['end', false],
  ['stop', false],
  ['dir', false],
  ['gen', false],
]);

// 1498786270073 0 26514 26581 open sys=openat ret=3 …
// ^ns           ^cpu ^tgid ^tid ^event
/**
 * Where the parts of a record's head are in its line, as scanRecordHead found
 * them: the ns's digits from 0 to nsEnd, the cpu's, tgid's and tid's digits,
 * the event's name, and `end`, just past the blank after the name (or the
 * line's end), where the head ends.
 */
export interface RecordHead {
  nsEnd: number;
  cpuStart: number;
  tgidStart: number;
  tidStart: number;
  nameStart: number;
  nameEnd: number;
  end: number;
}

/** scanRecordHead's answer, filled again by each call: the joiner and the parser read every line's head, and a match array and five strings a line were a tenth of what reading a capture allocated. */
const scannedHead: RecordHead = { nsEnd: 0, cpuStart: 0, tgidStart: 0, tidStart: 0, nameStart: 0, nameEnd: 0, end: 0 };

/** Past the run of ASCII digits at `at`, and a blank after it: where the next part starts; -1 when there is no digit or no blank. */
function digitsThenBlank(text: string, at: number): number {
  const start = at;
  let code = text.charCodeAt(at);
  while (code >= 48 && code <= 57) code = text.charCodeAt(++at);
  return at > start && code === 32 ? at + 1 : -1;
}

/**
 * The head of a record, `<ns> <cpu> <tgid> <tid> <event>` then a blank or
 * the end: what `/^(\d+) (\d+) (\d+) (\d+) ([a-z_.]+)(?: |$)/` matches, read
 * by hand (test/parse-bpftrace-head.test.ts compares the two). The answer is one object, overwritten by the next call:
 * read what is needed before scanning another line. Null when the line has no such head.
 */
export function scanRecordHead(text: string): RecordHead | null {
  const cpuStart = digitsThenBlank(text, 0);
  if (cpuStart < 0) return null;
  const tgidStart = digitsThenBlank(text, cpuStart);
  if (tgidStart < 0) return null;
  const tidStart = digitsThenBlank(text, tgidStart);
  if (tidStart < 0) return null;
  const nameStart = digitsThenBlank(text, tidStart);
  if (nameStart < 0) return null;
  let at = nameStart;
  let code = text.charCodeAt(at);
  // [a-z_.]
  while ((code >= 97 && code <= 122) || code === 95 || code === 46) code = text.charCodeAt(++at);
  if (at === nameStart || (at < text.length && code !== 32)) return null;
  const head = scannedHead;
  head.nsEnd = cpuStart - 1;
  head.cpuStart = cpuStart;
  head.tgidStart = tgidStart;
  head.tidStart = tidStart;
  head.nameStart = nameStart;
  head.nameEnd = at;
  head.end = at < text.length ? at + 1 : at;
  return head;
}

/** The event's name in a head scanRecordHead read from `text`. */
export function headName(text: string, head: RecordHead): string {
  return text.slice(head.nameStart, head.nameEnd);
}

/** The number whose digits (a head's: only digits) run from `start` to `end` in `text`: Number() of them, with no string made for up to 15 (exact in a double). */
export function numberAt(text: string, start: number, end: number): number {
  if (end - start > 15) return Number(text.slice(start, end));
  let value = 0;
  for (let at = start; at < end; at++) value = value * 10 + (text.charCodeAt(at) - 48);
  return value;
}

/** A head's thread or process id from `start` to `end`: tidFromDigits() of its digits (NaN out of range), with no string made. */
function idAt(text: string, start: number, end: number): number {
  if (end - start > 10) return Number.NaN;
  const value = numberAt(text, start, end);
  return isTid(value) ? value : Number.NaN;
}

// 3f0c5e9a1b2d4c67 1498786270073 0 26514 26581 open sys=openat … (format 2: the capture's key first)
const KEYED_LINE = /^[0-9a-f]{16} (?:orphanmap-bt \d+ begin |\d+ \d+ \d+ \d+ [a-z_.]+ )/;

export type MarkerKind = 'header' | 'attaching' | 'attached' | 'stop' | 'end' | 'blank';

export interface Marker {
  kind: MarkerKind;
  place: Place;
  /** header: format version. */
  version?: number;
  /** header: the root tgid given as $1 (0 = the -c child); attaching: the probe count. */
  root?: number;
  probes?: number;
  /** header: how many CPUs were online (the script's second argument); 0 or absent: not said. */
  cpus?: number;
  /** header: bpftrace's own tgid. */
  self?: number;
  /** header: the only process whose `stop` records are the capture's (the script's STOPPER; 0: none is). Stop: the tgid that printed it. */
  stopper?: number;
  tgid?: number;
  /** header / stop / end: the ns stamp. */
  ns?: string;
}

/** The first record of a two-record call (`rename.old`, `link.old`, `symlink.old`): paired by (tid, ns). */
export interface Half {
  kind: 'rename.old' | 'link.old' | 'symlink.old';
  tid: number;
  ns: string;
  path: string;
  place: Place;
  raw: string;
  lines: number[];
}

/** A `dir` record: one directory of the real path of files opened, and its parent. */
export interface DirRecord {
  id: bigint;
  /** The parent's id; 0 when the parent is the process's root. */
  up: bigint;
  /** null for the root of a mount, whose path is its mount point's (`up`). */
  name: string | null;
  /** The name is longer than the record can hold: paths through it are unknown. */
  cut: boolean;
}

/** An open's `dir=`: the directory that really holds the file, and the byte length of its name there. */
export interface RealDirRef {
  id: bigint;
  nameBytes: number;
  /** A tag of the file's own name there (nameTag in bpftrace-dirs.ts): dir='s bits 8-23. */
  nameTag: number;
}

export type BpftraceRecord =
  /**
   * `key` is the ns to sort by (entry ns for close/close_range/munmap); null for `lost`. `printed`: the
   * event's own ns (its `time`) as a bigint, when the parser made one (the reader needs it too).
   */
  | { type: 'event'; event: TraceEvent; key: bigint | null; cpu: number; realDir?: RealDirRef; printed?: bigint }
  | { type: 'half'; half: Half }
  /** The second record of a rename/link/symlink: joinHalf() makes the event once its half is known. */
  | { type: 'second'; kind: 'rename' | 'link' | 'symlink'; tid: number; ns: string; text: string; place: Place; lines: number[] }
  | { type: 'dir'; dir: DirRecord }
  /** The generation of the file thread `tid`'s open reached (inode `ino`), printed just before that open's record. */
  | { type: 'gen'; tid: number; ino: number; gen: number }
  | { type: 'marker'; marker: Marker }
  /** A readable record the engine does not need: failed calls. */
  | { type: 'ignored'; reason: string }
  | { type: 'diagnostic'; diagnostic: Diagnostic };

export type SecondRecord = Extract<BpftraceRecord, { type: 'second' }>;

/** A logical line: one record, possibly spread over several physical lines. */
export interface LogicalLine {
  text: string;
  /** Physical line numbers, first one first. */
  lines: number[];
  /** Set when the line follows a record ending in `path=` but cannot be the rest of that path: why (ContinuationJoiner). */
  notPath?: string;
  /** A line of a keyed capture (format 2) without its key, and no rest of a path: not the script's (ContinuationJoiner). */
  unkeyed?: true;
  /** A keyed record whose path never ended with the key: the trace was cut as bpftrace wrote it (ContinuationJoiner). */
  unclosed?: true;
}

/** True when these first lines of an input come from orphanmap.bt (or at least bpftrace). */
export function looksLikeBpftrace(firstLines: string[]): boolean {
  return firstLines.some((line) => {
    if (line.startsWith('orphanmap-bt ') || ATTACHING.test(line) || KEYED_LINE.test(line)) return true;
    const head = scanRecordHead(line);
    return head !== null && EVENT_NAMES.has(headName(line, head)) && line.includes('=');
  });
}

/**
 * What every event decoder needs from the record it decodes. A class, not an
 * object of closures: one object a record (the closures and their context
 * were three more), and what few records need is made when asked.
 */
class RecordContext {
  constructor(
    readonly name: string,
    readonly tid: number,
    readonly ns: string,
    readonly place: Place,
    /** The physical lines the joiner gave the record, if it gave any (else the record's own line is its only one). */
    private readonly joinedLines: number[] | undefined,
    readonly text: string,
    readonly path: string | undefined,
    /** The header of the record's event (place, time, ids, raw text): made for it alone, and made into it by headed(). */
    readonly base: EventBase,
    readonly f: FieldReader,
    private readonly cpu: number,
  ) {}

  /** The physical lines of the record: a rename's or link's two halves keep them. */
  get lines(): number[] {
    return this.joinedLines ?? [this.place.line];
  }

  /** The event, keyed by `key` (the record's own ns when undefined), or a diagnostic naming the fields that were missing or bad. */
  event(e: TraceEvent, key?: bigint): BpftraceRecord {
    const { f } = this;
    if (f.missing.length > 0) return this.bad(`${this.name}: missing or bad ${f.missing.join(', ')}`);
    const printed = BigInt(this.ns);
    return { type: 'event', event: e, key: key ?? printed, cpu: this.cpu, printed };
  }

  /** An ignored record when `ret` says the call failed, else null. */
  failed(ret: number): BpftraceRecord | null {
    return ret < 0 ? { type: 'ignored', reason: `${this.name} failed (${ret})` } : null;
  }

  bad(reason: string): BpftraceRecord {
    return badRecord(this.place, this.text, reason);
  }
}

function badRecord(place: Place, text: string, reason: string): BpftraceRecord {
  return { type: 'diagnostic', diagnostic: { place, text, reason } };
}

/** The call's entry (`ens`), when the record has one, in seconds (EventBase.enteredSeconds). */
function setEntered(event: EventBase, f: FieldReader): void {
  // A number, not a bigint: seconds need no more than a double holds (as EventBase.seconds).
  const ens = f.optionalInt('ens');
  if (ens !== undefined) event.enteredSeconds = ens / 1e9;
}

/**
 * The record's event: its header (`c.base`, made for this record alone) with
 * the call's own fields after it, in the order `{ ...base, … }` gave them.
 * Not a spread: V8 (Node 20) copies an object spread followed by more fields
 * the slow way, 2 to 5 µs an event whatever its size, which was most of a
 * bpftrace record's parse (bench/results.md, thirty-fifth session).
 */
function headed<E extends TraceEvent>(c: RecordContext, fields: Omit<E, keyof EventBase>): E {
  return Object.assign(c.base, fields) as E;
}

/**
 * Parses one logical line. `lineNo` is its first physical line; pass `lines`
 * when the joiner made it of several.
 */
export function parseBpftraceLine(text: string, lineNo: number, file: string, lines?: number[]): BpftraceRecord {
  const place: Place = { file, line: lineNo };
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.trim() === '') return { type: 'marker', marker: { kind: 'blank', place } };

  const head = scanRecordHead(text);
  if (head === null) return parseMarkerLine(text, place, (reason) => badRecord(place, text, reason));
  // Read from the head before anything scans another line: it is overwritten then.
  const name = headName(text, head);
  const ns = text.slice(0, head.nsEnd);
  const { end: headEnd, cpuStart, tgidStart, tidStart, nameStart } = head;
  if (!EVENT_NAMES.has(name)) return badRecord(place, text, `unknown event "${name}"`);
  if (name === 'end') return { type: 'marker', marker: { kind: 'end', place, ns } };
  // 1498798120442 1 26602 26602 stop
  // ^^^^^^^^^^^^^ the capture began to stop: the reader leaves out every record keyed after it
  if (name === 'stop')
    return text.length === headEnd ? { type: 'marker', marker: { kind: 'stop', place, ns, tgid: numberAt(text, tgidStart, tidStart - 1) } } : badRecord(place, text, 'stop record with fields');

  // 1498786458066 0 26514 26581 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=/tmp/omw/data dir/00000000.index.deleted
  //                                                                                       ^^^^^^ path: to the end, blanks and all
  const rest = text.slice(headEnd);
  const pathAt = rest.startsWith('path=') ? 0 : rest.indexOf(' path=');
  const path = pathAt < 0 ? undefined : rest.slice(pathAt === 0 ? 5 : pathAt + 6);
  const fields = parseFields(pathAt < 0 ? rest : rest.slice(0, pathAt));
  if (fields === null) return badRecord(place, text, 'a field is not key=value');
  if (EVENT_NAMES.get(name) && path === undefined) return badRecord(place, text, `${name} record without path=`);

  // The trailer alone prints 0 0 (above); every record is a thread's, named by ids the kernel can hand out.
  const tid = idAt(text, tidStart, nameStart - 1);
  const tgid = idAt(text, tgidStart, tidStart - 1);
  if (Number.isNaN(tid) || Number.isNaN(tgid)) return badRecord(place, text, TID_RANGE_REASON);
  const base: EventBase = {
    place,
    time: ns,
    seconds: Number(ns) / 1e9,
    tid,
    tgid,
    raw: text,
  };
  if (lines !== undefined && lines.length > 1) base.lines = lines;
  const cpu = numberAt(text, cpuStart, tgidStart - 1);
  const context = new RecordContext(name, tid, ns, place, lines, text, path, base, new FieldReader(fields), cpu);
  return decodeFileRecord(context) ?? decodeMemoryRecord(context) ?? context.bad(`unknown event "${name}"`);
}

/** Records about fds, names and directories; null for the others. */
function decodeFileRecord(c: RecordContext): BpftraceRecord | null {
  const { f } = c;
  switch (c.name) {
    case 'rename.old':
    case 'link.old':
    case 'symlink.old':
      return { type: 'half', half: { kind: c.name, tid: c.tid, ns: c.ns, path: c.path!, place: c.place, raw: c.text, lines: c.lines } };
    case 'rename':
    case 'link':
    case 'symlink':
      return { type: 'second', kind: c.name, tid: c.tid, ns: c.ns, text: c.text, place: c.place, lines: c.lines };
    case 'open':
      return decodeOpen(c);
    case 'close': {
      const ret = f.int('ret');
      // The fd is released at entry, and also when close fails with anything but EBADF.
      const close = headed<CloseEvent>(c, { kind: 'close', fd: f.int('fd') });
      // Absent from captures made before the script printed them; a count is the inode's, and only with one.
      const nlink = f.optionalInt('nlink');
      const ino = f.optionalInt('ino');
      const dev = f.optionalInt('dev');
      if (nlink !== undefined && ino !== undefined && ino !== 0 && dev !== undefined) {
        close.nlink = nlink;
        close.inode = { dev, ino };
      }
      const e = c.event(close, f.big('ens'));
      return failedUnlessBad(e, ret === EBADF ? c.failed(ret) : null);
    }
    case 'close_range': {
      const ret = f.int('ret');
      const e = c.event(headed<CloseRangeEvent>(c, { kind: 'close-range', low: f.int('fd'), high: f.int('max'), cloexecOnly: (f.int('flags') & CLOSE_RANGE_CLOEXEC) !== 0 }), f.big('ens'));
      return failedUnlessBad(e, c.failed(ret));
    }
    case 'dup': {
      const ret = f.int('ret');
      return failedUnlessBad(c.event(headed<DupEvent>(c, { kind: 'dup', oldFd: f.int('oldfd'), newFd: ret, cloexec: f.int('cloexec') !== 0 })), c.failed(ret));
    }
    case 'setfd': {
      const ret = f.int('ret');
      return failedUnlessBad(c.event(headed<SetCloexecEvent>(c, { kind: 'set-cloexec', fd: f.int('fd'), cloexec: (f.int('fdflags') & 1) !== 0 })), c.failed(ret));
    }
    case 'unlink': {
      const ret = f.int('ret');
      const nlink = f.optionalInt('nlink');
      const unlink = headed<UnlinkEvent>(c, { kind: 'unlink', dir: dirRef(f.int('dfd')), path: c.path!, removeDir: (f.int('flags') & AT_REMOVEDIR) !== 0 });
      setInode(unlink, f);
      if (nlink !== undefined) unlink.nlinkAfter = nlink;
      // Ordered by its entry, as a rename is (bpftrace-halves.ts); captures before it have no ens.
      const e = c.event(unlink, f.optionalBig('ens'));
      return failedUnlessBad(e, c.failed(ret));
    }
    case 'chdir': {
      const ret = f.int('ret');
      return failedUnlessBad(c.event(headed<ChdirEvent>(c, { kind: 'chdir', path: c.path! })), c.failed(ret));
    }
    case 'fchdir': {
      const ret = f.int('ret');
      return failedUnlessBad(c.event(headed<ChdirEvent>(c, { kind: 'chdir', fd: f.int('fd') })), c.failed(ret));
    }
    case 'dir':
      return decodeDir(c);
    case 'gen': {
      const ino = f.int('ino');
      const gen = f.int('gen');
      if (f.missing.length > 0 || ino <= 0 || gen < 0) return c.bad(`gen: missing or bad ${f.missing.length > 0 ? f.missing.join(', ') : ino <= 0 ? 'ino' : 'gen'}`);
      return { type: 'gen', tid: c.tid, ino, gen };
    }
    default:
      return null;
  }
}

/** Records about sizes, mappings and tasks; null for the others. */
function decodeMemoryRecord(c: RecordContext): BpftraceRecord | null {
  const { f } = c;
  switch (c.name) {
    case 'ftruncate': {
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      const truncate = headed<TruncateEvent>(c, { kind: 'truncate', fd: f.int('fd'), length: f.offset('len') });
      setInode(truncate, f);
      setLinkCount(truncate, f);
      return failedUnlessBad(c.event(truncate), c.failed(ret));
    }
    case 'truncate': {
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      return failedUnlessBad(c.event(headed<TruncateEvent>(c, { kind: 'truncate', path: c.path!, dir: { fd: 'cwd' }, length: f.offset('len') })), c.failed(ret));
    }
    case 'mmap': {
      const ret = f.big('ret');
      const fd = f.int('fd');
      const failedCall = ret >= FIRST_ERROR_ADDRESS && ret < ADDRESS_SPACE_END;
      f.checkRanges = !failedCall;
      const address = f.address('ret', ret);
      const flags = f.int('flags');
      const mmap = headed<MmapEvent>(c, { kind: 'mmap', address, length: f.size('len', address), prot: f.int('prot'), flags, fd, offset: f.offset('off') });
      if (fd >= 0) {
        setInode(mmap, f);
        setLinkCount(mmap, f);
      }
      // Only an mmap over what is there (MAP_FIXED) releases a mapping, as it starts: the entry is asked of no other.
      if ((flags & MAP_FIXED) !== 0) setEntered(mmap, f);
      const e = c.event(mmap);
      return failedUnlessBad(e, failedCall ? { type: 'ignored', reason: 'mmap failed' } : null);
    }
    case 'munmap': {
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      const address = f.address('addr');
      const ens = f.big('ens');
      const munmap = headed<MunmapEvent>(c, { kind: 'munmap', address, length: f.size('len', address) });
      munmap.enteredSeconds = Number(ens) / 1e9;
      return failedUnlessBad(c.event(munmap, ens), c.failed(ret));
    }
    case 'madvise': {
      // Only MADV_DONTFORK (10) and MADV_DOFORK (11) are printed, and only when they succeeded.
      const ret = f.int('ret');
      f.checkRanges = ret >= 0;
      const address = f.address('addr');
      const advice = f.int('advice');
      if (advice !== MADV_DONTFORK && advice !== MADV_DOFORK) return c.bad(`madvise with advice ${advice}, which the script does not print`);
      return failedUnlessBad(c.event(headed<MadviseEvent>(c, { kind: 'madvise', address, length: f.size('len', address), dontFork: advice === MADV_DONTFORK })), c.failed(ret));
    }
    case 'mremap': {
      const ret = f.big('ret');
      const failedCall = ret >= FIRST_ERROR_ADDRESS && ret < ADDRESS_SPACE_END;
      f.checkRanges = !failedCall;
      const oldAddress = f.address('addr');
      const newAddress = f.address('ret', ret);
      const mremap = headed<MremapEvent>(c, {
        kind: 'mremap',
        oldAddress,
        oldLength: f.size('old_len', oldAddress),
        newLength: f.size('new_len', newAddress),
        flags: f.int('flags'),
        newAddress,
      });
      setEntered(mremap, f);
      const e = c.event(mremap);
      return failedUnlessBad(e, failedCall ? { type: 'ignored', reason: 'mremap failed' } : null);
    }
    case 'clone':
      return c.event(headed<CloneEvent>(c, { kind: 'clone', childTid: f.tid('child'), flags: f.int('flags') }));
    case 'exec': {
      const oldTid = f.tid('old_tid');
      const exec = headed<ExecEvent>(c, { kind: 'exec', path: c.path! });
      if (oldTid !== c.tid) exec.formerTid = oldTid;
      return c.event(exec);
    }
    case 'exit':
      return c.event(headed<ThreadExitEvent>(c, { kind: 'thread-exit', how: describeWaitStatus(f.int('code')), groupDead: f.int('group_dead') !== 0 }));
    case 'blind': {
      // 1498786270073 0 26514 26514 blind sys=chroot ret=0: a call after which the trace cannot follow files (BlindSpotEvent).
      const call = f.fields.get('sys');
      // sys=stash, sys=track: the script's own maps were full, and calls of the thread or process went unprinted.
      if (call === 'stash' || call === 'track') return c.event(headed<BlindSpotEvent>(c, { kind: 'blind-spot', call, missed: 'calls' }));
      if (call === undefined || !(BLIND_SPOT_CALLS as readonly string[]).includes(call)) return c.bad(`blind record with sys=${call ?? ''}`);
      const ret = f.int('ret');
      return failedUnlessBad(c.event(headed<BlindSpotEvent>(c, { kind: 'blind-spot', call })), c.failed(ret));
    }
    default:
      return null;
  }
}

// 15897203308146 1 32427 32427 open sys=openat ret=3 dfd=-100 flags=0x80042 ino=2303499 dev=266338304 dir=0xd2b11b8715828707 path=rel.map
//   dir=0x d2b11b8715 8287 07: the directory's id (its low 24 bits clear), a tag of the file's name there (bpftrace-dirs.ts), the name's length
function decodeOpen(c: RecordContext): BpftraceRecord {
  const { f } = c;
  const ret = f.int('ret');
  const flags = f.int('flags');
  const dir = f.fields.has('dir') ? f.big('dir') : 0n;
  const open = headed<OpenEvent>(c, { kind: 'open', dir: dirRef(f.int('dfd')), path: c.path!, fd: ret, cloexec: (flags & O_CLOEXEC) !== 0 });
  setInode(open, f);
  const e = c.event(open);
  // Set only on an O_TMPFILE open (rare): every other open keeps the shape it had.
  if (e.type === 'event' && (flags & O_TMPFILE) === O_TMPFILE) (e.event as OpenEvent).tmpfile = true;
  else if (e.type === 'event' && (flags & O_CREAT_EXCL) === O_CREAT_EXCL) (e.event as OpenEvent).created = true;
  else if (e.type === 'event' && (flags & O_TRUNC) !== 0) {
    (e.event as OpenEvent).truncated = true;
    if ((flags & O_CREAT) !== 0) (e.event as OpenEvent).mayCreate = true;
  }
  if (e.type === 'event' && dir !== 0n) e.realDir = { id: dir & ~NAME_BITS, nameBytes: Number(dir & NAME_LENGTH_BITS), nameTag: Number((dir >> 8n) & 0xffffn) };
  return failedUnlessBad(e, c.failed(ret));
}

// 11475961919829 0 29545 29545 dir id=0xe5e58de7a2008f00 up=0xe5e58de7a2008300 len=4 name=7265616c00000000…
//                                                                                    ^^^^^^^^ "real": the name's bytes in hex
function decodeDir(c: RecordContext): BpftraceRecord {
  const { f } = c;
  const id = f.big('id');
  const up = f.big('up');
  const length = f.int('len');
  const hex = f.fields.get('name') ?? '';
  if (f.missing.length > 0 || length < 0 || !/^(?:[0-9a-f]{2}){1,64}$/i.test(hex)) return c.bad(`dir: missing or bad ${[...f.missing, 'name'].join(', ')}`);
  const cut = length > DIR_NAME_BYTES || length > hex.length / 2;
  // A mount's root is printed with length 0: its path is its mount point's.
  const name = length === 0 || cut ? null : decodeBytes(Buffer.from(hex.slice(0, length * 2), 'hex'));
  return { type: 'dir', dir: { id, up, name, cut } };
}

function failedUnlessBad(record: BpftraceRecord, failure: BpftraceRecord | null): BpftraceRecord {
  return record.type === 'diagnostic' || failure === null ? record : failure;
}

export function dirRef(dfd: number): DirRef {
  return dfd === AT_FDCWD ? { fd: 'cwd' } : { fd: dfd };
}

/**
 * `nlink=` of an mmap or ftruncate: the link count of the fd's file, read as
 * the call returns. Only with an inode: `ino=0` reads no file, and its 0 is no count.
 */
function setLinkCount(event: MmapEvent | TruncateEvent, f: FieldReader): void {
  const ino = f.optionalInt('ino');
  const nlink = f.optionalInt('nlink');
  if (ino !== undefined && ino !== 0 && nlink !== undefined) event.nlink = nlink;
}

/** `ino=0` means the script could not resolve a file (failed call, anonymous mapping). */
function setInode(event: OpenEvent | UnlinkEvent | MmapEvent | TruncateEvent, f: FieldReader): void {
  const ino = f.optionalInt('ino');
  const dev = f.optionalInt('dev');
  if (ino !== undefined && ino !== 0 && dev !== undefined) event.inode = { dev, ino };
}

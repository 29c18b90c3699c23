// One strace output line in, one typed record out. Pure: no I/O, no throwing
// on bad input (a line we cannot read becomes a `bad` record).
//
// Shapes handled (docs/trace-formats.md, "Line prefixes" and "Times"):
//   13725 1795544192.489878 mmap(NULL, 4096, …, 5, 0 <unfinished ...>     -f -o, -ttt
//   [pid 13734] <... rseq resumed>)         = 0                          -f to stderr
//   14004<fmtdemo> close(50)                = 0                          -Y thread names
//   18:16:32.478150 openat(AT_FDCWD, "/x", O_RDONLY) = 3                 no pid prefix (-ff, one process)
//   13816      0.000543 openat(…                                          -r relative
//   13834 18:16:32 (+     0.000479) openat(…                              -t -r
//   [ 257] openat(…   [00007f7b1a6bb011] openat(…                        -n, -i

import { decodeCString } from './c-string.js';

export { decodeCString };

/**
 * The largest thread or process id Linux can hand out. The kernel allocates
 * ids below pid_max, and pid_max can be set to at most PID_MAX_LIMIT, 2^22 on
 * 64-bit (include/linux/threads.h; 32768 on 32-bit), in every pid namespace.
 * pid_t is a 32-bit int, but no id reaches past this one: a number outside 1 to
 * MAX_TID where a trace prints an id is a corrupt or forged line, never rounded
 * into one (99999999999999999999 would be read as 1e20, and two such tids
 * rounding to one double would be one thread). The evidence store
 * (src/ingest/evidence.ts) relies on tids being below 2^22 too.
 */
export const MAX_TID = 4_194_303;

/** Whether `value` can be a Linux thread or process id: a whole number from 1 to MAX_TID. */
export function isTid(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_TID;
}

/** An id printed as decimal digits (at most 10 are read), or NaN when it cannot be one (isTid). */
export function tidFromDigits(digits: string): number {
  const value = /^\d{1,10}$/.test(digits) ? Number(digits) : Number.NaN;
  return isTid(value) ? value : Number.NaN;
}

/** Why a line whose thread or process id is out of range is unreadable. */
export const TID_RANGE_REASON = `thread id out of range (a Linux thread or process id is a whole number from 1 to ${MAX_TID})`;

/** scanPrefix's result for a pid prefix whose id no Linux thread can have. */
export const TID_OUT_OF_RANGE = -2;

export interface LinePrefix {
  tid: number | null;
  comm?: string;
  time: string | null;
  /** Seconds: epoch for -ttt, since midnight for -t/-tt, null for none. */
  seconds: number | null;
  /** A -r delta in seconds, to be accumulated by the caller. */
  relative: number | null;
}

export type CallStatus = 'complete' | 'unfinished' | 'resumed' | 'detached' | 'pid-changed';

export interface CallRecord extends LinePrefix {
  type: 'call';
  status: CallStatus;
  name: string;
  /**
   * For complete and unfinished calls, the text from the opening parenthesis's
   * next character on (without " <unfinished ...>"); for resumed ones, the text
   * after "<... NAME resumed>".
   */
  body: string;
}

export interface ExitRecord extends LinePrefix {
  type: 'exit';
  /** "exited with 0", "killed by SIGKILL (core dumped)" */
  how: string;
  /** `+++ superseded by execve in pid N +++`: N is the thread that exec'd. */
  supersededBy?: number;
}

export interface SignalRecord extends LinePrefix {
  type: 'signal';
  text: string;
}

/** `strace: Process 14181 attached with 3 threads`, `strace: Process N detached`. */
export interface MessageRecord {
  type: 'message';
  text: string;
  attachedPid?: number;
  detachedPid?: number;
}

/** Lines that carry nothing for correlation: -k stack frames, blank lines. */
export interface SkipRecord {
  type: 'skip';
}

/** A bare `)   = 0` continuation (strace 6.1 with -z/-Z/--status). */
export interface ContinuationRecord {
  type: 'continuation';
  body: string;
}

export interface BadRecord {
  type: 'bad';
  reason: string;
}

export type StraceRecord = CallRecord | ExitRecord | SignalRecord | MessageRecord | SkipRecord | ContinuationRecord | BadRecord;

/**
 * A line's prefix and call as positions in its text, filled in place by
 * scanPrefix and scanCall: the numbers are read, no string is made. The
 * reader keeps one and decides from it whether a line matters before it
 * copies anything out of the line.
 */
export interface LineScan {
  tid: number | null;
  /** The -Y thread name as printed (escaped): text[commStart, commEnd); -1 when none. */
  commStart: number;
  commEnd: number;
  /** The absolute timestamp as printed: text[timeStart, timeEnd); -1 when none. */
  timeStart: number;
  timeEnd: number;
  seconds: number | null;
  relative: number | null;
  /**
   * The prefix surely holds no "(" and no "<": no -Y name with one, no
   * "(+ 0.000479)", no -n/-i bracket. (strace escapes '<' in names.)
   */
  plain: boolean;
  status: CallStatus;
  /** The call's name: text[nameStart, nameEnd). */
  nameStart: number;
  nameEnd: number;
  /** CallRecord.body: text[bodyStart, bodyEnd). */
  bodyStart: number;
  bodyEnd: number;
}

export function newLineScan(): LineScan {
  return { tid: null, commStart: -1, commEnd: -1, timeStart: -1, timeEnd: -1, seconds: null, relative: null, plain: true, status: 'complete', nameStart: 0, nameEnd: 0, bodyStart: 0, bodyEnd: 0 };
}

/** For prefixTidOutOfRange: readPid writes into it, and nothing reads it. */
const SCRATCH_SCAN = newLineScan();

const UNFINISHED = ' <unfinished ...>';
const DETACHED = ' <detached ...>';
const RESUMED_OPEN = '<... ';
const RESUMED_CLOSE = ' resumed>';

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isNameChar(code: number): boolean {
  // a-z, A-Z, 0-9, _
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || isDigit(code) || code === 95;
}

function readDigits(text: string, from: number): number {
  let i = from;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  return i;
}

/** Parse one physical line of strace output. */
export function parseStraceLine(text: string): StraceRecord {
  if (text.length === 0) return { type: 'skip' };
  if (text.startsWith('strace: ')) return parseMessage(text);
  if (text.startsWith(' > ')) return { type: 'skip' }; // -k stack frame
  if (text.charCodeAt(0) === 41 /* ) */) return { type: 'continuation', body: text };

  const scan = newLineScan();
  const i = scanPrefix(text, scan);
  if (i < 0) return { type: 'bad', reason: i === TID_OUT_OF_RANGE ? TID_RANGE_REASON : 'malformed pid prefix' };
  const prefix: LinePrefix = { tid: scan.tid, time: scan.timeStart < 0 ? null : text.slice(scan.timeStart, scan.timeEnd), seconds: scan.seconds, relative: scan.relative };
  if (scan.commStart >= 0) prefix.comm = unescapeComm(text.slice(scan.commStart, scan.commEnd));
  return parseBody(text, i, prefix, scan);
}

/**
 * Reads the pid, thread name and timestamps that start a line into `scan`
 * (everything else in it is left as it was), and returns where the rest
 * begins: -1 for a malformed pid prefix, TID_OUT_OF_RANGE for one whose id
 * no Linux thread can have.
 */
export function scanPrefix(text: string, scan: LineScan): number {
  scan.tid = null;
  scan.commStart = -1;
  scan.timeStart = -1;
  scan.seconds = null;
  scan.relative = null;
  scan.plain = true;
  const i = readPid(text, scan, 0);
  if (i < 0) return i;
  if (scan.commStart >= 0) scan.plain = plainText(text, scan.commStart, scan.commEnd);
  const at = readTimestamps(text, i, scan);
  const end = skipBracketed(text, at); // -n syscall number, -i instruction pointer
  if (end !== at) scan.plain = false;
  return end;
}

/** text[start, end) holds no "(" and no "<". */
function plainText(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c === 40 || c === 60) return false;
  }
  return true;
}

// "13725 " | "13725<kafka-scheduler> " | "[pid 13734] " | "[pid 13734<comm>] " | nothing
// The prefix starts at `from` (0 for a line; the line filter passes where its line starts).
function readPid(text: string, out: LineScan, from: number): number {
  if (text.startsWith('[pid ', from)) {
    let i = from + 5;
    while (text.charCodeAt(i) === 32) i++;
    const end = readDigits(text, i);
    if (end === i) return -1;
    const tid = tidValue(text, i, end);
    if (!isTid(tid)) return TID_OUT_OF_RANGE;
    out.tid = tid;
    const j = end;
    if (text.charCodeAt(j) === 60 /* < */) {
      const close = text.indexOf('>] ', j);
      if (close < 0) return -1;
      out.commStart = j + 1;
      out.commEnd = close;
      return close + 3;
    }
    if (!text.startsWith('] ', j)) return -1;
    return j + 2;
  }
  // The digits read and summed in one pass (tidValue's value, for at most 10 of them).
  let end = from;
  let sum = 0;
  for (let c = text.charCodeAt(end); c >= 48 && c <= 57; c = text.charCodeAt(++end)) sum = sum * 10 + (c - 48);
  if (end === from) return from;
  const digitsRead = end - from > 10 ? -1 : sum;
  const next = text.charCodeAt(end);
  if (next === 60 /* < */) {
    // -Y: the comm has '<' and '>' escaped as \74 \76, so the first "> " ends it.
    const close = text.indexOf('> ', end);
    if (close < 0) return -1;
    const tid = digitsRead;
    if (!isTid(tid)) return TID_OUT_OF_RANGE;
    out.tid = tid;
    out.commStart = end + 1;
    out.commEnd = close;
    return close + 2;
  }
  if (next !== 32) return from; // "18:16:32…" or "1795544192.48…": a timestamp, not a pid
  const value = digitsRead;
  if (!isTid(value)) {
    // "1795544192 openat(" (--timestamps=unix,s): 9 or 10 digits, from 1973 to 2286.
    // No other number starts a line: anything else there was meant as a pid.
    if (value >= EPOCH_SECONDS_FROM) return from;
    return TID_OUT_OF_RANGE;
  }
  out.tid = value;
  let i = end;
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

/** The smallest whole number of seconds a line starts with that is read as an epoch time, not a pid (readTimestamps reads the same). */
const EPOCH_SECONDS_FROM = 100_000_000;

/** The value of the digits text[start, end) when there are at most 10 of them (-1 for more): enough for any id or epoch second. */
function tidValue(text: string, start: number, end: number): number {
  return end - start > 10 ? -1 : digitsValue(text, start, end);
}

/** Whether a line whose pid prefix is out of range is otherwise a strace line: a call, an exit or a signal (a slow path, for unreadable lines only). */
export function straceShapeBesidesTid(text: string): boolean {
  const type = parseStraceLine(text.replace(/^(\[pid +)?\d+/, '$11')).type;
  return type === 'call' || type === 'exit' || type === 'signal';
}

/**
 * Whether the line text[start…] starts with a pid prefix ("1234 ", "1234<comm> ",
 * "[pid 1234] ") whose id no Linux thread can have: the line filter leaves such
 * a line to the reader, which says it is unreadable.
 */
export function prefixTidOutOfRange(text: string, start: number): boolean {
  // The usual strace -f prefix, "N " with N in range, is decided in a few
  // steps: the whole read cost 70 ns a line, 8 % of an unfiltered trace's
  // CLI run, asked for every line the skip filter takes.
  let i = start;
  let value = 0;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
    if (i - start === 7) break;
    value = value * 10 + (c - 48);
  }
  if (i > start && value >= 1 && value <= MAX_TID && text.charCodeAt(i) === 32) return false;
  return readPid(text, SCRATCH_SCAN, start) === TID_OUT_OF_RANGE;
}

/**
 * The thread id of strace -f's usual prefix ("13725 ", "13725<comm> ") at
 * `start`, or 0 for any other line: what the line filter notes of each line
 * it skips, in a few steps (StraceReader.lowestSkippedTid).
 */
export function plainPrefixTid(text: string, start: number): number {
  let i = start;
  let value = 0;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) {
    if (i - start === 7) return 0;
    value = value * 10 + (c - 48);
  }
  const next = text.charCodeAt(i);
  return i > start && value >= 1 && value <= MAX_TID && (next === 32 || next === 60) ? value : 0;
}

/** The value of the decimal digits from `start` to `end`, as Number() reads them. */
function digitsValue(text: string, start: number, end: number): number {
  // Past 15 digits a sum loses precision that Number() does not.
  if (end - start > 15) return Number(text.slice(start, end));
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (text.charCodeAt(i) - 48);
  return value;
}

/**
 * Number(text.slice(start, end)) for "1795606335.397642": the digits as one
 * integer below 2^53, divided by a power of ten. Both are exact doubles, so
 * the quotient is the correctly rounded value of the decimal, as Number()'s
 * is. Any other shape is left to Number().
 */
function decimalValue(text: string, start: number, end: number): number {
  let whole = 0;
  let point = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */ && point < 0 && i > start) point = i;
    else if (c >= 48 && c <= 57) whole = whole * 10 + (c - 48);
    else return Number(text.slice(start, end));
  }
  const decimals = point < 0 ? 0 : end - point - 1;
  if (whole > Number.MAX_SAFE_INTEGER || decimals === 0 || decimals > 9) return Number(text.slice(start, end));
  return whole / POWERS_OF_TEN[decimals]!;
}

const POWERS_OF_TEN = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

function unescapeComm(comm: string): string {
  return comm.indexOf('\\') < 0 ? comm : decodeCString(comm);
}

function readTimestamps(text: string, from: number, out: LineScan): number {
  let i = readEpochStamp(text, from, out);
  if (i >= 0) return readRelative(text, i, out);
  i = from;
  // Absolute: HH:MM:SS[.frac] or EPOCH[.frac]
  const digitsEnd = readDigits(text, i);
  if (digitsEnd > i) {
    const after = text.charCodeAt(digitsEnd);
    if (after === 58 /* : */ && digitsEnd - i === 2) {
      const space = text.indexOf(' ', i);
      if (space > i) {
        const seconds = clockSeconds(text.slice(i, space));
        if (seconds !== null) {
          out.timeStart = i;
          out.timeEnd = space;
          out.seconds = seconds;
          i = space + 1;
        }
      }
    } else if (after === 46 /* . */ || after === 32) {
      // "1795544192.489878 " is an epoch stamp (-ttt); "0.000543 " a -r delta
      // (its leading padding was eaten with the pid's).
      const space = text.indexOf(' ', i);
      const value = space > i ? decimalValue(text, i, space) : NaN;
      if (Number.isFinite(value)) {
        if (value >= EPOCH_SECONDS_FROM) {
          out.timeStart = i;
          out.timeEnd = space;
          out.seconds = value;
        } else {
          out.relative = value;
        }
        i = space + 1;
      }
    }
  }
  return readRelative(text, i, out);
}

/**
 * The usual -ttt stamp, "1795606335.397642 ", read in one pass: what the
 * general code reads for it (decimalValue's value), or -1 for any other
 * shape, left to that code.
 */
function readEpochStamp(text: string, from: number, out: LineScan): number {
  let whole = 0;
  let i = from;
  let c = text.charCodeAt(i);
  for (; c >= 48 && c <= 57; c = text.charCodeAt(++i)) whole = whole * 10 + (c - 48);
  if (i === from || c !== 46 /* . */) return -1;
  const point = i;
  for (c = text.charCodeAt(++i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) whole = whole * 10 + (c - 48);
  const decimals = i - point - 1;
  if (c !== 32 || decimals === 0 || decimals > 9 || whole > Number.MAX_SAFE_INTEGER) return -1;
  const value = whole / POWERS_OF_TEN[decimals]!;
  if (value < EPOCH_SECONDS_FROM) return -1; // a -r delta
  out.timeStart = from;
  out.timeEnd = i;
  out.seconds = value;
  return i + 1;
}

function readRelative(text: string, from: number, out: LineScan): number {
  let i = from;
  // Relative: "     0.000543 " (alone) or "(+     0.000479) " (after -t)
  if (text.charCodeAt(i) === 40 /* ( */ && text.charCodeAt(i + 1) === 43 /* + */) {
    const close = text.indexOf(') ', i);
    if (close > 0) {
      out.plain = false;
      const value = Number(text.slice(i + 2, close).trim());
      if (Number.isFinite(value)) out.relative = value;
      i = close + 2;
    }
  } else if (out.timeStart < 0 && out.relative === null && text.charCodeAt(i) === 32) {
    let j = i;
    while (text.charCodeAt(j) === 32) j++;
    const end = text.indexOf(' ', j);
    if (end > j) {
      const value = Number(text.slice(j, end));
      if (Number.isFinite(value) && text.charCodeAt(readDigits(text, j)) === 46) {
        out.relative = value;
        i = end + 1;
      }
    }
  }
  return i;
}

function clockSeconds(stamp: string): number | null {
  // HH:MM:SS[.frac]
  if (stamp.length < 8 || stamp.charCodeAt(2) !== 58 || stamp.charCodeAt(5) !== 58) return null;
  const h = Number(stamp.slice(0, 2));
  const m = Number(stamp.slice(3, 5));
  const s = Number(stamp.slice(6));
  if (!Number.isFinite(h) || !Number.isFinite(m) || !Number.isFinite(s)) return null;
  return h * 3600 + m * 60 + s;
}

function skipBracketed(text: string, from: number): number {
  let i = from;
  while (text.charCodeAt(i) === 91 /* [ */) {
    const close = text.indexOf('] ', i);
    if (close < 0) break;
    i = close + 2;
  }
  return i;
}

function parseBody(text: string, i: number, prefix: LinePrefix, scan: LineScan): StraceRecord {
  const first = text.charCodeAt(i);
  if (first === 43 /* + */ && text.startsWith('+++ ', i)) {
    const end = text.lastIndexOf(' +++');
    if (end <= i + 3) return { type: 'bad', reason: 'unterminated +++ marker' };
    const how = text.slice(i + 4, end);
    const record: ExitRecord = withPrefix({ type: 'exit', how }, prefix);
    const superseded = /^superseded by execve in pid (\d+)$/.exec(how);
    if (superseded) {
      record.supersededBy = tidFromDigits(superseded[1]!);
      if (Number.isNaN(record.supersededBy)) return { type: 'bad', reason: TID_RANGE_REASON };
    } else if (!how.startsWith('exited with ') && !how.startsWith('killed by ')) {
      return { type: 'bad', reason: `unknown +++ marker "${how}"` };
    }
    return record;
  }
  if (first === 45 /* - */ && text.startsWith('--- ', i)) {
    return withPrefix<SignalRecord>({ type: 'signal', text: text.slice(i + 4, text.endsWith(' ---') ? -4 : undefined) }, prefix);
  }
  if (!scanCall(text, i, scan)) {
    if (text.startsWith(RESUMED_OPEN, i)) return { type: 'bad', reason: 'malformed "<... resumed>"' };
    return { type: 'bad', reason: unnamedEnd(text, i, text.length) > i ? 'a call strace could not name ("???"), with a value: it may have been any call' : 'not a strace line' };
  }
  return callRecord(scan.status, text.slice(scan.nameStart, scan.nameEnd), text.slice(scan.bodyStart, scan.bodyEnd), prefix);
}

/**
 * Reads the call that starts at `text[i]` (after the prefix) into `scan`: its
 * status, and where its name and body are. False when no call starts there
 * (a `+++`/`---` marker, a malformed resume, anything else).
 *
 *   13725 1795544192.489878 mmap(NULL, 4096, …, 5, 0 <unfinished ...>
 *                           ^^^^ name            body ^^^^^^^^^^^^^^^^^ status
 *   13725 1795544192.489901 <... mmap resumed>) = 0x7f6cd7cdf000
 *                                ^^^^ name    ^^^^^^^^^^^^^^^^^^^^ body
 */
export function scanCall(text: string, i: number, scan: LineScan): boolean {
  if (text.charCodeAt(i) === 60 /* < */ && text.startsWith(RESUMED_OPEN, i)) {
    const close = text.indexOf(RESUMED_CLOSE, i);
    const nameStart = i + RESUMED_OPEN.length;
    if (close < 0 || !isSyscallName(text, nameStart, close)) return false;
    // A call strace could not name is read only as it prints one of a dying thread: with no value.
    if (unnamedEnd(text, nameStart, close) === close && !endsWithNoValue(text)) return false;
    scan.status = 'resumed';
    scan.nameStart = nameStart;
    scan.nameEnd = close;
    scan.bodyStart = close + RESUMED_CLOSE.length;
    scan.bodyEnd = text.length;
    return true;
  }
  // NAME(
  let j = i;
  while (j < text.length && isNameChar(text.charCodeAt(j))) j++;
  const named = j > i;
  if (!named) j = unnamedEnd(text, i, text.length);
  if (j === i || text.charCodeAt(j) !== 40 /* ( */) return false;
  scan.nameStart = i;
  scan.nameEnd = j;
  scan.bodyStart = j + 1;
  scan.status = 'complete';
  scan.bodyEnd = text.length;
  // Every such ending finishes with "...>" (a -T duration ends "4>", a path rarely ".>"): most lines need no endsWith.
  if (text.charCodeAt(text.length - 1) === 62 /* > */ && text.charCodeAt(text.length - 2) === 46 /* . */) {
    if (text.endsWith(UNFINISHED)) {
      scan.status = 'unfinished';
      scan.bodyEnd = text.length - UNFINISHED.length;
    } else if (text.endsWith(DETACHED)) {
      scan.status = 'detached';
      scan.bodyEnd = text.length - DETACHED.length;
    } else if (text.endsWith(' ...>') && text.lastIndexOf(' <pid changed to ') > j) {
      scan.status = 'pid-changed';
      scan.bodyEnd = text.lastIndexOf(' <pid changed to ');
    }
  }
  // …left unfinished, or with no value: one that returned a value may have been any call, an munmap among them.
  return named || scan.status === 'unfinished' || endsWithNoValue(text);
}

/** The line ends with strace's "no value" (`= ?`, maybe `<unavailable>`): a call its thread died in. */
function endsWithNoValue(text: string): boolean {
  return /= \?(?: <unavailable>| <\d+\.\d+>)?$/.test(text);
}

/** A call record, built in one object: a spread of the prefix costs more than the rest of the line. */
function callRecord(status: CallStatus, name: string, body: string, prefix: LinePrefix): CallRecord {
  const record: CallRecord = { type: 'call', status, name, body, tid: prefix.tid, time: prefix.time, seconds: prefix.seconds, relative: prefix.relative };
  if (prefix.comm !== undefined) record.comm = prefix.comm;
  return record;
}

function withPrefix<R extends LinePrefix>(fields: Omit<R, keyof LinePrefix>, prefix: LinePrefix): R {
  const record = fields as R;
  record.tid = prefix.tid;
  record.time = prefix.time;
  record.seconds = prefix.seconds;
  record.relative = prefix.relative;
  if (prefix.comm !== undefined) record.comm = prefix.comm;
  return record;
}

function isSyscallName(text: string, start: number, end: number): boolean {
  if (end === start) return false;
  if (unnamedEnd(text, start, end) === end) return true;
  for (let k = start; k < end; k++) if (!isNameChar(text.charCodeAt(k))) return false;
  return true;
}

/**
 * The end of a call strace could not name at `text[i]` ("???(" or "????("), or
 * `i`. strace prints it when the thread's registers cannot be read at the
 * call's entry: a thread the kernel is killing as another ends the process
 * (seen with strace 6.1 attached to a JVM as it exited: `???( <unfinished
 * ...>`, then `+++ exited with 0 +++`). A call of no name is one the engine
 * does not follow.
 */
function unnamedEnd(text: string, i: number, end: number): number {
  let j = i;
  while (j < end && j - i < 4 && text.charCodeAt(j) === 63 /* ? */) j++;
  return j - i >= 3 ? j : i;
}

function parseMessage(text: string): StraceRecord {
  const attached = /^strace: Process (\d+) attached/.exec(text);
  if (attached) return messageWithPid(text, attached[1]!, 'attachedPid');
  const detached = /^strace: Process (\d+) detached/.exec(text);
  if (detached) return messageWithPid(text, detached[1]!, 'detachedPid');
  return { type: 'message', text };
}

function messageWithPid(text: string, digits: string, key: 'attachedPid' | 'detachedPid'): StraceRecord {
  const pid = tidFromDigits(digits);
  if (Number.isNaN(pid)) return { type: 'bad', reason: TID_RANGE_REASON };
  return { type: 'message', text, [key]: pid };
}

/** Whether "strace: Process N attached" (or detached) names an id a Linux process can have. */
export function messagePidInRange(message: string): boolean {
  const digits = /Process (\d+) /.exec(message);
  return digits !== null && !Number.isNaN(tidFromDigits(digits[1]!));
}

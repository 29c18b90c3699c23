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

/** The largest pid Linux hands out (pid_max limit 2^22): a bigger number is an epoch timestamp. */
const PID_MAX = 4_194_304;

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

  const prefix: LinePrefix = { tid: null, time: null, seconds: null, relative: null };
  let i = readPid(text, prefix);
  if (i < 0) return { type: 'bad', reason: 'malformed pid prefix' };
  i = readTimestamps(text, i, prefix);
  i = skipBracketed(text, i); // -n syscall number, -i instruction pointer
  return parseBody(text, i, prefix);
}

// "13725 " | "13725<kafka-scheduler> " | "[pid 13734] " | "[pid 13734<comm>] " | nothing
function readPid(text: string, out: LinePrefix): number {
  if (text.startsWith('[pid ')) {
    let i = 5;
    while (text.charCodeAt(i) === 32) i++;
    const end = readDigits(text, i);
    if (end === i) return -1;
    out.tid = digitsValue(text, i, end);
    const j = end;
    if (text.charCodeAt(j) === 60 /* < */) {
      const close = text.indexOf('>] ', j);
      if (close < 0) return -1;
      out.comm = unescapeComm(text.slice(j + 1, close));
      return close + 3;
    }
    if (!text.startsWith('] ', j)) return -1;
    return j + 2;
  }
  const end = readDigits(text, 0);
  if (end === 0) return 0;
  const next = text.charCodeAt(end);
  if (next === 60 /* < */) {
    // -Y: the comm has '<' and '>' escaped as \74 \76, so the first "> " ends it.
    const close = text.indexOf('> ', end);
    if (close < 0) return -1;
    out.tid = digitsValue(text, 0, end);
    out.comm = unescapeComm(text.slice(end + 1, close));
    return close + 2;
  }
  if (next !== 32) return 0; // "18:16:32…" or "1795544192.48…": a timestamp, not a pid
  const value = digitsValue(text, 0, end);
  if (value > PID_MAX) return 0; // "1795544192 openat(" (--timestamps=unix,s)
  out.tid = value;
  let i = end;
  while (text.charCodeAt(i) === 32) i++;
  return i;
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

function readTimestamps(text: string, from: number, out: LinePrefix): number {
  let i = from;
  // Absolute: HH:MM:SS[.frac] or EPOCH[.frac]
  const digitsEnd = readDigits(text, i);
  if (digitsEnd > i) {
    const after = text.charCodeAt(digitsEnd);
    if (after === 58 /* : */ && digitsEnd - i === 2) {
      const space = text.indexOf(' ', i);
      if (space > i) {
        const stamp = text.slice(i, space);
        const seconds = clockSeconds(stamp);
        if (seconds !== null) {
          out.time = stamp;
          out.seconds = seconds;
          i = space + 1;
        }
      }
    } else if (after === 46 /* . */ || after === 32) {
      // "1795544192.489878 " is an epoch stamp (-ttt); "0.000543 " a -r delta
      // (its leading padding was eaten with the pid's).
      const space = text.indexOf(' ', i);
      const stamp = space > i ? text.slice(i, space) : '';
      const value = space > i ? decimalValue(text, i, space) : NaN;
      if (Number.isFinite(value)) {
        if (value >= 100_000_000) {
          out.time = stamp;
          out.seconds = value;
        } else {
          out.relative = value;
        }
        i = space + 1;
      }
    }
  }
  // Relative: "     0.000543 " (alone) or "(+     0.000479) " (after -t)
  if (text.charCodeAt(i) === 40 /* ( */ && text.charCodeAt(i + 1) === 43 /* + */) {
    const close = text.indexOf(') ', i);
    if (close > 0) {
      const value = Number(text.slice(i + 2, close).trim());
      if (Number.isFinite(value)) out.relative = value;
      i = close + 2;
    }
  } else if (out.time === null && out.relative === null && text.charCodeAt(i) === 32) {
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

function parseBody(text: string, i: number, prefix: LinePrefix): StraceRecord {
  const first = text.charCodeAt(i);
  if (first === 43 /* + */ && text.startsWith('+++ ', i)) {
    const end = text.lastIndexOf(' +++');
    if (end <= i + 3) return { type: 'bad', reason: 'unterminated +++ marker' };
    const how = text.slice(i + 4, end);
    const record: ExitRecord = withPrefix({ type: 'exit', how }, prefix);
    const superseded = /^superseded by execve in pid (\d+)$/.exec(how);
    if (superseded) record.supersededBy = Number(superseded[1]);
    else if (!how.startsWith('exited with ') && !how.startsWith('killed by ')) {
      return { type: 'bad', reason: `unknown +++ marker "${how}"` };
    }
    return record;
  }
  if (first === 45 /* - */ && text.startsWith('--- ', i)) {
    return withPrefix<SignalRecord>({ type: 'signal', text: text.slice(i + 4, text.endsWith(' ---') ? -4 : undefined) }, prefix);
  }
  if (first === 60 /* < */ && text.startsWith(RESUMED_OPEN, i)) {
    const close = text.indexOf(RESUMED_CLOSE, i);
    if (close < 0) return { type: 'bad', reason: 'malformed "<... resumed>"' };
    const name = text.slice(i + RESUMED_OPEN.length, close);
    if (!isSyscallName(name)) return { type: 'bad', reason: 'malformed "<... resumed>"' };
    const body = text.slice(close + RESUMED_CLOSE.length);
    return callRecord('resumed', name, body, prefix);
  }
  // NAME(
  let j = i;
  while (j < text.length && isNameChar(text.charCodeAt(j))) j++;
  if (j === i || text.charCodeAt(j) !== 40 /* ( */) {
    return { type: 'bad', reason: 'not a strace line' };
  }
  const name = text.slice(i, j);
  // Every such ending finishes with '>': a complete call ends with its value or -T duration.
  if (text.charCodeAt(text.length - 1) === 62 /* > */) {
    if (text.endsWith(UNFINISHED)) return callRecord('unfinished', name, text.slice(j + 1, text.length - UNFINISHED.length), prefix);
    if (text.endsWith(DETACHED)) return callRecord('detached', name, text.slice(j + 1, text.length - DETACHED.length), prefix);
    if (text.endsWith(' ...>') && text.lastIndexOf(' <pid changed to ') > j) {
      return callRecord('pid-changed', name, text.slice(j + 1, text.lastIndexOf(' <pid changed to ')), prefix);
    }
  }
  return callRecord('complete', name, text.slice(j + 1), prefix);
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

function isSyscallName(name: string): boolean {
  if (name.length === 0) return false;
  for (let k = 0; k < name.length; k++) if (!isNameChar(name.charCodeAt(k))) return false;
  return true;
}

function parseMessage(text: string): StraceRecord {
  const attached = /^strace: Process (\d+) attached/.exec(text);
  if (attached) return { type: 'message', text, attachedPid: Number(attached[1]) };
  const detached = /^strace: Process (\d+) detached/.exec(text);
  if (detached) return { type: 'message', text, detachedPid: Number(detached[1]) };
  return { type: 'message', text };
}

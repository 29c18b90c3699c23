// Splitting a complete strace call body into arguments and a return value,
// and reading the argument values this tool needs (fds with their -y
// annotations, strings, numbers, flag sets). Pure.
import { decodeCString } from './c-string.js';
import { flatCopy } from './flat-copy.js';

export interface SplitCall {
  args: string[];
  /** The return text after " = " without the -T duration, or null when the call has none. */
  ret: string | null;
}

/**
 * Where a call's arguments and return value lie in its text, as boundCall
 * finds them: argument k is text[starts[k], ends[k]), trimmed. The decoder
 * reads the few arguments it needs from there, no array of strings made.
 */
export interface CallBounds {
  count: number;
  starts: number[];
  ends: number[];
  /** The return text (splitCall's ret): text[retStart, retEnd); retStart is -1 when the call has none. */
  retStart: number;
  retEnd: number;
  /** Where the argument the text ended in starts (boundHead). */
  openFrom: number;
}

export function newCallBounds(): CallBounds {
  return { count: 0, starts: [], ends: [], retStart: -1, retEnd: -1, openFrom: 0 };
}

/** splitCall(body), in strings: the arguments and the return text. */
export function splitCall(body: string): SplitCall | null {
  const bounds = newCallBounds();
  if (!boundCall(body, 0, bounds)) return null;
  const args: string[] = [];
  for (let k = 0; k < bounds.count; k++) args.push(body.slice(bounds.starts[k], bounds.ends[k]));
  return { args, ret: bounds.retStart < 0 ? null : body.slice(bounds.retStart, bounds.retEnd) };
}

/**
 * Find the argument list's closing parenthesis by lexing, never by searching
 * for ") = ": paths may contain ") = " and so may fd annotations. The body is
 * text[from…]; false when its argument list is not closed.
 *
 *   mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/we\76ird, x.bin>, 0) = 0x7f06f123f000 <0.000062>
 *                                           ^^^^^^^^^^^^^^^^^^^^^^ one argument   ^^^^^^^^^^^^^^ ret
 */
export function boundCall(text: string, from: number, bounds: CallBounds): boolean {
  const close = lexArguments(text, from, bounds);
  if (close < 0) return false;
  readReturn(text, close + 1, bounds);
  return true;
}

/**
 * boundCall of `head + ")…"` as far as the arguments go: they are all in
 * `head`, which a ")" right after it would close. False when that cannot be
 * told from `head` alone (it ends inside a string, an annotation, a comment
 * or brackets, or closes the list itself): the caller joins the texts.
 *
 *   mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 5</d/0.index>, 0 <unfinished ...>
 *        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ head
 *   <... mmap resumed>) = 0x7feb45600000 <0.000096>
 */
export function boundHead(head: string, bounds: CallBounds): boolean {
  // An annotation's "(deleted" at the end reads as "(deleted)" with the ")" after it: only the joined text tells.
  if (head.charCodeAt(head.length - 1) === 100 /* d */ && head.endsWith('(deleted')) return false;
  if (lexArguments(head, 0, bounds) !== OPEN) return false;
  closeArguments(head, bounds, bounds.count, bounds.openFrom, head.length);
  return true;
}

/** lexArguments: the text ended inside the argument list, at its top level (bounds.count and openFrom say where). */
const OPEN = -1;
/** lexArguments: the text ended inside a string, an annotation, a comment or brackets. */
const CUT = -2;

/**
 * The arguments of the list that starts at text[from] (after its "("), into
 * `bounds`; the index of the ")" that closes it, or OPEN or CUT when the
 * text ends first.
 */
function lexArguments(text: string, from: number, bounds: CallBounds): number {
  let count = 0;
  let depth = 0; // ( [ {
  let argStart = from;
  let i = from;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || LEXEMES[c] === 0) {
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      i = skipString(text, i);
      if (i < 0) return CUT;
      continue;
    }
    if (c === 60 /* < */) {
      i = skipAnnotation(text, i);
      if (i < 0) return CUT;
      continue;
    }
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return CUT;
      i = end + 2;
      continue;
    }
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) depth--;
    else if (c === 41 /* ) */) {
      if (depth === 0) {
        closeArguments(text, bounds, count, argStart, i);
        return i;
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0) {
      bound(bounds, count++, text, trimStart(text, argStart, i), i);
      argStart = i + 1;
    }
    i++;
  }
  bounds.count = count;
  bounds.openFrom = argStart;
  return depth === 0 ? OPEN : CUT;
}

/** The list's last argument, text[argStart, close) trimmed, when it has one, and its count. */
function closeArguments(text: string, bounds: CallBounds, count: number, argStart: number, close: number): void {
  let counted = count;
  // "()" has no argument, nor has "( )"; "(a, )" has two.
  if (close > argStart || counted > 0) {
    const start = trimStart(text, argStart, close);
    if (start < close || counted > 0) bound(bounds, counted++, text, start, close);
  }
  bounds.count = counted;
}

/** 1 for the characters boundCall acts on: " < / ( [ { ] } ) , */
const LEXEMES = new Uint8Array(128);
for (const c of '"</([{]}),') LEXEMES[c.charCodeAt(0)] = 1;

/** Argument k is text[start, end) trimmed: its end is found here. */
function bound(bounds: CallBounds, k: number, text: string, start: number, end: number): void {
  let to = end;
  while (to > start && isTrimmed(text.charCodeAt(to - 1))) to--;
  bounds.starts[k] = start;
  bounds.ends[k] = to;
}

function trimStart(text: string, start: number, end: number): number {
  let from = start;
  while (from < end && isTrimmed(text.charCodeAt(from))) from++;
  return from;
}

/** What String.prototype.trim() takes off: ECMAScript's WhiteSpace and LineTerminator. */
export function isTrimmed(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** What skipString and skipAnnotation return when the text ends before what they skip does. */
const UNTERMINATED = -1;

function skipString(text: string, from: number): number {
  // Most strings (paths) have no escape: their closing quote is the next one.
  const quote = text.indexOf('"', from + 1);
  const backslash = text.indexOf('\\', from + 1);
  if (backslash < 0 || (quote >= 0 && backslash > quote)) return quote < 0 ? UNTERMINATED : trailingEllipsis(text, quote + 1);
  let i = from + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i += 2;
    else if (c === 34) return trailingEllipsis(text, i + 1);
    else i++;
  }
  return UNTERMINATED;
}

function trailingEllipsis(text: string, i: number): number {
  return text.startsWith('...', i) ? i + 3 : i;
}

/**
 * An fd annotation: `</path>`, `</dev/null<char 1:3>>`, `<TCP:[a->b]>`,
 * `<UNIX-STREAM:[1->2,"/run/x.sock"]>`, then an optional `(deleted)`.
 */
function skipAnnotation(text: string, from: number): number {
  let nesting = 0;
  let brackets = 0;
  // A path annotation escapes '<' and '>' but not '[' or '"': only sockets
  // and the like need bracket and quote tracking.
  const isPath = text.charCodeAt(from + 1) === 47; /* / */
  if (isPath) {
    // Most paths have no escape and no -yy suffix: the next '>' ends them.
    const close = text.indexOf('>', from + 1);
    const open = text.indexOf('<', from + 1);
    const backslash = text.indexOf('\\', from + 1);
    if (close >= 0 && (open < 0 || open > close) && (backslash < 0 || backslash > close)) {
      return text.startsWith('(deleted)', close + 1) ? close + 10 : close + 1;
    }
  }
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (isPath) {
      if (c === 60) nesting++;
      else if (c === 62 && --nesting === 0) {
        i++;
        return text.startsWith('(deleted)', i) ? i + 9 : i;
      }
      i++;
      continue;
    }
    if (c === 34 /* " */ && brackets > 0) {
      i = skipString(text, i);
      if (i < 0) return UNTERMINATED;
      continue;
    }
    if (c === 91) brackets++;
    else if (c === 93) brackets--;
    else if (c === 60) nesting++;
    else if (c === 62 /* > */ && brackets <= 0) {
      nesting--;
      if (nesting === 0) {
        i++;
        return text.startsWith('(deleted)', i) ? i + 9 : i;
      }
    }
    i++;
  }
  return UNTERMINATED;
}

// ")                = 0x7f7941afe000 <0.000062>" → "0x7f7941afe000"
//                     ^^^^^^^^^^^^^^ ret         ^^^^^^^^^^ -T duration, dropped
export function readReturn(text: string, from: number, bounds: CallBounds): void {
  bounds.retStart = -1;
  const eq = text.indexOf('= ', from);
  if (eq < 0) return;
  for (let k = from; k < eq; k++) if (text.charCodeAt(k) !== 32) return;
  const end = text.length;
  bounds.retStart = eq + 2;
  bounds.retEnd = text.charCodeAt(end - 1) === 62 /* > */ ? durationStart(text, eq + 2, end - 1) : end;
}

/**
 * Where a -T duration " <\d+\.\d+>" ending at text[close] starts (its space),
 * when it starts at `from` or after; else text.length. Read backwards from
 * the '>': the " <" it finds is the text's last, as a lastIndexOf would find
 * it, since nothing but digits and a point lies between them.
 */
function durationStart(text: string, from: number, close: number): number {
  let i = close - 1;
  let point = -1;
  for (; ; i--) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (point >= 0) return text.length;
      point = i;
    } else if (!isDigit(c)) break;
  }
  // `\d+\.\d+`: one point, with digits on both sides.
  if (point < 0 || point === close - 1 || point === i + 1) return text.length;
  if (text.charCodeAt(i) !== 60 /* < */ || text.charCodeAt(i - 1) !== 32 || i - 1 < from) return text.length;
  return i - 1;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export interface ReturnValue {
  /** The numeric value; null for "?" (no return). */
  value: number | null;
  /** "ENOENT" etc. for "-1 ENOENT (…)", "?" text for restarts; null on success. */
  error: string | null;
  /** The -y annotation of a returned fd, decoded. */
  hint?: string;
}

export function parseReturn(ret: string): ReturnValue {
  if (ret.startsWith('?')) return { value: null, error: ret.length > 2 ? firstWord(ret, 2) : '?' };
  if (ret.startsWith('-1 ')) return { value: -1, error: firstWord(ret, 3) };
  // "0x7f06f123f000", "3</kafka/0.index>", "0 (Timeout)": the value before any " (…)" comment.
  const comment = ret.indexOf(' (');
  const fd = parseFdArg(comment < 0 ? ret : ret.slice(0, comment));
  if (fd === null) return { value: null, error: 'unreadable return value' };
  return fd.hint === undefined ? { value: fd.fd, error: null } : { value: fd.fd, error: null, hint: fd.hint };
}

/** The text from `from` to the next space: `ret.slice(from).split(' ')[0]`. */
function firstWord(text: string, from: number): string {
  const space = text.indexOf(' ', from);
  return space < 0 ? text.slice(from) : text.slice(from, space);
}

export interface FdArg {
  fd: number;
  hint?: string;
  deleted?: boolean;
}

/** `5`, `5</kafka/0.index>`, `9</x.deleted>(deleted)`, `AT_FDCWD</data>`, `-100`, `0xffffff9c`. */
export function parseFdArg(text: string): FdArg | null {
  const read = fdAt(text, 0, text.length);
  if (read === null) return null;
  const { fd, hint, deleted } = read;
  if (hint === undefined) return { fd };
  return deleted ? { fd, hint, deleted } : { fd, hint };
}

/** What fdAt read: one per process, overwritten by the next read. */
export interface FdRead {
  fd: number;
  hint: string | undefined;
  deleted: boolean;
}
const fdRead: FdRead = { fd: 0, hint: undefined, deleted: false };

/** parseFdArg of text[start, end), into a shared record valid until the next call; null when unreadable. */
export function fdAt(text: string, start: number, end: number): FdRead | null {
  let lt = text.indexOf('<', start);
  if (lt >= end) lt = -1;
  const headEnd = lt < 0 ? end : lt;
  let fd: number;
  if (headEnd - start === 8 && text.startsWith('AT_FDCWD', start)) fd = -100;
  else {
    const value = numberAt(text, start, headEnd);
    if (value === null) return null;
    // -e raw / -X raw print AT_FDCWD and -1 as 32-bit unsigned.
    fd = value === 0xffffff9c ? -100 : value === 0xffffffff ? -1 : value;
  }
  fdRead.fd = fd;
  fdRead.hint = undefined;
  fdRead.deleted = false;
  if (lt < 0) return fdRead;
  let to = end;
  if (end - start >= 9 && text.startsWith('(deleted)', end - 9)) {
    fdRead.deleted = true;
    to -= 9;
  }
  if (text.charCodeAt(to - 1) !== 62 /* > */) {
    fdRead.deleted = false;
    return fdRead;
  }
  // The annotation is text[lt + 1, to - 1); a -yy device suffix ends it: "/dev/null<char 1:3>".
  let hintEnd = to - 1;
  if (hintEnd - 1 > lt + 1 && text.charCodeAt(hintEnd - 1) === 62) {
    const device = text.lastIndexOf('<', hintEnd - 1);
    if (device > lt + 1) hintEnd = device;
  }
  fdRead.hint = decodeCString(text.slice(lt + 1, hintEnd));
  return fdRead;
}

export interface StringArg {
  value: string;
  truncated: boolean;
}

/** `"/kafka/0.index"` (with escapes), `"…"...` when cut by -s. Null for a pointer (`0x55d1…`). */
export function parseStringArg(text: string): StringArg | null {
  const value = stringAt(text, 0, text.length);
  return value === null ? null : { value, truncated: text.endsWith('...') };
}

/** The value of parseStringArg(text[start, end)), or null. */
export function stringAt(text: string, start: number, end: number): string | null {
  if (end <= start || text.charCodeAt(start) !== 34) return null;
  let to = end;
  if (end - start >= 3 && text.startsWith('...', end - 3)) to -= 3;
  if (to - start < 2 || text.charCodeAt(to - 1) !== 34) return null;
  return decodeCString(text.slice(start + 1, to - 1));
}

/** Decimal, hex (0x…), octal (0644), negative; `NULL` is 0. -X verbose comments are ignored. */
export function parseNumber(text: string): number | null {
  return numberAt(text, 0, text.length);
}

/** parseNumber(text.slice(start, end)), without the slice for the usual shapes. */
export function numberAt(text: string, start: number, end: number): number | null {
  const fast = plainNumber(text, start, end);
  if (fast >= 0) return fast;
  let t = start === 0 && end === text.length ? text : text.slice(start, end);
  const comment = t.indexOf(' /*');
  if (comment >= 0) t = t.slice(0, comment);
  t = t.trim();
  if (t === 'NULL') return 0;
  if (t.length === 0) return null;
  let negative = false;
  if (t.charCodeAt(0) === 45) {
    negative = true;
    t = t.slice(1);
  }
  let value: number;
  if (t.startsWith('0x')) value = parseInt(t.slice(2), 16);
  else if (t.length > 1 && t.charCodeAt(0) === 48) value = parseInt(t, 8);
  else if (isDecimal(t)) value = Number(t);
  else return null;
  if (!Number.isFinite(value)) return null;
  return negative ? -value : value;
}

/**
 * The usual shapes without a string allocated: a decimal of up to 15 digits
 * ("4096", "0") or a hex of up to 13 ("0x7f06f123f000"), below 2^53 so the
 * sum is exact and equal to Number()'s and parseInt()'s. -1 for anything
 * else, which numberAt reads the long way.
 */
function plainNumber(text: string, start: number, end: number): number {
  const n = end - start;
  if (n <= 0) return -1;
  let value = 0;
  if (n > 2 && text.charCodeAt(start) === 48 && text.charCodeAt(start + 1) === 120 /* x */) {
    if (n > 15) return -1;
    for (let i = start + 2; i < end; i++) {
      const c = text.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }
  // A leading 0 is octal (or "0" itself).
  if (n > 15 || (n > 1 && text.charCodeAt(start) === 48)) return -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}

function isDecimal(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `O_RDWR|O_CREAT|0x80000000`, `0x22`, `MAP_SHARED|MAP_FIXED`: symbolic names through `table`. */
export function parseFlags(text: string, table: Readonly<Record<string, number>>): number {
  // A trace repeats a handful of flag sets ("PROT_READ|PROT_WRITE") millions of times.
  let known = flagCache.get(table);
  if (known === undefined) {
    known = new Map();
    flagCache.set(table, known);
  }
  const cached = known.get(text);
  if (cached !== undefined) return cached;
  const value = readFlags(text, table);
  if (known.size >= FLAG_CACHE_SIZE) known.clear();
  // Kept past its line: a copy, not a slice that would pin the line's input chunk.
  known.set(flatCopy(text), value);
  return value;
}

/** Distinct flag texts remembered per table; a hostile trace of unique ones only clears it. */
const FLAG_CACHE_SIZE = 256;
const flagCache = new WeakMap<object, Map<string, number>>();

function readFlags(text: string, table: Readonly<Record<string, number>>): number {
  // Not of "0x10|MS_X" whole: parseInt would read its first number and drop the rest.
  const numeric = text.includes('|') ? null : parseNumber(text);
  if (numeric !== null) return numeric;
  let value = 0;
  for (const part of text.split('|')) {
    const name = part.trim();
    const known = Object.hasOwn(table, name) ? table[name] : undefined;
    if (known !== undefined) value |= known;
    else {
      const n = parseNumber(name);
      if (n !== null) value |= n;
    }
  }
  return value >>> 0;
}

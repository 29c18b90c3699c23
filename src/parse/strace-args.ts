// Splitting a complete strace call body into arguments and a return value,
// and reading the argument values this tool needs (fds with their -y
// annotations, strings, numbers, flag sets). Pure.
import { decodeCString } from './c-string.js';

export interface SplitCall {
  args: string[];
  /** The return text after " = " without the -T duration, or null when the call has none. */
  ret: string | null;
}

/**
 * Find the argument list's closing parenthesis by lexing, never by searching
 * for ") = ": paths may contain ") = " and so may fd annotations.
 *
 *   mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/we\76ird, x.bin>, 0) = 0x7f06f123f000 <0.000062>
 *                                           ^^^^^^^^^^^^^^^^^^^^^^ one argument   ^^^^^^^^^^^^^^ ret
 */
export function splitCall(body: string): SplitCall | null {
  const args: string[] = [];
  let depth = 0; // ( [ {
  let argStart = 0;
  let i = 0;
  const n = body.length;
  while (i < n) {
    const c = body.charCodeAt(i);
    if (c === 34 /* " */) {
      i = skipString(body, i);
      continue;
    }
    if (c === 60 /* < */) {
      i = skipAnnotation(body, i);
      continue;
    }
    if (c === 47 /* / */ && body.charCodeAt(i + 1) === 42 /* * */) {
      const end = body.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) depth--;
    else if (c === 41 /* ) */) {
      if (depth === 0) {
        if (i > argStart || args.length > 0) {
          const last = trimmed(body, argStart, i);
          if (last.length > 0 || args.length > 0) args.push(last);
        }
        return { args, ret: readReturn(body, i + 1) };
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0) {
      args.push(trimmed(body, argStart, i));
      argStart = i + 1;
    }
    i++;
  }
  return null;
}

/** `text.slice(start, end).trim()` in one allocation: arguments are ", "-separated. */
function trimmed(text: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  // trim() also drops Unicode spaces (U+00A0, U+2028…): a hostile line is cut the same way.
  if (to > from && (text.charCodeAt(from) > 127 || text.charCodeAt(to - 1) > 127)) return text.slice(from, to).trim();
  return text.slice(from, to);
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function skipString(text: string, from: number): number {
  let i = from + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i += 2;
    else if (c === 34) return trailingEllipsis(text, i + 1);
    else i++;
  }
  return text.length;
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
  return text.length;
}

// ")                = 0x7f7941afe000 <0.000062>" → "0x7f7941afe000"
//                     ^^^^^^^^^^^^^^ ret         ^^^^^^^^^^ -T duration, dropped
function readReturn(body: string, from: number): string | null {
  const eq = body.indexOf('= ', from);
  if (eq < 0) return null;
  for (let k = from; k < eq; k++) if (body.charCodeAt(k) !== 32) return null;
  let end = body.length;
  if (body.charCodeAt(end - 1) === 62 /* > */) {
    const open = body.lastIndexOf(' <');
    if (open >= eq + 2 && isDuration(body, open + 2, end - 1)) end = open;
  }
  return body.slice(eq + 2, end);
}

/** `\d+\.\d+` between `from` and `to`. */
function isDuration(text: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && isDigit(text.charCodeAt(i))) i++;
  if (i === from || i >= to || text.charCodeAt(i) !== 46 /* . */) return false;
  const fraction = ++i;
  while (i < to && isDigit(text.charCodeAt(i))) i++;
  return i === to && i > fraction;
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
  const lt = text.indexOf('<');
  const head = lt < 0 ? text : text.slice(0, lt);
  let fd: number;
  if (head === 'AT_FDCWD') fd = -100;
  else {
    const value = parseNumber(head);
    if (value === null) return null;
    // -e raw / -X raw print AT_FDCWD and -1 as 32-bit unsigned.
    fd = value === 0xffffff9c ? -100 : value === 0xffffffff ? -1 : value;
  }
  if (lt < 0) return { fd };
  let end = text.length;
  let deleted = false;
  if (text.endsWith('(deleted)')) {
    deleted = true;
    end -= 9;
  }
  if (text.charCodeAt(end - 1) !== 62 /* > */) return { fd };
  let body = text.slice(lt + 1, end - 1);
  // -yy device suffix: "/dev/null<char 1:3>"
  const device = body.lastIndexOf('<');
  if (device > 0 && body.endsWith('>')) body = body.slice(0, device);
  const hint = decodeCString(body);
  return deleted ? { fd, hint, deleted } : { fd, hint };
}

export interface StringArg {
  value: string;
  truncated: boolean;
}

/** `"/kafka/0.index"` (with escapes), `"…"...` when cut by -s. Null for a pointer (`0x55d1…`). */
export function parseStringArg(text: string): StringArg | null {
  if (text.charCodeAt(0) !== 34) return null;
  let end = text.length;
  let truncated = false;
  if (text.endsWith('...')) {
    truncated = true;
    end -= 3;
  }
  if (end < 2 || text.charCodeAt(end - 1) !== 34) return null;
  return { value: decodeCString(text.slice(1, end - 1)), truncated };
}

/** Decimal, hex (0x…), octal (0644), negative; `NULL` is 0. -X verbose comments are ignored. */
export function parseNumber(text: string): number | null {
  const fast = plainNumber(text);
  if (fast >= 0) return fast;
  let t = text;
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
 * else, which parseNumber reads the long way.
 */
function plainNumber(text: string): number {
  const n = text.length;
  if (n === 0) return -1;
  let value = 0;
  if (n > 2 && text.charCodeAt(0) === 48 && text.charCodeAt(1) === 120 /* x */) {
    if (n > 15) return -1;
    for (let i = 2; i < n; i++) {
      const c = text.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }
  // A leading 0 is octal (or "0" itself).
  if (n > 15 || (n > 1 && text.charCodeAt(0) === 48)) return -1;
  for (let i = 0; i < n; i++) {
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
  known.set(text, value);
  return value;
}

/** Distinct flag texts remembered per table; a hostile trace of unique ones only clears it. */
const FLAG_CACHE_SIZE = 256;
const flagCache = new WeakMap<object, Map<string, number>>();

function readFlags(text: string, table: Readonly<Record<string, number>>): number {
  const numeric = parseNumber(text);
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

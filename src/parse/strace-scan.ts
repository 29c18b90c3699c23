// Small scans of a raw strace line, shared by the reader's fast path and its
// full path: no records, no I/O.
import { FOLLOWED_SYSCALLS } from './strace-decode.js';

export function isNameChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95 || (code >= 65 && code <= 90);
}

/** Length × 128 + first character code of every followed syscall name. */
export const FOLLOWED_SHAPES: ReadonlySet<number> = new Set([...FOLLOWED_SYSCALLS].map((name) => name.length * 128 + name.charCodeAt(0)));

/** The followed syscall names, at length × 128 + first character code (an array: indexing it is cheaper than a Map). */
const FOLLOWED_BY_SHAPE: (string[] | undefined)[] = [];
for (const name of FOLLOWED_SYSCALLS) {
  const shape = name.length * 128 + name.charCodeAt(0);
  FOLLOWED_BY_SHAPE[shape] = [...(FOLLOWED_BY_SHAPE[shape] ?? []), name];
}
const LONGEST_FOLLOWED = Math.max(...[...FOLLOWED_SYSCALLS].map((name) => name.length));

/** The followed syscall named by `text[start, end)` (its own string: no slice made), or undefined. */
export function followedName(text: string, start: number, end: number): string | undefined {
  if (end - start > LONGEST_FOLLOWED) return undefined;
  const names = FOLLOWED_BY_SHAPE[(end - start) * 128 + (text.charCodeAt(start) & 127)];
  if (names === undefined) return undefined;
  for (const name of names) if (text.startsWith(name, start)) return name;
  return undefined;
}

/** The pid of a "[pid  1234] …" line, or null. */
export function stderrPid(line: string): number | null {
  let i = 5;
  while (line.charCodeAt(i) === 32) i++;
  let value = 0;
  const start = i;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) value = value * 10 + (c - 48);
  return i > start ? value : null;
}

/**
 * "…, O_RDONLY) = 3", "close(3)      = 0", ") = 0": a call's result after its
 * argument list, in `text[from, end)`. `from` is where the arguments start.
 */
export function hasResult(text: string, from: number, end = text.length): boolean {
  // From the end: the result is the line's last " = " in all but odd lines
  // (an argument string with " = " in it), so one short backward search decides.
  for (let eq = text.lastIndexOf(' = ', end - 3); eq >= from; eq = eq === 0 ? -1 : text.lastIndexOf(' = ', eq - 1)) {
    let k = eq;
    while (k > from && text.charCodeAt(k - 1) === 32) k--;
    if (text.charCodeAt(k - 1) === 41 /* ) */) return true;
  }
  return false;
}

export const MESSAGE_SPLICE = /strace: Process \d+ (?:attached|detached)(?: with \d+ threads)?$/;

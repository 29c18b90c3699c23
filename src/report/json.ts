// JSON for other programs, safe to show. JSON.stringify escapes C0 controls
// but leaves DEL, C1 controls (U+009B is CSI: an escape sequence on many
// terminals), bidi overrides (after U+202E, "gpj.exe" reads "exe.jpg"), line
// separators and invisible characters (sanitize.ts's list) raw, so `jq`, `less` or a log viewer would draw a hostile file
// name as something it is not. Those characters can only occur inside JSON
// strings, so each one is rewritten as its \u escape: JSON.parse gives back
// exactly the same value.
import { Buffer } from 'node:buffer';
import { MAYBE_UNSAFE_BEYOND_C0, UNSAFE_BEYOND_C0 } from './sanitize.js';

/** JSON.stringify(value, null, indent), with every character unsafe to display as a \u escape. */
export function safeJson(value: unknown, indent?: number): string {
  return displaySafe(JSON.stringify(value, null, indent));
}

/**
 * JSON text with its unsafe characters escaped. Every one of them is U+007F
 * (DEL) or above, so text that is ASCII without DEL (a UTF-8 length equal to
 * its length: the usual report) is returned as it is, found so in a third of
 * the time a scan with UNSAFE_BEYOND_C0 takes (f20's 12 MB: 14 ms → 5 ms).
 */
export function displaySafe(json: string): string {
  if (Buffer.byteLength(json) === json.length && json.indexOf('\x7f') < 0) return json;
  if (!MAYBE_UNSAFE_BEYOND_C0.test(json)) return json;
  return json.replace(UNSAFE_BEYOND_C0, unicodeEscape);
}

/** `\u202e`; an astral character (a tag, U+E0041) as its two UTF-16 halves, `\udb40\udc41`, as JSON spells it. */
function unicodeEscape(char: string): string {
  let escaped = '';
  for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}

/**
 * `${safeJson(document, 2)}\n`, byte for byte, handed to `write` in pieces:
 * each element of a top-level array (a report's findings) is stringified on
 * its own, so a report of 25,000 findings never exists as one string, and a
 * finding's evidence (built when read, see FindingLog) lives only while its
 * element is written (issue #14, goal 3). `elementOf` gives what is written
 * for an element of the top-level array at `key` (a finding redacted as it is
 * written, see writeReportJson): `${safeJson(document with every element mapped, 2)}\n`.
 */
export function writeSafeJson(document: object, write: (text: string) => void, elementOf: (key: string, element: unknown) => unknown = asItIs): void {
  if (Array.isArray(document) || typeof (document as { toJSON?: unknown }).toJSON === 'function') {
    write(`${safeJson(document, 2)}\n`);
    return;
  }
  const entries = Object.entries(document).filter(([, value]) => isSerialized(value));
  if (entries.length === 0) {
    write('{}\n');
    return;
  }
  write('{');
  entries.forEach(([key, value], index) => {
    write(`${index === 0 ? '' : ','}\n  ${safeJson(key)}: `);
    if (Array.isArray(value) && value.length > 0) writeArray(value, write, (element) => elementOf(key, element));
    else write(indented(safeJson(value, 2), '  '));
  });
  write('\n}\n');
}

const asItIs = (_key: string, element: unknown): unknown => element;

/** An array at depth 1: its elements at depth 2, as JSON.stringify indents them. */
function writeArray(array: readonly unknown[], write: (text: string) => void, elementOf: (element: unknown) => unknown): void {
  write('[');
  const holder = { element: [null as unknown] };
  for (let i = 0; i < array.length; i++) {
    // Stringified where it sits, two levels down, so JSON.stringify indents it itself.
    holder.element[0] = elementOf(array[i]);
    const json = safeJson(holder, 2);
    // Written as two pieces: a slice of the element's text is not copied, as one joined to its separator would be.
    write(i === 0 ? '\n    ' : ',\n    ');
    write(json.slice(ELEMENT_HEAD.length, json.length - ELEMENT_TAIL.length));
  }
  write('\n  ]');
}

/** What `{ element: [x] }` stringifies to around x. */
const ELEMENT_HEAD = '{\n  "element": [\n    ';
const ELEMENT_TAIL = '\n  ]\n}';

/** JSON.stringify leaves out undefined, functions and symbols as object members. */
function isSerialized(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/** A newline in JSON text is always layout (one inside a string is written \n), so each one takes the extra indent. */
function indented(json: string, indent: string): string {
  return json.indexOf('\n') < 0 ? json : json.replace(/\n/g, `\n${indent}`);
}

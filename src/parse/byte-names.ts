// A file name is bytes, and not every name is UTF-8: an archive made under a
// Latin-1 locale, a Samba share or a mail store leaves names like "\xff.map".
// Every reader of names (strace's escapes, bpftrace's bytes and hex,
// /proc/PID/maps and the bundle's other files, scan's live maps) turns bytes
// into text here, so that one file's name is one string whichever source
// gave it. Valid UTF-8 reads as itself; each byte that is no part of valid
// UTF-8 becomes the lone surrogate U+DC00 plus the byte (U+DC80 to U+DCFF, as
// Python's "surrogateescape"). No valid UTF-8 decodes to a lone surrogate,
// so the spelling is one-to-one and the bytes can be had back (nameBytes).
// U+FFFD for every such byte made "\376.map" and "\377.map" one file, and the
// unlink of the one a leak of the other (review 27, F5). Pure.
import { Buffer } from 'node:buffer';

/** A byte that is no part of valid UTF-8, as decodeBytes spells it: matched only alone (the u flag), never half of a pair. */
const ESCAPED_BYTE = /[\udc80-\udcff]/u;

/** `bytes[start, end)` as text: UTF-8, each byte that is no part of a valid sequence as U+DC00 plus the byte. */
export function decodeBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buffer = asBuffer(bytes);
  const text = buffer.toString('utf8', start, end);
  // Node's decoder makes U+FFFD of each bad sequence: only then is the slow walk needed (or for a real U+FFFD).
  return text.indexOf('\ufffd') < 0 ? text : decodeEscaping(buffer, start, end);
}

/** decodeBytes without its fast path: for text already known to hold a U+FFFD of Node's decoder. */
export function decodeEscaping(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buffer = asBuffer(bytes);
  let text = '';
  let run = start;
  for (let i = start; i < end; ) {
    if (buffer[i]! < 0x80) {
      i++;
      continue;
    }
    const length = validSequenceAt(buffer, i, end);
    if (length > 0) {
      i += length;
      continue;
    }
    if (run < i) text += buffer.toString('utf8', run, i);
    text += String.fromCharCode(0xdc00 | buffer[i]!);
    run = ++i;
  }
  return run < end ? text + buffer.toString('utf8', run, end) : text;
}

/** Whether `text` holds a byte that is no part of valid UTF-8 (decodeBytes's U+DC80 to U+DCFF). */
export function hasEscapedByte(text: string): boolean {
  return ESCAPED_BYTE.test(text);
}

/** The escaped byte a lone surrogate of decodeBytes stands for, or -1 for any other code point. */
export function escapedByte(codePoint: number): number {
  return codePoint >= 0xdc80 && codePoint <= 0xdcff ? codePoint & 0xff : -1;
}

/** The bytes of a name decodeBytes read: UTF-8, each escaped byte as itself. */
export function nameBytes(text: string): Buffer {
  if (!hasEscapedByte(text)) return Buffer.from(text, 'utf8');
  const bytes: number[] = [];
  for (const char of text) {
    const byte = escapedByte(char.codePointAt(0)!);
    if (byte >= 0) bytes.push(byte);
    else for (const each of Buffer.from(char, 'utf8')) bytes.push(each);
  }
  return Buffer.from(bytes);
}

/** How many bytes the name `text` is (nameBytes's length), without making them. */
export function byteLength(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 || escapedByte(code) >= 0 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/**
 * Where the last character of `bytes` begins when the bytes after it could
 * be the start of a UTF-8 sequence the next read completes; else the length.
 * A reader that decodes what comes before it and keeps the rest for the next
 * read decodes as it would the whole: a sequence cannot run across a byte
 * that starts one.
 */
export function completeEnd(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const byte = bytes[n - back]!;
    if (byte < 0x80) return n;
    if (byte >= 0xc0) return (byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2) > back ? n - back : n;
  }
  return n;
}

/** The length of the well-formed UTF-8 sequence at `at`, before `end` (Unicode's table 3-7), or 0. */
function validSequenceAt(bytes: Uint8Array, at: number, end: number): number {
  const lead = bytes[at]!;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f; // U+D800 to U+DFFF, surrogates, are no UTF-8
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (at + length > end) return 0;
  const second = bytes[at + 1]!;
  if (second < low || second > high) return 0;
  for (let i = 2; i < length; i++) {
    const next = bytes[at + i]!;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

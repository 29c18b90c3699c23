// safeJson skips its scan for unsafe characters when the JSON text is ASCII
// without DEL (report/json.ts's displaySafe). These check that shortcut
// against the scan it skips, on generated and hostile values, and that the
// streamed report (writeSafeJson) still equals safeJson's whole text.
import { describe, expect, it } from 'vitest';
import { safeJson, writeSafeJson } from '../src/report/json.js';
import { UNSAFE_BEYOND_C0 } from '../src/report/sanitize.js';
import { prng } from './support/generate-trace.mjs';

/** What safeJson wrote before the shortcut: every JSON text scanned. */
function scannedJson(value: unknown, indent?: number): string {
  // A match is a code point: an astral one (a tag character) is two UTF-16 halves, each escaped.
  return JSON.stringify(value, null, indent).replace(UNSAFE_BEYOND_C0, (char) => Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}

function streamed(document: object): string {
  let text = '';
  writeSafeJson(document, (piece) => {
    text += piece;
  });
  return text;
}

// Around every edge of the shortcut and of the unsafe set: DEL and its neighbours,
// C1, Latin-1, the bidi and separator blocks, lone and paired surrogates, BOM.
const EDGE_UNITS = [
  0x00, 0x09, 0x0a, 0x1b, 0x1f, 0x20, 0x22, 0x5c, 0x7e, 0x7f, 0x80, 0x9b, 0x9f, 0xa0, 0xe9, 0xff, 0x100, 0x61b, 0x61c, 0x61d, 0x200a, 0x200b, 0x200f, 0x2010, 0x2027, 0x2028, 0x202e, 0x202f, 0x205f,
  0x2060, 0x2064, 0x2065, 0x2066, 0x2069, 0x206a, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfeff, 0xfffd, 0xffff,
];

function randomText(next: () => number): string {
  const length = Math.floor(next() * 12);
  let text = '';
  for (let i = 0; i < length; i++) {
    const pick = next();
    if (pick < 0.6) text += String.fromCharCode(0x20 + Math.floor(next() * 0x5f));
    else if (pick < 0.9) text += String.fromCharCode(EDGE_UNITS[Math.floor(next() * EDGE_UNITS.length)] ?? 0);
    else if (pick < 0.95) text += '😀';
    else text += String.fromCharCode(Math.floor(next() * 0x10000));
  }
  return text;
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.35) return randomText(next);
  if (pick < 0.45) return Math.floor(next() * 1e6) / 7;
  if (pick < 0.5) return next() < 0.5 ? null : next() < 0.5;
  if (pick < 0.75) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) object[randomText(next)] = randomValue(next, depth + 1);
  return object;
}

describe('safeJson without a scan of ASCII text', () => {
  it('covers every unsafe character: none is below DEL (U+007F), so ASCII without DEL holds none', () => {
    for (let unit = 0; unit < 0x7f; unit++) expect(String.fromCharCode(unit).replace(UNSAFE_BEYOND_C0, '')).toBe(String.fromCharCode(unit));
  });

  it('writes what the scan of every text wrote, on each edge character alone, in keys and in values', () => {
    for (const unit of EDGE_UNITS) {
      const char = String.fromCharCode(unit);
      const value = { [`k${char}`]: [`a${char}b`, char, { x: char.repeat(3) }] };
      expect(safeJson(value, 2)).toBe(scannedJson(value, 2));
      expect(safeJson(value)).toBe(scannedJson(value));
      expect(safeJson(char)).toBe(scannedJson(char));
    }
  });

  it('writes what the scan wrote on 2,000 generated values, and writeSafeJson streams the same bytes', () => {
    const next = prng(20261202);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(next, 0);
      expect(safeJson(value, 2)).toBe(scannedJson(value, 2));
      expect(safeJson(value)).toBe(scannedJson(value));
      const document = { schema: 'x', findings: [value, randomValue(next, 1)], warnings: [randomText(next)] };
      expect(streamed(document)).toBe(`${scannedJson(document, 2)}\n`);
    }
  });

  it('escapes a hostile finding in a streamed report as the whole report does', () => {
    const finding = { id: 'F1', path: '/kafka/gpj.exe\u202e', names: ['\u009b[31m', 'del\u007f', 'ok'], evidence: [{ text: 'mmap("\u2028\ufeff") = 0', line: 3 }] };
    const document = { findings: [{ id: 'F0', path: '/plain' }, finding], warnings: ['\u061c'] };
    const text = streamed(document);
    expect(text).toBe(`${scannedJson(document, 2)}\n`);
    expect(text).not.toMatch(UNSAFE_BEYOND_C0);
    expect(JSON.parse(text)).toEqual(document);
  });
});

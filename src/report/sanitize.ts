// Text from a trace is untrusted: a file name can hold escape sequences that
// would drive the terminal. Everything printed goes through here.

// C0 controls, DEL, C1 controls, the line and paragraph separators, and every
// character Unicode calls a format character (Cf) or default-ignorable: those
// that draw as nothing, or reorder or disguise the text around them, so that a
// name would display as something it is not. They are the Arabic letter mark,
// zero-width and directional marks, embeddings, overrides and isolates,
// invisible operators, the BOM; the soft hyphen (U+00AD), the combining
// grapheme joiner (U+034F), the Hangul fillers (U+115F, U+1160, U+3164,
// U+FFA0), the Khmer inherent vowels (U+17B4, U+17B5), the Mongolian free
// variation selectors and vowel separator (U+180B-U+180F), the variation
// selectors (U+FE00-U+FE0F, U+E0100-U+E01EF), the interlinear annotation
// marks (U+FFF9-U+FFFB), the tag characters (U+E0000-U+E007F); the Cf
// characters of other scripts (Arabic number signs U+0600-U+0605 and U+06DD,
// Syriac U+070F, Arabic U+0890, U+0891, U+08E2, Kaithi U+110BD and U+110CD,
// Egyptian hieroglyph controls U+13430-U+1343F, shorthand U+1BCA0-U+1BCA3,
// musical U+1D173-U+1D17A); and the code points Unicode keeps default-ignorable
// for the future (U+2065, U+FFF0-U+FFF8, U+E0080-U+E0FFF).
// test/safety-review4-sanitize.test.ts checks this list against Unicode's own
// Cf and Default_Ignorable_Code_Point tables. Matched by code point (the u
// flag): an astral character is one match, not two halves.
const BEYOND_C0 = String.raw`\u007f-\u009f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u{110bd}\u{110cd}\u{13430}-\u{1343f}\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}`;
/**
 * A byte of a name that is no part of UTF-8, as the readers keep it (U+DC00
 * plus the byte, parse/byte-names.ts): a lone surrogate, which no terminal
 * draws and a UTF-8 writer would make U+FFFD, so that two names would look
 * one. Shown as the byte, \\xff. With the u flag it matches only alone.
 */
const ESCAPED_BYTES = String.raw`\udc80-\udcff`;
const UNSAFE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}${ESCAPED_BYTES}]`, 'gu');
/** The unsafe characters other than C0 controls: what JSON.stringify leaves raw. A match is one code point: one or two UTF-16 units. */
export const UNSAFE_BEYOND_C0 = new RegExp(`[${BEYOND_C0}]`, 'gu');

/**
 * A few ranges that hold every unsafe character beyond C0 (an astral one by
 * its first UTF-16 half): text outside them holds none, and is returned as it
 * is. A class of as many ranges as UNSAFE's is several times slower to search
 * (V8): a line with non-ASCII names took 1.7 µs to clear, against 0.3.
 */
const COARSE_BEYOND_C0 = String.raw`\u007f-\u00ad\u034f\u0600-\u08e2\u115f-\u180f\u200b-\u206f\u3164\ufe00-\uffff\ud804-\udb43`;
const MAYBE_UNSAFE = new RegExp(`[\\u0000-\\u001f${COARSE_BEYOND_C0}${ESCAPED_BYTES}]`);
/** False only for text that holds no character of UNSAFE_BEYOND_C0. */
export const MAYBE_UNSAFE_BEYOND_C0 = new RegExp(`[${COARSE_BEYOND_C0}]`);

/** Control characters shown as escapes (\n, \t, \x1b, \u202e, \u{e0041}), and a byte that is not UTF-8 as \xff; everything else kept. */
export function escapeControl(text: string): string {
  if (!MAYBE_UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (char) => {
    switch (char) {
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      default: {
        const code = char.codePointAt(0)!;
        // An escaped byte (byte-names.ts's escapedByte, not imported: this module loads with every command's registration).
        if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code & 0xff).toString(16)}`;
        if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
        return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
      }
    }
  });
}

/**
 * The most bytes anything here can span: a 64-bit address space. A length
 * from a trace is the number strace printed, so a corrupt or hostile trace can
 * say -5 or 1e23; a view flags such a number instead of printing
 * "90949470177.3 TiB".
 */
export const MAX_BYTES = 2 ** 64;

/** A size that can be true: a whole number of bytes from 0 to 2^64. */
export function isByteCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_BYTES;
}

/** "10.0 MiB", "512 B"; a number that cannot be a size as "? (1e+23 bytes: out of range)". */
export function formatBytes(bytes: number): string {
  if (!isByteCount(bytes)) return `? (${outOfRange(bytes, 'bytes')})`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "10,485,760": a number as en-US groups its digits. */
export function formatCount(n: number): string {
  // A whole number that a double holds exactly, grouped here: toLocaleString
  // (ICU) took about 10 µs a call, a tenth of a text report of 7,734 findings.
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let at = grouped.length; at < digits.length; at += 3) grouped += `,${digits.slice(at, at + 3)}`;
  return n < 0 ? `-${grouped}` : grouped;
}

/** "-5 bytes: out of range", "1e+23 bytes: out of range": the raw number, said to be wrong. */
export function outOfRange(value: number, unit: string): string {
  return `${String(value)} ${unit}: out of range`;
}

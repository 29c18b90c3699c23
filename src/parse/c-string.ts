// strace prints every byte of a string or path that is not printable as a C
// escape; this turns such text back into what the program passed.
import { decodeBytes, escapedByte } from './byte-names.js';

/**
 * Undo strace's C-string escaping: \" \\ \n \t \v \f \r, \ooo (1–3 octal
 * digits), \xHH. Escaped bytes form UTF-8 sequences ("caf\303\251" is "café");
 * a byte that is no part of valid UTF-8 becomes U+DC00 plus the byte
 * (byte-names.ts), as the same byte read raw from /proc/PID/maps or a
 * bpftrace trace does: "\377.map" and "\376.map" are two names (review 27).
 */
export function decodeCString(text: string): string {
  if (text.indexOf('\\') < 0) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 92 /* \ */ || i + 1 >= text.length) {
      const codePoint = text.codePointAt(i)!;
      pushUtf8(bytes, codePoint);
      if (codePoint > 0xffff) i++;
      continue;
    }
    const next = text[i + 1]!;
    i++;
    switch (next) {
      case 'n':
        bytes.push(10);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'r':
        bytes.push(13);
        break;
      case '"':
        bytes.push(34);
        break;
      case '\\':
        bytes.push(92);
        break;
      case 'x': {
        const hex = text.slice(i + 1, i + 3);
        if (/^[0-9a-fA-F]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else bytes.push(92, 120);
        break;
      }
      default: {
        let digits = 0;
        let value = 0;
        while (digits < 3 && i + digits < text.length) {
          const d = text.charCodeAt(i + digits);
          if (d < 48 || d > 55) break;
          value = value * 8 + (d - 48);
          digits++;
        }
        if (digits > 0) {
          bytes.push(value & 0xff);
          i += digits - 1;
        } else {
          bytes.push(92);
          pushUtf8(bytes, next.charCodeAt(0));
        }
      }
    }
  }
  return decodeBytes(Buffer.from(bytes));
}

/** A character of the line as its bytes: a byte the line reader escaped (not UTF-8, left raw by strace) as itself. */
function pushUtf8(bytes: number[], codePoint: number): void {
  const escaped = escapedByte(codePoint);
  if (escaped >= 0) bytes.push(escaped);
  else if (codePoint < 0x80) bytes.push(codePoint);
  else if (codePoint < 0x800) bytes.push(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 63));
  else if (codePoint < 0x10000) bytes.push(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63));
  else bytes.push(0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 63), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63));
}

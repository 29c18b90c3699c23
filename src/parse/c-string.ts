// strace prints every byte of a string or path that is not printable as a C
// escape; this turns such text back into what the program passed.

/**
 * Undo strace's C-string escaping: \" \\ \n \t \v \f \r, \ooo (1–3 octal
 * digits), \xHH. Escaped bytes form UTF-8 sequences ("caf\303\251" is "café");
 * a byte that is no part of valid UTF-8 becomes U+DC00 plus the byte (the
 * lone surrogates U+DC80 to U+DCFF, as Python's "surrogateescape"), one
 * character a byte: two names that differ in such bytes stay two names.
 * U+FFFD for every such byte made "\376.map" and "\377.map" one file, and the
 * unlink of the one a leak of the other (review 27).
 */
export function decodeCString(text: string): string {
  if (text.indexOf('\\') < 0) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 92 /* \ */ || i + 1 >= text.length) {
      pushUtf8(bytes, text.codePointAt(i) ?? c);
      if (c > 0xffff || (c >= 0xd800 && c <= 0xdbff)) i++;
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
  const array = new Uint8Array(bytes);
  try {
    return utf8Decoder.decode(array);
  } catch {
    return decodeEscapingInvalid(array);
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 with each byte that is no part of a valid sequence as U+DC00 plus the byte (decodeCString). */
function decodeEscapingInvalid(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const length = validSequenceAt(bytes, i);
    if (length === 0) {
      text += String.fromCharCode(0xdc00 | bytes[i]!);
      i++;
      continue;
    }
    text += utf8Decoder.decode(bytes.subarray(i, i + length));
    i += length;
  }
  return text;
}

/** The length of the well-formed UTF-8 sequence at `at` (Unicode's table 3-7), or 0. */
function validSequenceAt(bytes: Uint8Array, at: number): number {
  const lead = bytes[at]!;
  if (lead < 0x80) return 1;
  const [length, low, high] =
    lead >= 0xc2 && lead <= 0xdf
      ? [2, 0x80, 0xbf]
      : lead === 0xe0
        ? [3, 0xa0, 0xbf]
        : lead === 0xed
          ? [3, 0x80, 0x9f]
          : lead >= 0xe1 && lead <= 0xef
            ? [3, 0x80, 0xbf]
            : lead === 0xf0
              ? [4, 0x90, 0xbf]
              : lead === 0xf4
                ? [4, 0x80, 0x8f]
                : lead >= 0xf1 && lead <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : [0, 0, 0];
  if (length === 0 || at + length > bytes.length) return 0;
  const second = bytes[at + 1]!;
  if (second < low || second > high) return 0;
  for (let i = 2; i < length; i++) if (bytes[at + i]! < 0x80 || bytes[at + i]! > 0xbf) return 0;
  return length;
}

function pushUtf8(bytes: number[], codePoint: number): void {
  if (codePoint < 0x80) bytes.push(codePoint);
  else if (codePoint < 0x800) bytes.push(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 63));
  else if (codePoint < 0x10000) bytes.push(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63));
  else bytes.push(0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 63), 0x80 | ((codePoint >> 6) & 63), 0x80 | (codePoint & 63));
}

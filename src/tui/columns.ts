// Text measured in terminal columns, the way ink lays it out: string-width
// (ink's own measure) gives a CJK character or an emoji two columns and a
// combining mark none, and a cut falls between grapheme clusters only, so it
// never splits a surrogate pair or takes a mark from its letter. Pure: no ink.
import stringWidth from 'string-width';

/**
 * Printable ASCII: one column per UTF-16 unit. Tables are mostly such text,
 * and the callers keep their old code for it, both for speed (no segmenting)
 * and so that its output stays what it always was.
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function isPrintableAscii(text: string): boolean {
  return PRINTABLE_ASCII.test(text);
}

export function textWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function graphemes(text: string): string[] {
  return Array.from(GRAPHEMES.segment(text), (piece) => piece.segment);
}

/** A piece of a text and the columns it takes. */
export interface Cut {
  text: string;
  width: number;
}

/** The longest start of `text` that takes at most `width` columns, in whole graphemes. */
export function startWithin(text: string, width: number): Cut {
  if (PRINTABLE_ASCII.test(text)) {
    const kept = text.slice(0, Math.max(0, width));
    return { text: kept, width: kept.length };
  }
  let end = 0;
  let used = 0;
  for (const { segment, index } of GRAPHEMES.segment(text)) {
    const columns = stringWidth(segment);
    if (used + columns > width) break;
    used += columns;
    end = index + segment.length;
  }
  return { text: text.slice(0, end), width: used };
}

/** The longest end of `text` that takes at most `width` columns, in whole graphemes. */
export function endWithin(text: string, width: number): Cut {
  if (PRINTABLE_ASCII.test(text)) {
    const kept = width <= 0 ? '' : text.slice(Math.max(0, text.length - width));
    return { text: kept, width: kept.length };
  }
  const pieces = graphemes(text);
  let start = text.length;
  let used = 0;
  for (let k = pieces.length - 1; k >= 0; k--) {
    const columns = stringWidth(pieces[k]!);
    if (used + columns > width) break;
    used += columns;
    start -= pieces[k]!.length;
  }
  return { text: text.slice(start), width: used };
}

const ELLIPSIS = '…';

/**
 * Both ends of a string with … in between, in `width` columns; the text
 * itself when it fits. A wide character that would straddle the cut is left
 * out, and a space at the end makes up the column it leaves.
 */
export function elideMiddle(text: string, width: number): string {
  if (PRINTABLE_ASCII.test(text)) {
    if (text.length <= width) return text;
    if (width <= 1) return width === 1 ? ELLIPSIS : '';
    const tail = Math.floor((width - 1) / 2);
    const head = width - 1 - tail;
    return `${text.slice(0, head)}${ELLIPSIS}${text.slice(text.length - tail)}`;
  }
  if (stringWidth(text) <= width) return text;
  if (width <= 1) return width === 1 ? ELLIPSIS : '';
  const head = startWithin(text, width - 1 - Math.floor((width - 1) / 2));
  // A column the head could not use goes to the tail.
  const tail = endWithin(text, width - 1 - head.width);
  return `${head.text}${ELLIPSIS}${tail.text}${' '.repeat(width - 1 - head.width - tail.width)}`;
}

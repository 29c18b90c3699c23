// Text measured in terminal columns, the way ink lays it out: string-width
// (ink's own measure) gives a CJK character or an emoji two columns and a
// combining mark none, and a cut falls between grapheme clusters only, so it
// never splits a surrogate pair or takes a mark from its letter. Pure: no ink.
import stringWidth from 'string-width';

/**
 * Text of one column per UTF-16 unit, each unit a grapheme of its own:
 * printable ASCII, and the narrow marks the TUI puts in itself (the … of a
 * cut, which nearly every path label holds, ▼ ▲ · → ›). Tables are mostly
 * such text, and the callers keep their old code for it, both for speed
 * (with the … measured by string-width, the cells of 10,000 rows took 7 s
 * against 0.2) and so that its output stays what it always was.
 */
const ONE_COLUMN_EACH = /^[\x20-\x7e…▼▲·→›]*$/;

export function isOneColumnEach(text: string): boolean {
  return ONE_COLUMN_EACH.test(text);
}

/**
 * Characters each of which is a grapheme of its own wherever it stands among
 * the others, one column wide below U+3000 and two from there: Latin-1 and
 * Latin Extended-A, the TUI's marks, and the CJK ideographs, kana, Hangul
 * syllables (no jamo: they would join them), CJK punctuation and fullwidth
 * forms that most CJK names are made of. Text of them alone is cut and
 * measured without the segmenter, which costs half a microsecond a grapheme.
 * test/tui-width.test.ts checks each against string-width and Intl.Segmenter.
 */
export const UNIT_GRAPHEME_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa0, 0xac],
  [0xae, 0x17f],
  [0x2026, 0x2026],
  [0x203a, 0x203a],
  [0x2192, 0x2192],
  [0x25b2, 0x25b2],
  [0x25bc, 0x25bc],
  [0x3001, 0x3003],
  [0x300c, 0x300f],
  [0x3041, 0x3096],
  [0x30a1, 0x30fa],
  [0x30fc, 0x30fc],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
  [0xff01, 0xff5e],
];
const unit = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`;
const UNIT_GRAPHEMES = new RegExp(`^[${UNIT_GRAPHEME_RANGES.map(([low, high]) => `${unit(low)}-${unit(high)}`).join('')}]*$`);
/** Where UNIT_GRAPHEMES' two-column characters start. */
const FIRST_WIDE_UNIT = 0x3000;

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function graphemes(text: string): string[] {
  if (UNIT_GRAPHEMES.test(text)) return text.split('');
  return Array.from(GRAPHEMES.segment(text), (piece) => piece.segment);
}

/**
 * Widths of the graphemes met so far: string-width tests each against the
 * emoji and Hangul rules, a few microseconds a grapheme, and a trace's names
 * repeat the same few characters on every line of a timeline.
 */
const GRAPHEME_WIDTHS = new Map<string, number>();
const GRAPHEME_WIDTHS_KEPT = 4096;

export function graphemeWidth(grapheme: string): number {
  let width = GRAPHEME_WIDTHS.get(grapheme);
  if (width === undefined) {
    width = stringWidth(grapheme);
    if (GRAPHEME_WIDTHS.size >= GRAPHEME_WIDTHS_KEPT) GRAPHEME_WIDTHS.clear();
    GRAPHEME_WIDTHS.set(grapheme, width);
  }
  return width;
}

/** An escape or CSI starts a sequence string-width leaves out as a whole, not a grapheme at a time. */
const ANSI_START = /[\u001b\u009b]/;

export function textWidth(text: string): number {
  if (ONE_COLUMN_EACH.test(text)) return text.length;
  if (UNIT_GRAPHEMES.test(text)) {
    let width = text.length;
    for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) >= FIRST_WIDE_UNIT) width++;
    return width;
  }
  // string-width's own sum, grapheme by grapheme.
  if (ANSI_START.test(text)) return stringWidth(text);
  let width = 0;
  for (const { segment } of GRAPHEMES.segment(text)) width += graphemeWidth(segment);
  return width;
}

/** A piece of a text and the columns it takes. */
export interface Cut {
  text: string;
  width: number;
}

/** The longest start of `text` that takes at most `width` columns, in whole graphemes. */
export function startWithin(text: string, width: number): Cut {
  if (ONE_COLUMN_EACH.test(text)) {
    const kept = text.slice(0, Math.max(0, width));
    return { text: kept, width: kept.length };
  }
  let end = 0;
  let used = 0;
  for (const grapheme of graphemes(text)) {
    const columns = graphemeWidth(grapheme);
    if (used + columns > width) break;
    used += columns;
    end += grapheme.length;
  }
  return { text: text.slice(0, end), width: used };
}

/** The longest end of `text` that takes at most `width` columns, in whole graphemes. */
export function endWithin(text: string, width: number): Cut {
  if (ONE_COLUMN_EACH.test(text)) {
    const kept = width <= 0 ? '' : text.slice(Math.max(0, text.length - width));
    return { text: kept, width: kept.length };
  }
  const pieces = graphemes(text);
  let start = text.length;
  let used = 0;
  for (let k = pieces.length - 1; k >= 0; k--) {
    const columns = graphemeWidth(pieces[k]!);
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
  if (ONE_COLUMN_EACH.test(text)) {
    if (text.length <= width) return text;
    if (width <= 1) return width === 1 ? ELLIPSIS : '';
    const tail = Math.floor((width - 1) / 2);
    const head = width - 1 - tail;
    return `${text.slice(0, head)}${ELLIPSIS}${text.slice(text.length - tail)}`;
  }
  if (textWidth(text) <= width) return text;
  if (width <= 1) return width === 1 ? ELLIPSIS : '';
  const head = startWithin(text, width - 1 - Math.floor((width - 1) / 2));
  // A column the head could not use goes to the tail.
  const tail = endWithin(text, width - 1 - head.width);
  return `${head.text}${ELLIPSIS}${tail.text}${' '.repeat(width - 1 - head.width - tail.width)}`;
}

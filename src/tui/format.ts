// Cell formatting for the TUI: pure string functions, no ink. Every string
// that came from a trace goes through escapeControl before it is measured or
// cut, so an escape sequence in a file name is shown, never obeyed.
import type { Finding } from '../engine/findings.js';
import { formatDelay } from '../report/finding-view.js';
import { escapeControl, formatBytes } from '../report/sanitize.js';
import { elideMiddle, graphemes, graphemeWidth, isOneColumnEach, startWithin, textWidth } from './columns.js';

const ELLIPSIS = '…';

/** The most UTF-16 units of one text from a trace that the TUI draws (shownText): half of PATH_MAX. */
export const MAX_SHOWN_UNITS = 2048;

/**
 * A text from a trace (a path, an evidence line) as the screen shows it:
 * escaped (escapeControl), and when longer than MAX_SHOWN_UNITS, its head and
 * tail around …, cut before it is escaped or measured. Every frame measures
 * what it draws grapheme by grapheme, and a trace's names are the trace's to
 * choose: five names of 300,000 graphemes held the TUI for minutes, deaf to q
 * and Ctrl-C (review 19). Reports and exports keep the whole text.
 */
export function shownText(text: string): string {
  if (text.length <= MAX_SHOWN_UNITS) return escapeControl(text);
  const half = MAX_SHOWN_UNITS / 2;
  let headEnd = half;
  let tailStart = text.length - half;
  // Not between the two halves of a surrogate pair.
  if (isLowSurrogate(text.charCodeAt(headEnd))) headEnd--;
  if (isLowSurrogate(text.charCodeAt(tailStart))) tailStart++;
  return `${escapeControl(text.slice(0, headEnd))}${ELLIPSIS}${escapeControl(text.slice(tailStart))}`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** `text` in exactly `width` columns: padded, or cut with … where it does not fit. */
export function fit(text: string, width: number): string {
  if (isOneColumnEach(text)) {
    if (text.length > width) return width <= 0 ? '' : `${text.slice(0, width - 1)}${ELLIPSIS}`;
    return text.padEnd(width);
  }
  if (width <= 0) return '';
  const columns = textWidth(text);
  if (columns <= width) return `${text}${' '.repeat(width - columns)}`;
  const head = startWithin(text, width - 1);
  // A wide character that does not fit whole is left out: a space keeps the cell its width.
  return `${head.text}${ELLIPSIS}${' '.repeat(width - 1 - head.width)}`;
}

export function fitRight(text: string, width: number): string {
  const columns = textWidth(text);
  if (columns > width) return fit(text, width);
  return `${' '.repeat(width - columns)}${text}`;
}

/**
 * How long the mapping has been (or was) held past the deciding event: the
 * delay once resolved, else its age as the store measured it (snapshot.ages).
 */
export function ageLabel(finding: Finding, ageMs: number | undefined): string {
  if (finding.delayMs !== null) return formatDelay(finding.delayMs);
  if (finding.resolution !== null && finding.resolution !== 'still-mapped') return '';
  return ageMs === undefined ? '' : formatDelay(ageMs);
}

export function sizeLabel(bytes: number): string {
  return formatBytes(bytes);
}

export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mmss = `${String(minutes).padStart(hours > 0 ? 2 : 1, '0')}:${String(seconds).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * A sparkline of a step function sampled at points (x ascending) over the
 * axis [start, end]: before the first point the value is 0, and each column
 * shows the highest value held during its slice of the axis, so a short
 * spike is not lost between samples. Zero is a blank column, so "none left"
 * reads as empty, and a value held only at the end of the axis draws only at
 * the right edge.
 */
export function sparkline(points: readonly { x: number; value: number }[], width: number, start?: number, end?: number): string {
  if (width <= 0) return '';
  if (points.length === 0) return ' '.repeat(width);
  const first = start ?? points[0]!.x;
  const last = Math.max(end ?? points[points.length - 1]!.x, first);
  const span = last - first;
  const columns = new Array<number>(width).fill(0);
  let k = 0;
  let held = 0;
  for (let c = 0; c < width; c++) {
    const until = span === 0 ? last : first + (span * (c + 1)) / width;
    let high = held;
    while (k < points.length && (points[k]!.x <= until || c === width - 1)) {
      held = points[k]!.value;
      high = Math.max(high, held);
      k++;
    }
    columns[c] = high;
  }
  const peak = Math.max(...columns);
  return columns
    .map((value) => {
      if (value <= 0) return ' ';
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.ceil((value / peak) * BLOCKS.length) - 1)]!;
    })
    .join('');
}

/** Cut a line into rows of at most `width` columns. */
export function wrapRows(text: string, width: number): string[] {
  if (width <= 0) return [text];
  const rows: string[] = [];
  if (isOneColumnEach(text)) {
    if (text.length <= width) return [text];
    for (let at = 0; at < text.length; at += width) rows.push(text.slice(at, at + width));
    return rows;
  }
  if (textWidth(text) <= width) return [text];
  let row = '';
  let used = 0;
  for (const grapheme of graphemes(text)) {
    const columns = graphemeWidth(grapheme);
    if (used + columns > width) {
      if (row !== '') rows.push(row);
      row = '';
      used = 0;
    }
    // A cluster wider than a whole row (a letter with a run of spacing marks) cannot be shown in it: … says something is there.
    if (columns > width) rows.push(ELLIPSIS);
    else {
      row += grapheme;
      used += columns;
    }
  }
  if (row !== '') rows.push(row);
  return rows;
}

/**
 * The raw line without the pid and timestamp strace put in front of it: the
 * detail pane shows those in their own columns.
 *   7619  1795606233.536518 unlink("/tmp/…/00000000000000000000.index.deleted") = 0 <0.000049>
 *   ^^^^^^^^^^^^^^^^^^^^^^^^ prefix
 */
export function callText(text: string): string {
  // 1498786587098 0 26514 26581 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/tmp/omw/x.index.deleted
  // ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ ns cpu tgid tid (orphanmap.bt): raw nanoseconds are never shown
  const bpftrace = /^\d+ \d+ \d+ \d+ (?=[a-z])/.exec(text);
  if (bpftrace !== null) return text.slice(bpftrace[0].length);
  const match = /^(?:\[pid\s+\d+(?:<[^>]*>)?\]\s+|\d+(?:<[^>]*>)?\s+)?(?:\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\s+|\d+\.\d+\s+)?/.exec(text);
  const cut = match === null ? 0 : match[0].length;
  return text.slice(cut);
}

/** A piece of a header line: what it says, how much it matters, and whether it can be cut shorter. */
export interface LinePart {
  text: string;
  /** Higher stays longer; parts are dropped lowest first when the line is too long. */
  priority: number;
  /** A part that may be cut (a command line, a file name) rather than dropped, down to `min` characters. */
  shrink?: 'end' | 'middle';
  min?: number;
  /** The separator before this part, when not the line's usual one. */
  gapBefore?: string;
}

/**
 * Fit parts into `width` columns with `gap` between them, in their order:
 * from the least important up, a part that may be cut is cut (down to its
 * `min`), and a part that still does not fit is dropped whole. What matters
 * most is never cut off by something less important printed before it.
 */
export function fitParts<T extends LinePart>(parts: readonly T[], width: number, gap = '  '): (T & { shown: string; gap: string })[] {
  const items = parts.map((part) => ({ ...part, shown: part.text, gap: '' }));
  const total = () => {
    let sum = 0;
    items.forEach((item, k) => {
      item.gap = k === 0 ? '' : (item.gapBefore ?? gap);
      sum += textWidth(item.gap) + textWidth(item.shown);
    });
    return sum;
  };
  const byPriority = [...items].sort((a, b) => a.priority - b.priority);
  for (const item of byPriority) {
    const over = total() - width;
    if (over <= 0) break;
    if (item.shrink !== undefined) {
      const shownWidth = textWidth(item.shown);
      const room = Math.max(item.min ?? 8, shownWidth - over);
      if (room < shownWidth) item.shown = item.shrink === 'middle' ? elideMiddle(item.shown, room) : fit(item.shown, room).trimEnd();
      if (total() <= width) break;
    }
    if (items.length > 1) items.splice(items.indexOf(item), 1);
  }
  total();
  return items;
}

/** Seconds as a span: "445.3 ms", "2.6 min". */
export function spanLabel(seconds: number): string {
  return formatDelay(Math.max(0, seconds * 1000));
}

/** A wall-clock moment as HH:MM:SS (local time). */
export function clockLabel(epochMs: number): string {
  const date = new Date(epochMs);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Words into rows of at most `width` columns; a word longer than a row is cut. */
export function wrapWords(text: string, width: number): string[] {
  if (width <= 0) return [text];
  const measure = isOneColumnEach(text) ? (word: string) => word.length : textWidth;
  const rows: string[] = [];
  let row = '';
  let used = 0;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const columns = measure(word);
    if (row === '') {
      row = word;
      used = columns;
    } else if (used + 1 + columns <= width) {
      row += ` ${word}`;
      used += 1 + columns;
    } else {
      rows.push(row);
      row = word;
      used = columns;
    }
    if (used > width) {
      const pieces = wrapRows(row, width);
      rows.push(...pieces.slice(0, -1));
      row = pieces[pieces.length - 1]!;
      used = measure(row);
    }
  }
  if (row !== '' || rows.length === 0) rows.push(row);
  return rows;
}

/**
 * The text in pieces, the hits of `needle` marked, case aside. Lower case is
 * taken a character at a time wherever it would change the length (İ becomes
 * i and a combining dot), so that an index into it is one into the text, and
 * the needle is folded the same way, or an İ in it would never match (final
 * review); a hit is widened to whole graphemes, so that no style starts inside
 * a cluster or between the halves of a surrogate pair.
 */
export function highlightPieces(text: string, filter: string): { text: string; hit: boolean }[] {
  const needle = lowerKeepingIndices(filter);
  if (needle === '') return [{ text, hit: false }];
  const plain = isOneColumnEach(text);
  const lower = plain ? text.toLowerCase() : lowerKeepingIndices(text);
  const bounds = plain ? null : graphemeBounds(text);
  const pieces: { text: string; hit: boolean }[] = [];
  let at = 0;
  for (let found = lower.indexOf(needle); found >= 0; found = lower.indexOf(needle, at)) {
    let start = found;
    let end = found + needle.length;
    if (bounds !== null) {
      while (!bounds.has(start)) start--;
      while (!bounds.has(end)) end++;
    }
    start = Math.max(start, at);
    if (start > at) pieces.push({ text: text.slice(at, start), hit: false });
    pieces.push({ text: text.slice(start, end), hit: true });
    at = end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), hit: false });
  return pieces;
}

function lowerKeepingIndices(text: string): string {
  let out = '';
  for (const char of text) {
    const low = char.toLowerCase();
    out += low.length === char.length ? low : char;
  }
  return out;
}

/** Offsets where a grapheme starts, and the text's end. */
function graphemeBounds(text: string): Set<number> {
  const bounds = new Set<number>([text.length]);
  let at = 0;
  for (const grapheme of graphemes(text)) {
    bounds.add(at);
    at += grapheme.length;
  }
  return bounds;
}

// Cell formatting for the TUI: pure string functions, no ink. Every string
// that came from a trace goes through escapeControl before it is measured or
// cut, so an escape sequence in a file name is shown, never obeyed.
import type { Finding } from '../engine/findings.js';
import { formatDelay } from '../report/finding-view.js';
import { escapeControl, formatBytes } from '../report/sanitize.js';

const ELLIPSIS = '…';

/**
 * Fit a path into `width` columns, keeping the file name: the name is what
 * tells .index from .timeindex and which segment it was. The middle goes first.
 *   /tmp/orphanmap-repro/t/topic-1/00000000000000001000.index.deleted
 *   /tmp/…/topic-1/00000000000000001000.index.deleted
 */
export function shortenPath(raw: string, width: number): string {
  const path = escapeControl(raw);
  if (width <= 0) return '';
  if (path.length <= width) return path;
  const parts = path.split('/');
  const name = parts.pop() ?? path;
  const parent = parts.pop();
  // Kafka-style names are mostly zeros: 00000000000000001000.index → 0…1000.index
  const squeezed = name.replace(/0{4,}/g, (run: string, at: number) => (/\d/.test(name.charAt(at + run.length)) ? `0${ELLIPSIS}` : `0${ELLIPSIS}0`));
  // The parent directory names the topic partition: keep it before the head of the path.
  const candidates = parent === undefined || parent === '' ? [squeezed] : [`${ELLIPSIS}/${parent}/${name}`, `${ELLIPSIS}/${parent}/${squeezed}`, squeezed];
  for (const candidate of candidates) if (candidate.length <= width) return candidate;
  return elideMiddle(squeezed, width);
}

/** Keep both ends of a string, with … in between. */
export function elideMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return width === 1 ? ELLIPSIS : '';
  const tail = Math.floor((width - 1) / 2);
  const head = width - 1 - tail;
  return `${text.slice(0, head)}${ELLIPSIS}${text.slice(text.length - tail)}`;
}

export function fit(text: string, width: number): string {
  if (text.length > width) return width <= 0 ? '' : `${text.slice(0, width - 1)}${ELLIPSIS}`;
  return text.padEnd(width);
}

export function fitRight(text: string, width: number): string {
  if (text.length > width) return fit(text, width);
  return text.padStart(width);
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
 * A sparkline of a step function sampled at points (x ascending): each column
 * shows the highest value held during its slice of x, so a short spike is not
 * lost between samples. Zero is a blank column, so "none left" reads as empty.
 */
export function sparkline(points: readonly { x: number; value: number }[], width: number): string {
  if (width <= 0) return '';
  if (points.length === 0) return ' '.repeat(width);
  const first = points[0]!.x;
  const last = points[points.length - 1]!.x;
  const span = last - first;
  const columns = new Array<number>(width).fill(0);
  let k = 0;
  let held = 0;
  for (let c = 0; c < width; c++) {
    const end = span === 0 ? first : first + (span * (c + 1)) / width;
    let high = held;
    while (k < points.length && (points[k]!.x <= end || c === width - 1)) {
      held = points[k]!.value;
      high = Math.max(high, held);
      k++;
    }
    columns[c] = high;
  }
  const peak = Math.max(...columns);
  return columns
    .map((value) => {
      if (value <= 0) return peak === 0 ? BLOCKS[0] : ' ';
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.ceil((value / peak) * BLOCKS.length) - 1)]!;
    })
    .join('');
}

/** Cut a line into rows of at most `width` characters. */
export function wrapRows(text: string, width: number): string[] {
  if (width <= 0) return [text];
  if (text.length <= width) return [text];
  const rows: string[] = [];
  for (let at = 0; at < text.length; at += width) rows.push(text.slice(at, at + width));
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

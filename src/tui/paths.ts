// Paths in a column too narrow for them. Two different files must never look
// the same, and what tells them apart goes last:
//
//   /var/lib/kafka/data/orders-1/00000000000000146685.timeindex.deleted
//   …/orders-1/00000000000000146685.timeindex.deleted     the head goes first
//   …/orders-1/0…146685.timeindex.deleted                 then the zeros of a base offset
//   …rs-1/0…146685.timeindex.deleted                      then the head of the distinguishing directory
//
// "Distinguishing" is measured against every path the store holds (PathIndex):
// the shortest run of trailing components no other path ends with. Widths are
// terminal columns (columns.ts), two for a CJK character. Pure: no ink.
import { elideMiddle, endWithin, isOneColumnEach, textWidth } from './columns.js';

const ELLIPSIS = '…';

/**
 * How many trailing components set each path apart from all the others. Paths
 * are grouped by their last component, the only ones that can share a
 * trailing run with a path; most groups hold one path. A count of every
 * suffix of every path was six map entries and sliced strings per path
 * (about 400 bytes: 13 MiB of the TUI's 30,000 findings, issue #14).
 */
const DEPTHS_KEPT = 4096;

export class PathIndex {
  /** The distinct paths by last component: the path itself while it is the only one. */
  private readonly byLast = new Map<string, string | string[]>();
  /** Depths asked since the last new path. */
  private readonly depths = new Map<string, number>();

  add(path: string): void {
    const last = lastComponent(path);
    const group = this.byLast.get(last);
    if (group === path || (Array.isArray(group) && group.includes(path))) return;
    if (group === undefined) this.byLast.set(last, path);
    else if (typeof group === 'string') this.byLast.set(last, [group, path]);
    else group.push(path);
    this.depths.clear();
  }

  /** Trailing components needed to tell `path` from every other path (all of them when it ends another path). */
  depth(path: string): number {
    let depth = this.depths.get(path);
    if (depth === undefined) {
      depth = this.count(path);
      if (this.depths.size >= DEPTHS_KEPT) this.depths.clear();
      this.depths.set(path, depth);
    }
    return depth;
  }

  private count(path: string): number {
    const group = this.byLast.get(lastComponent(path));
    const others = group === undefined ? [] : typeof group === 'string' ? [group] : group;
    const parts = path.split('/');
    for (let k = 1; k <= parts.length; k++) {
      const suffix = parts.slice(parts.length - k).join('/');
      let holders = 0;
      for (const other of others) if (other === suffix || other.endsWith(`/${suffix}`)) holders++;
      if (holders <= 1) return k;
    }
    return parts.length;
  }
}

function lastComponent(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Leading zeros of a long run of digits, as in Kafka's 20-digit base offsets:
 * 00000000000000146685 → 0…146685, 00000000000000000000 → 0…0.
 */
export function squeezeZeros(text: string): string {
  return text.replace(/(?<!\d)0{4,}(\d*)(?!\d)/g, (run: string, rest: string) => (run.length < 8 ? run : `0${ELLIPSIS}${rest === '' ? '0' : rest}`));
}

/**
 * The candidates for one path, most faithful first: squeezing zeros loses
 * nothing a reader needs, so it comes before dropping the head; every
 * candidate after the whole path ends with the distinguishing components, or
 * with as many characters of them as fit.
 */
function candidates(path: string, depth: number, width: number): string[] {
  const parts = path.split('/');
  const lowest = Math.min(parts.length, Math.max(1, depth));
  const suffixOf = (m: number, squeeze: boolean) => {
    const kept = parts.slice(parts.length - m);
    return (squeeze ? kept.map(squeezeZeros) : kept).join('/');
  };
  const squeezed = squeezeZeros(path);
  const out = [path, squeezed];
  for (let m = parts.length - 1; m >= lowest; m--) out.push(`${ELLIPSIS}/${suffixOf(m, true)}`);
  // Two names that differ only in how many zeros they start with.
  if (lowest < parts.length) out.push(`${ELLIPSIS}/${suffixOf(lowest, false)}`);
  // Narrower than the distinguishing suffix: its head goes first (a
  // partition directory keeps its number), then its middle.
  // Not one cut inside the last component when a directory tells the file apart: "……1000.timeindex.deleted" read
  // the same for topic-0 and topic-1, and changed as the other scrolled into view (review 93, D6).
  if (width >= 2) {
    const end = endOf(squeezed, width - 1);
    if (lowest < 2 || /[^/…]\//.test(end)) out.push(`${ELLIPSIS}${end}`);
  }
  // One ellipsis where the cut meets a squeezed run of zeros ("0……x.deleted").
  out.push(elideMiddle(suffixOf(lowest, true), width).replace(/……/g, ELLIPSIS));
  return out;
}

/**
 * The last resort for paths every candidate of which reads as another's
 * (review 93, D8: three names that differ in the middle of a long last
 * component, each cut where they differ): the characters from where it
 * differs from the others to its end, or, when those do not fit, a window
 * around the furthest difference and the end. One column a character only;
 * null otherwise.
 */
function differenceLabel(path: string, others: readonly string[], width: number): string | null {
  const text = squeezeZeros(path);
  if (!isOneColumnEach(text) || width < 8) return null;
  // How far from the end the text differs from each other path: the furthest of those.
  let far = 1;
  for (const other of others.map(squeezeZeros)) {
    let k = 1;
    while (k <= text.length && k <= other.length && text[text.length - k] === other[other.length - k]) k++;
    far = Math.max(far, k);
  }
  if (far + 1 <= width) return `${ELLIPSIS}${text.slice(text.length - (width - 1))}`;
  const tail = Math.max(1, Math.min(12, Math.floor(width / 3)));
  const window = width - tail - 2;
  const start = Math.max(0, Math.min(text.length - far - Math.floor(window / 2), text.length - tail - window));
  return `${start === 0 ? '' : ELLIPSIS}${text.slice(start, start + window)}${ELLIPSIS}${text.slice(text.length - tail)}`;
}

/**
 * The last `width` columns of a squeezed path. Text of one column a unit
 * (ASCII) keeps the slice it always had, whose start counts from the end when
 * `width` is past the length (a candidate that is never the first to fit
 * then): its labels stay as they were.
 */
function endOf(squeezed: string, width: number): string {
  return isOneColumnEach(squeezed) ? squeezed.slice(squeezed.length - width) : endWithin(squeezed, width).text;
}

/**
 * Labels for the paths shown together, each at most `width` columns, the
 * most faithful that fits; where two different paths would read the same, the
 * next candidate is tried for both. `depthOf` comes from a PathIndex over
 * every path the view holds, so a label does not change as rows scroll by.
 */
export function pathLabels(paths: readonly string[], width: number, depthOf: (path: string) => number): Map<string, string> {
  const distinct = [...new Set(paths)];
  const lists = new Map<string, string[]>();
  const level = new Map<string, number>();
  for (const path of distinct) {
    // Candidates are made of the path's own characters, … and /: one look at the path tells how to measure them all.
    const measure = isOneColumnEach(path) ? (label: string) => label.length : textWidth;
    const list = candidates(path, depthOf(path), width).filter((label) => measure(label) <= width);
    lists.set(path, list.length > 0 ? list : [elideMiddle(path, width)]);
    level.set(path, 0);
  }
  const labelOf = (path: string) => {
    const list = lists.get(path)!;
    return list[Math.min(level.get(path)!, list.length - 1)]!;
  };
  for (let round = 0; round < 16; round++) {
    const owners = new Map<string, string[]>();
    for (const path of distinct) {
      const label = labelOf(path);
      const group = owners.get(label);
      if (group === undefined) owners.set(label, [path]);
      else group.push(path);
    }
    let moved = false;
    for (const group of owners.values()) {
      if (group.length < 2) continue;
      for (const path of group) {
        if (level.get(path)! < lists.get(path)!.length - 1) {
          level.set(path, level.get(path)! + 1);
          moved = true;
        }
      }
    }
    if (!moved) break;
  }
  const labels = new Map(distinct.map((path) => [path, labelOf(path)]));
  const owners = new Map<string, string[]>();
  for (const [path, label] of labels) owners.set(label, [...(owners.get(label) ?? []), path]);
  for (const group of owners.values()) {
    if (group.length < 2) continue;
    for (const path of group) {
      const label = differenceLabel(
        path,
        group.filter((other) => other !== path),
        width,
      );
      if (label !== null) labels.set(path, label);
    }
  }
  return labels;
}

/** The label's width at its best fit with unlimited room: how wide a column should be for it. */
export function neededWidth(path: string, depth: number): number {
  const parts = path.split('/');
  const m = Math.min(parts.length, Math.max(1, depth));
  if (m >= parts.length) return textWidth(squeezeZeros(path));
  return (
    2 +
    textWidth(
      parts
        .slice(parts.length - m)
        .map(squeezeZeros)
        .join('/'),
    )
  );
}

// The chart's data: how many mappings of deleted files were live, and their
// bytes, at each moment of the trace. Pure: findings and the trace's span in,
// a step function out. A mapping counts from its file's unlink (or from the
// start, for one already deleted in a bundle's start snapshot) until it was
// unmapped or its process exited, or to the end of the trace.
import type { Finding } from '../engine/findings.js';
import { heldWhenUnlinked, secondsOf } from '../report/finding-view.js';

/** The first and last event times of the trace, in the parser's seconds. */
export interface TraceSpan {
  first: number;
  last: number;
}

/** Deleted-but-mapped at `t` and until the next point. */
export interface SeriesPoint {
  t: number;
  count: number;
  bytes: number;
}

export interface UnlinkMark {
  t: number;
  id: string;
  benign: boolean;
}

export interface DeletedSeries {
  span: TraceSpan;
  /** A step function from span.first; the last point's values hold to span.last. */
  points: SeriesPoint[];
  /** Each unlink of a mapped file, in time order. */
  unlinks: UnlinkMark[];
  peak: SeriesPoint;
  /** Findings whose unlink or end has no time (a trace without -t/-tt/-ttt): not drawn. */
  unplaced: string[];
}

/** Seconds of an end of an interval that the trace timed, or null when it gave none. */
type Edge = number | null;

export function deletedSeries(findings: readonly Finding[], span: TraceSpan): DeletedSeries {
  // Each step as numbers in three arrays, not an object: one for each of 15,556 unlinks (leaky80) outlived
  // two young collections while the series was made, and was moved to the old generation.
  const stepT: number[] = [];
  const stepCount: number[] = [];
  const stepBytes: number[] = [];
  const step = (t: number, count: number, bytes: number) => {
    stepT.push(t);
    stepCount.push(count);
    stepBytes.push(bytes);
  };
  const unlinks: UnlinkMark[] = [];
  const unplaced: string[] = [];
  const clamp = (t: number) => Math.min(span.last, Math.max(span.first, t));
  for (const finding of findings) {
    if (finding.kind !== 'unlinked-while-mapped') continue;
    // unlinkedAt null: the file was already deleted when the trace began.
    const from: Edge = finding.unlinkedAt === null ? span.first : secondsOf(finding.unlinkedAt);
    const ended = finding.resolution === 'unmapped' || finding.resolution === 'process-exited';
    const to: Edge = ended ? secondsOf(finding.resolvedAt) : span.last;
    if (from === null || to === null) {
      unplaced.push(finding.id);
      continue;
    }
    const bytes = heldWhenUnlinked(finding);
    step(clamp(from), 1, bytes);
    if (ended) step(clamp(to), -1, -bytes);
    if (finding.unlinkedAt !== null) unlinks.push({ t: clamp(from), id: finding.id, benign: finding.severity === 'info' });
  }
  // A stable sort, as of the steps themselves: steps at one instant stay in the order they were made.
  const order = stepT.map((_, index) => index).sort((a, b) => stepT[a]! - stepT[b]!);
  unlinks.sort((a, b) => a.t - b.t);

  const points: SeriesPoint[] = [{ t: span.first, count: 0, bytes: 0 }];
  for (const index of order) {
    const t = stepT[index]!;
    const last = points[points.length - 1]!;
    const next = { t, count: last.count + stepCount[index]!, bytes: last.bytes + stepBytes[index]! };
    // Changes at one instant are one point: a mapping released and another
    // made deleted in the same microsecond never show as a spike or a dip.
    if (t === last.t) points[points.length - 1] = next;
    else points.push(next);
  }
  let peak = points[0]!;
  for (const point of points) if (point.count > peak.count || (point.count === peak.count && point.bytes > peak.bytes)) peak = point;
  return { span, points, unlinks, peak: { ...peak }, unplaced };
}

// Time in the TUI's store: the trace's clock (which runs on with the wall
// clock while a live capture is idle), the age of a still-mapped finding, and
// the chart's series and axis. Pure functions over the store's data.
import type { Finding } from '../engine/findings.js';
import type { TraceSpan } from '../evidence/series.js';
import { decidedAt, secondsOf } from '../report/finding-view.js';
import type { SeriesPoint, TimeAxis } from './snapshot.js';

/** The trace's clock as last seen: seconds in the parser's unit, and the store time (ms) it was seen at. */
export interface TraceTime {
  traceNow: number | null;
  /** store clock (ms) when traceNow was set: live, the trace's clock runs on from there. */
  traceNowAt: number;
  /** The earliest trace time a finding or chart point names. */
  earliest: number | null;
  /** A file's first and last event times, once it is read to its end: its chart spans them. */
  span: TraceSpan | null;
}

/** The trace's clock at store time `at`: the latest time seen, plus the wall time since while a capture runs. */
export function traceClockAt(time: TraceTime, at: number, runs: boolean): number | null {
  if (time.traceNow === null) return null;
  return runs ? time.traceNow + Math.max(0, at - time.traceNowAt) / 1000 : time.traceNow;
}

/**
 * A trace time seen at store time `now`. Never moves the clock back: a live
 * reader sees events a little after they happened, so the wall-clock
 * estimate can be ahead.
 */
export function advanceTraceTime(time: TraceTime, seconds: number | null, now: number, runs: boolean): void {
  if (seconds === null) return;
  const current = traceClockAt(time, now, runs);
  time.traceNow = current === null || seconds > current ? seconds : current;
  time.traceNowAt = now;
}

/** A trace time seen anywhere in a finding: until the file's span is known, its chart starts at the earliest. */
export function noteTraceTime(time: TraceTime, seconds: number | null): void {
  if (seconds !== null && (time.earliest === null || seconds < time.earliest)) time.earliest = seconds;
}

/**
 * How long a still-mapped finding has held its mapping, in ms: trace time
 * since it was decided; when the trace carries no seconds (live), wall time
 * since the store heard of it. Undefined for resolved findings.
 */
export function ageFunction(traceNow: number | null, heardAt: ReadonlyMap<string, number>, wallNow: number): (finding: Finding) => number | undefined {
  return (finding) => {
    if (finding.delayMs !== null || (finding.resolution !== null && finding.resolution !== 'still-mapped')) return undefined;
    const since = secondsOf(decidedAt(finding));
    if (since !== null) return traceNow === null ? undefined : Math.max(0, traceNow - since) * 1000;
    const heard = heardAt.get(finding.id);
    return heard === undefined ? undefined : Math.max(0, wallNow - heard);
  };
}

/**
 * A chart sample at axis position `at`: one at or before the last point
 * replaces its values. Beyond maxPoints, neighbours merge keeping their
 * highest values, so growth and spikes stay visible.
 */
export function addPoint(series: SeriesPoint[], at: number, count: number, bytes: number, maxPoints: number): SeriesPoint[] {
  const last = series[series.length - 1];
  if (last !== undefined && at <= last.x) series[series.length - 1] = { x: last.x, count, bytes };
  else series.push({ x: at, count, bytes });
  return series.length > maxPoints ? halve(series) : series;
}

function halve(series: SeriesPoint[]): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let k = 0; k < series.length; k += 2) {
    const a = series[k]!;
    const b = series[k + 1];
    out.push(b === undefined ? a : { x: b.x, count: Math.max(a.count, b.count), bytes: Math.max(a.bytes, b.bytes) });
  }
  return out;
}

export interface AxisFacts {
  live: boolean;
  /** store clock (ms): the session's start, the end (capture ended, input read) if any, and the moment shown. */
  startedAt: number;
  endedAt: number | null;
  until: number;
  traceNow: number | null;
  earliest: number | null;
  span: TraceSpan | null;
  /** Whether chart points came with trace seconds (else with event counts). */
  timed: boolean;
  series: readonly SeriesPoint[];
  events: number;
}

/** The chart's horizontal axis (see TimeAxis), or null before there is anything to draw. */
export function chartAxis(facts: AxisFacts): TimeAxis | null {
  const lastX = facts.series[facts.series.length - 1]?.x;
  if (facts.live) {
    const end = (Math.min(facts.until, facts.endedAt ?? Infinity) - facts.startedAt) / 1000;
    return { unit: 'session', start: 0, end: Math.max(end, lastX ?? 0), startedAt: facts.startedAt };
  }
  // A file: from its first event to its last once it is read (before, the times seen so far).
  const start = lowest(facts.span?.first, facts.earliest);
  const end = highest(facts.span?.last, facts.traceNow, lastX);
  if (facts.timed || facts.span !== null || (facts.earliest !== null && facts.traceNow !== null)) {
    if (start === null || end === null) return null;
    return { unit: 'trace-seconds', start, end, startedAt: facts.startedAt };
  }
  if (facts.series.length === 0 && facts.events === 0) return null;
  return { unit: 'events', start: 0, end: Math.max(facts.events, lastX ?? 0), startedAt: facts.startedAt };
}

function lowest(...values: (number | null | undefined)[]): number | null {
  const known = values.filter((value) => value !== null && value !== undefined);
  return known.length === 0 ? null : Math.min(...known);
}

function highest(...values: (number | null | undefined)[]): number | null {
  const known = values.filter((value) => value !== null && value !== undefined);
  return known.length === 0 ? null : Math.max(...known);
}

// What the TUI's store hands to the views: the snapshot and the types in it.
// Plain data, no behaviour: components render these and nothing else.
import type { Finding } from '../engine/findings.js';
import type { Tally } from '../report/finding-view.js';
import type { Evidence } from './listed.js';

export type Backend = 'strace' | 'bpftrace';

export type SourceInfo = { kind: 'file'; names: string[] } | { kind: 'live'; pid: number | null; command: string | null; backend: Backend };

export type Phase = 'reading' | 'done' | 'live' | 'ended';

/** The orders `o` cycles through; `r` reverses the one in use. */
export const SORT_KEYS = ['severity', 'age', 'size', 'path', 'pid', 'id'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** What `s` cycles through. */
export const SEVERITY_FILTERS = ['all', 'error', 'warning', 'info'] as const;
export type SeverityFilter = (typeof SEVERITY_FILTERS)[number];

/** What each order means, for the help and the title line. */
export const SORT_WORDS: Readonly<Record<SortKey, string>> = {
  // By when each became true (the unlink), not by the AGE/DELAY column: an open finding's age grows as the trace goes
  // on while a released one's delay stays, and an order that moved rows with no event would lose the selection. Of
  // those still mapped, the oldest is the longest held (review 93, D7: "the longest held first" was said of all).
  severity: 'severity, then age (errors first, the oldest unlink first: of those still mapped, the longest held)',
  age: 'age (the oldest unlink first: of those still mapped, the longest held; not the delay of those released)',
  size: 'size (largest first)',
  path: 'path (A to Z)',
  pid: 'pid (lowest first)',
  id: 'id (the order they were found)',
};

export interface Counters {
  lines: number;
  events: number;
  unparsedLines: number;
  /** Events the tracer dropped (live; bpftrace ring buffer, strace never). */
  lostEvents: number;
  processes: number;
  liveMappings: number;
  deletedMappings: number;
  deletedBytes: number;
  /** Live mode: the traced process's map count and the system's vm.max_map_count. */
  mapCount: number | null;
  maxMapCount: number | null;
}

export interface ProgressSample {
  source: string;
  bytesRead: number;
  size: number | null;
  lines: number;
}

export interface Progress extends ProgressSample {
  /** 0..100 when the size is known. */
  percent: number | null;
  linesPerSecond: number | null;
}

/** One sample of the chart: deleted-but-mapped mappings and bytes at axis position x. */
export interface SeriesPoint {
  /** In the axis's unit (TimeAxis.unit). */
  x: number;
  count: number;
  bytes: number;
}

/**
 * The chart's horizontal axis: the whole trace read so far, or the whole live
 * session, from `start` to `end`.
 *   trace-seconds  a file with timestamps: its first and last event times (while
 *                  it is read, the earliest and latest times seen so far)
 *   events         a file without timestamps: event 0 to the last event
 *   session        live: seconds since the session started, to now
 */
export interface TimeAxis {
  unit: 'trace-seconds' | 'events' | 'session';
  start: number;
  end: number;
  /** Live: the wall clock (ms since the epoch) at the session's start. */
  startedAt: number;
}

export interface SeverityCounts {
  error: number;
  warning: number;
  info: number;
}

export interface TuiSnapshot {
  source: SourceInfo;
  phase: Phase;
  startedAt: number;
  now: number;
  /**
   * How long the analysis has run: live, the session so far (to the capture's
   * end); a file, the time spent reading it, stopped at its end and while the
   * view is paused.
   */
  elapsedMs: number;
  progress: Progress | null;
  counters: Counters;
  /** Peak deleted-but-mapped seen so far (in the shown data). */
  peak: { count: number; bytes: number };
  /** The findings as shown: filtered and sorted. */
  rows: readonly Finding[];
  /** The rows by severity. */
  rowCounts: SeverityCounts;
  totalFindings: number;
  selectedId: string | null;
  /** Index of the selection in `rows`, -1 when there are none. */
  selectedIndex: number;
  sort: SortKey;
  /** The sort order reversed (`r`). */
  reversed: boolean;
  severity: SeverityFilter;
  filterText: string;
  /** Follow mode: each new finding is selected as it arrives. */
  follow: boolean;
  paused: boolean;
  /** Changes that arrived while paused, shown on resume. */
  pendingChanges: number;
  series: readonly SeriesPoint[];
  axis: TimeAxis | null;
  /**
   * The trace's clock now, in the parser's seconds, for ages: the latest time
   * seen; while a live capture runs, carried on by the wall clock, so the age
   * of a still-mapped finding keeps growing while the process is idle.
   */
  traceNow: number | null;
  /**
   * How long a still-mapped finding has held its mapping, in ms: trace time
   * since it was decided; live, when the trace carries no seconds, wall time
   * since the store heard of it. Undefined for resolved findings.
   */
  ageOf: (finding: Finding) => number | undefined;
  /** How many path components tell a path apart from every other path the store holds. */
  pathDepth: (path: string) => number;
  /**
   * A row's evidence lines, read when asked (the store keeps none per
   * finding): the same lines again until the shown findings change.
   */
  evidenceOf: (finding: Finding) => Evidence;
  /** The bundle's /proc/PID/maps line at the finding's address at the end (the text report's `maps`), or null. */
  mapsLineOf: (finding: Finding) => string | null;
  /** Counts over every finding the store holds (not only the filtered rows), in the report's words. */
  tally: Tally;
  warnings: readonly string[];
  /** Why the input proves nothing about its process (a bundle of one that exited before the tracer attached), or null. */
  untraced: string | null;
  /** Why no finding is no pass (mappings in doubt, a trace that may miss some), in the headline's words after "but"; null otherwise. */
  undecided: string | null;
  error: string | null;
}
export const EMPTY_COUNTERS: Readonly<Counters> = {
  lines: 0,
  events: 0,
  unparsedLines: 0,
  lostEvents: 0,
  processes: 0,
  liveMappings: 0,
  deletedMappings: 0,
  deletedBytes: 0,
  mapCount: null,
  maxMapCount: null,
};

// The TUI's state, kept apart from ink: engine changes, progress and counters
// go in (at whatever rate the engine produces them), plain snapshots come out
// (at most one per `throttleMs`). The engine never waits for rendering: a
// change is a map update and a mark on a dirty list.
//
// Cost with tens of thousands of findings: the sorted order is kept between
// snapshots and repaired for the findings that changed (binary search and
// insert) instead of being re-sorted; the filtered rows, the tally and the
// severity counts are recomputed only when what they depend on changed; a
// selection move reuses everything and only builds a new snapshot object.
import type { EngineChange } from '../engine/engine.js';
import type { EvidenceLine, Finding, Severity } from '../engine/findings.js';
import { assertNever } from '../parse/events.js';
import { decidedAt, secondsOf, SEVERITY_RANK, tally, type Tally } from '../report/finding-view.js';
import { escapeControl } from '../report/sanitize.js';
import { PathIndex } from './paths.js';

export type Backend = 'strace' | 'bpftrace';

export type SourceInfo =
  | { kind: 'file'; names: string[] }
  | { kind: 'live'; pid: number | null; command: string | null; backend: Backend };

export type Phase = 'reading' | 'done' | 'live' | 'ended';

/** The orders `o` cycles through; `r` reverses the one in use. */
export const SORT_KEYS = ['severity', 'age', 'size', 'path', 'pid', 'id'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** What each order means, for the help and the title line. */
export const SORT_WORDS: Readonly<Record<SortKey, string>> = {
  severity: 'severity, then age (errors first, the longest held first)',
  age: 'age (the longest held first)',
  size: 'size (largest first)',
  path: 'path (A to Z)',
  pid: 'pid (lowest first)',
  id: 'id (the order they were found)',
};

export const SEVERITY_FILTERS = ['all', 'error', 'warning', 'info'] as const;
export type SeverityFilter = (typeof SEVERITY_FILTERS)[number];

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
 *   trace-seconds  a file with timestamps: the earliest and latest trace times seen
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
  /** Counts over every finding the store holds (not only the filtered rows), in the report's words. */
  tally: Tally;
  warnings: readonly string[];
  error: string | null;
}

export interface StoreOptions {
  source: SourceInfo;
  /** Minimum time between two emitted snapshots. */
  throttleMs?: number;
  /** Chart points kept; neighbours are merged beyond that. */
  maxPoints?: number;
  clock?: () => number;
}

/** What the store shows; frozen as a whole while paused. */
interface Data {
  findings: Map<string, Finding>;
  /** Bumped by every change to `findings`. */
  version: number;
  /** Ids changed since `sorted` was last repaired, with the copy `sorted` holds for each (null: not in it). */
  dirty: Map<string, Finding | null>;
  /** Every finding in the current order; repaired from `dirty` before use. */
  sorted: Finding[];
  sortedBy: string;
  /** Orders already computed for this version of the findings (o cycles through them; r reverses one). */
  orders: Map<string, { version: number; list: Finding[] }>;
  counters: Counters;
  series: SeriesPoint[];
  peak: { count: number; bytes: number };
  traceNow: number | null;
  /** store clock (ms) when traceNow was set: live, the trace's clock runs on from there. */
  traceNowAt: number;
  /** The earliest trace time seen (a file's chart starts there). */
  earliest: number | null;
  /** Whether chart points came with trace seconds (else with event counts). */
  timed: boolean;
  /** The id of the last finding decided, for follow mode. */
  newestId: string | null;
}

const EMPTY_COUNTERS: Counters = {
  lines: 0, events: 0, unparsedLines: 0, lostEvents: 0, processes: 0,
  liveMappings: 0, deletedMappings: 0, deletedBytes: 0, mapCount: null, maxMapCount: null,
};

interface RowsCache {
  data: Data;
  version: number;
  order: string;
  severity: SeverityFilter;
  filterText: string;
  rows: Finding[];
  counts: SeverityCounts;
}

export class TuiStore {
  readonly source: SourceInfo;
  private readonly throttleMs: number;
  private readonly maxPoints: number;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly listeners = new Set<() => void>();
  private readonly paths = new PathIndex();

  private live: Data;
  private frozen: Data | null = null;
  /** store clock when the view was frozen: a paused view's ages stop there. */
  private frozenAt = 0;
  /** Live: store clock when each finding was first heard of, for ages when the trace carries no seconds. */
  private readonly heardAt = new Map<string, number>();
  /** store clock when the input was read to its end or the capture ended. */
  private endedAt: number | null = null;
  private pending = 0;
  private phase: Phase;
  private progressSample: Progress | null = null;
  private warnings: string[] = [];
  private error: string | null = null;

  private sort: SortKey = 'severity';
  private reversed = false;
  private severity: SeverityFilter = 'all';
  private filterText = '';
  private follow = false;
  private selectedId: string | null = null;
  private selectedIndex = 0;
  /** The newest finding follow mode last selected. */
  private followedId: string | null = null;

  private rowsCache: RowsCache | null = null;
  private tallyCache: { data: Data; version: number; tally: Tally } | null = null;
  private snapshot: TuiSnapshot;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastEmit = -Infinity;

  constructor(options: StoreOptions) {
    this.source = options.source;
    this.throttleMs = options.throttleMs ?? 100;
    this.maxPoints = Math.max(8, options.maxPoints ?? 480);
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    this.phase = options.source.kind === 'live' ? 'live' : 'reading';
    this.live = {
      findings: new Map(), version: 0, dirty: new Map(), sorted: [], sortedBy: '', orders: new Map(),
      counters: { ...EMPTY_COUNTERS }, series: [], peak: { count: 0, bytes: 0 },
      traceNow: null, traceNowAt: this.startedAt, earliest: null, timed: false, newestId: null,
    };
    this.snapshot = this.build();
  }

  // ---- input: from the engine side, at any rate -------------------------

  /**
   * A finding decided or resolved. The engine mutates its findings in place,
   * so the store keeps a copy: a paused view must not change under the user.
   */
  change(change: EngineChange, evidence?: EvidenceLine[]): void {
    const finding = change.finding;
    const copy: Finding = { ...finding, evidence: evidence ?? finding.evidence };
    const data = this.live;
    const previous = data.findings.get(finding.id);
    if (!data.dirty.has(finding.id)) data.dirty.set(finding.id, previous ?? null);
    data.findings.set(finding.id, copy);
    data.version++;
    if (previous === undefined) {
      data.newestId = finding.id;
      this.paths.add(escapeControl(finding.path));
      if (this.source.kind === 'live' && !this.heardAt.has(finding.id)) this.heardAt.set(finding.id, this.clock());
    } else if (previous.path !== finding.path) {
      this.paths.add(escapeControl(finding.path));
    }
    for (const place of [finding.mappedAt, finding.unlinkedAt, finding.remappedAt, finding.resolvedAt]) this.noteTime(secondsOf(place));
    const at = change.type === 'decided' ? decidedAt(finding) : finding.resolvedAt;
    this.advanceTime(secondsOf(at));
    this.touchData();
  }

  /** Counters as the engine and reader know them; missing fields keep their value. */
  counters(update: Partial<Counters>): void {
    Object.assign(this.live.counters, update);
    if (update.deletedMappings !== undefined || update.deletedBytes !== undefined) {
      const { deletedMappings, deletedBytes } = this.live.counters;
      this.live.peak = { count: Math.max(this.live.peak.count, deletedMappings), bytes: Math.max(this.live.peak.bytes, deletedBytes) };
    }
    this.touchData();
  }

  progress(sample: ProgressSample): void {
    const elapsed = (this.clock() - this.startedAt) / 1000;
    this.progressSample = {
      ...sample,
      percent: sample.size === null || sample.size === 0 ? null : Math.min(100, (100 * sample.bytesRead) / sample.size),
      linesPerSecond: elapsed > 0 ? sample.lines / elapsed : null,
    };
    if (sample.lines > this.live.counters.lines) this.live.counters.lines = sample.lines;
    this.touchData();
  }

  /**
   * A chart sample. `x` is trace seconds when known; pass null to use the
   * event count. Live, the sample is placed at the wall-clock moment it
   * arrived, on an axis that spans the whole session. Points are kept
   * bounded: beyond maxPoints, neighbours merge keeping their highest values,
   * so growth and spikes stay visible.
   */
  point(x: number | null, count: number, bytes: number): void {
    const data = this.live;
    if (x !== null) {
      this.advanceTime(x);
      this.noteTime(x);
      data.timed = true;
    }
    const at = this.source.kind === 'live' ? (this.clock() - this.startedAt) / 1000 : (x ?? data.counters.events);
    const series = data.series;
    const last = series[series.length - 1];
    if (last !== undefined && at <= last.x) {
      series[series.length - 1] = { x: last.x, count, bytes };
    } else {
      series.push({ x: at, count, bytes });
    }
    if (series.length > this.maxPoints) data.series = halve(series);
    data.peak = { count: Math.max(data.peak.count, count), bytes: Math.max(data.peak.bytes, bytes) };
    this.touchData();
  }

  warn(message: string): void {
    this.warnings.push(message);
    this.touchData();
  }

  /** The input is read to its end (file) or the capture stopped (live). */
  finish(final: Partial<Counters> = {}, warnings: readonly string[] = []): void {
    // The capture's end stops the trace clock where it stands.
    this.settleClock(this.live, this.clock());
    this.endedAt ??= this.clock();
    Object.assign(this.live.counters, final);
    this.warnings.push(...warnings);
    this.phase = this.source.kind === 'live' ? 'ended' : 'done';
    if (this.progressSample !== null && this.progressSample.size !== null) this.progressSample = { ...this.progressSample, percent: 100 };
    this.touchData();
  }

  fail(message: string): void {
    this.settleClock(this.live, this.clock());
    this.endedAt ??= this.clock();
    this.error = message;
    this.phase = this.source.kind === 'live' ? 'ended' : 'done';
    this.emitNow();
  }

  // ---- input: from the user, emitted at once ----------------------------

  /** Move the selection; `wrap` goes round from the last row to the first (n/N). Ends follow mode. */
  move(by: number, wrap = false): void {
    const rows = this.snapshot.rows;
    if (rows.length === 0) return;
    const from = this.snapshot.selectedIndex < 0 ? 0 : this.snapshot.selectedIndex;
    const to = wrap ? (((from + by) % rows.length) + rows.length) % rows.length : Math.max(0, Math.min(rows.length - 1, from + by));
    this.follow = false;
    this.select(to);
  }

  moveTo(where: 'first' | 'last'): void {
    const rows = this.snapshot.rows;
    this.follow = false;
    if (rows.length > 0) this.select(where === 'first' ? 0 : rows.length - 1);
    else this.emitNow();
  }

  selectId(id: string): void {
    this.selectedId = id;
    this.emitNow();
  }

  cycleSort(): SortKey {
    this.sort = nextOf(SORT_KEYS, this.sort);
    this.reversed = false;
    this.emitNow();
    return this.sort;
  }

  reverseSort(): boolean {
    this.reversed = !this.reversed;
    this.emitNow();
    return this.reversed;
  }

  cycleSeverity(): SeverityFilter {
    this.severity = nextOf(SEVERITY_FILTERS, this.severity);
    this.emitNow();
    return this.severity;
  }

  setFilter(text: string): void {
    if (text === this.filterText) return;
    this.filterText = text;
    this.emitNow();
  }

  /** Follow mode: select each new finding as it arrives (and the newest one now). */
  setFollow(on: boolean): void {
    this.follow = on;
    this.followedId = null;
    this.emitNow();
  }

  setPaused(paused: boolean): void {
    if (paused === (this.frozen !== null)) return;
    this.frozenAt = this.clock();
    this.frozen = paused ? cloneData(this.live) : null;
    this.pending = 0;
    this.emitNow();
  }

  togglePause(): boolean {
    this.setPaused(this.frozen === null);
    return this.frozen !== null;
  }

  /** Redraw soon (the clock in the header moved). Once the input is read or the capture ended, nothing on screen moves with the clock. */
  tick(): void {
    if (this.phase === 'done' || this.phase === 'ended') return;
    this.schedule();
  }

  // ---- output -----------------------------------------------------------

  getSnapshot = (): TuiSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Emit now if anything is waiting (tests; the end of a run). */
  flush(): void {
    if (this.timer !== null) this.emitNow();
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  // ---- internals --------------------------------------------------------

  private select(index: number): void {
    const row = this.snapshot.rows[index];
    if (row === undefined) return;
    this.selectedId = row.id;
    this.selectedIndex = index;
    this.emitNow();
  }

  /** Live captures run in real time: between events, trace time goes on as the wall clock does. */
  private get clockRuns(): boolean {
    return this.source.kind === 'live' && this.phase === 'live';
  }

  /** The trace's clock at store time `at`: the latest time seen, plus the wall time since while a capture runs. */
  private traceClock(data: Data, at: number): number | null {
    if (data.traceNow === null) return null;
    return this.clockRuns ? data.traceNow + Math.max(0, at - data.traceNowAt) / 1000 : data.traceNow;
  }

  private settleClock(data: Data, at: number): void {
    data.traceNow = this.traceClock(data, at);
    data.traceNowAt = at;
  }

  /**
   * A trace time seen. Never moves the clock back: a live reader sees events
   * a little after they happened, so the wall-clock estimate can be ahead.
   */
  private advanceTime(seconds: number | null): void {
    if (seconds === null) return;
    const now = this.clock();
    const current = this.traceClock(this.live, now);
    if (current === null || seconds > current) this.live.traceNow = seconds;
    else this.live.traceNow = current;
    this.live.traceNowAt = now;
  }

  private noteTime(seconds: number | null): void {
    if (seconds === null) return;
    if (this.live.earliest === null || seconds < this.live.earliest) this.live.earliest = seconds;
  }

  private touchData(): void {
    if (this.frozen !== null) this.pending++;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastEmit + this.throttleMs - this.clock());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.emit();
    }, wait);
    this.timer.unref?.();
  }

  private emitNow(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.emit();
  }

  private emit(): void {
    this.snapshot = this.build();
    this.lastEmit = this.clock();
    for (const listener of [...this.listeners]) listener();
  }

  /** The order key of `sorted`: changes when the sort does. */
  private get orderKey(): string {
    return `${this.sort}${this.reversed ? '-' : '+'}`;
  }

  /** Brings data.sorted up to date: repaired for a few changed findings, re-sorted for many or a new order. */
  private sortedOf(data: Data): Finding[] {
    const compare = this.comparator();
    const key = this.orderKey;
    if (data.sortedBy !== key && data.dirty.size === 0) {
      // Another order of the same findings: computed before, or the reverse of one that was.
      data.orders.set(data.sortedBy, { version: data.version, list: data.sorted });
      const known = data.orders.get(key);
      const mirror = data.orders.get(mirrorOf(key));
      if (known !== undefined && known.version === data.version) {
        data.sorted = known.list;
        data.sortedBy = key;
        return data.sorted;
      }
      if (mirror !== undefined && mirror.version === data.version) {
        // Orders are total, so the reversed comparator's order is this one backwards.
        data.sorted = mirror.list.slice().reverse();
        data.sortedBy = key;
        return data.sorted;
      }
    }
    if (data.sortedBy !== key || data.dirty.size > Math.max(64, data.sorted.length / 8)) {
      data.orders.clear();
      data.sorted = [...data.findings.values()].sort(compare);
      data.sortedBy = key;
      data.dirty.clear();
      return data.sorted;
    }
    if (data.dirty.size > 0) data.orders.clear();
    for (const [id, old] of data.dirty) {
      if (old !== null) {
        const at = lowerBound(data.sorted, old, compare);
        if (data.sorted[at] === old) data.sorted.splice(at, 1);
        else {
          const k = data.sorted.indexOf(old);
          if (k >= 0) data.sorted.splice(k, 1);
        }
      }
      const now = data.findings.get(id);
      if (now !== undefined) data.sorted.splice(lowerBound(data.sorted, now, compare), 0, now);
    }
    data.dirty.clear();
    return data.sorted;
  }

  private rowsOf(data: Data): RowsCache {
    const cache = this.rowsCache;
    if (
      cache !== null && cache.data === data && cache.version === data.version && cache.order === this.orderKey &&
      cache.severity === this.severity && cache.filterText === this.filterText
    ) return cache;
    const sorted = this.sortedOf(data);
    const keeps = this.keeps();
    const rows: Finding[] = [];
    const counts: SeverityCounts = { error: 0, warning: 0, info: 0 };
    for (const finding of sorted) {
      if (!keeps(finding)) continue;
      rows.push(finding);
      counts[finding.severity]++;
    }
    this.rowsCache = { data, version: data.version, order: this.orderKey, severity: this.severity, filterText: this.filterText, rows, counts };
    return this.rowsCache;
  }

  private tallyOf(data: Data): Tally {
    const cache = this.tallyCache;
    if (cache !== null && cache.data === data && cache.version === data.version) return cache.tally;
    const result = tally(data.findings.values());
    this.tallyCache = { data, version: data.version, tally: result };
    return result;
  }

  private build(): TuiSnapshot {
    const data = this.frozen ?? this.live;
    const now = this.clock();
    const until = this.frozen === null ? now : this.frozenAt;
    const traceNow = this.traceClock(data, until);
    const { rows, counts } = this.rowsOf(data);
    // Follow mode: the newest finding takes the selection once, when it arrives.
    if (this.follow && data.newestId !== null && data.newestId !== this.followedId && rows.some((row) => row.id === data.newestId)) {
      this.selectedId = data.newestId;
      this.followedId = data.newestId;
    }
    // The selection follows its finding, not its row: new findings sorted in
    // above it push it down rather than taking its place.
    let index = -1;
    if (this.selectedId !== null) {
      const guess = rows[this.selectedIndex];
      index = guess !== undefined && guess.id === this.selectedId ? this.selectedIndex : rows.findIndex((row) => row.id === this.selectedId);
    }
    if (index < 0 && rows.length > 0) index = Math.max(0, Math.min(rows.length - 1, this.selectedIndex));
    const selected = rows[index];
    if (selected !== undefined) {
      this.selectedId = selected.id;
      this.selectedIndex = index;
    }
    const wallNow = Math.min(until, this.endedAt ?? Infinity);
    const heardAt = this.heardAt;
    const ageOf = (finding: Finding): number | undefined => {
      if (finding.delayMs !== null || (finding.resolution !== null && finding.resolution !== 'still-mapped')) return undefined;
      const since = secondsOf(decidedAt(finding));
      if (since !== null) return traceNow === null ? undefined : Math.max(0, traceNow - since) * 1000;
      const heard = heardAt.get(finding.id);
      return heard === undefined ? undefined : Math.max(0, wallNow - heard);
    };
    const paths = this.paths;
    return {
      source: this.source,
      phase: this.phase,
      startedAt: this.startedAt,
      now,
      elapsedMs: this.elapsed(now),
      progress: this.progressSample,
      counters: { ...data.counters },
      peak: data.peak,
      rows,
      rowCounts: counts,
      totalFindings: data.findings.size,
      selectedId: selected?.id ?? null,
      selectedIndex: selected === undefined ? -1 : index,
      sort: this.sort,
      reversed: this.reversed,
      severity: this.severity,
      filterText: this.filterText,
      follow: this.follow,
      paused: this.frozen !== null,
      pendingChanges: this.pending,
      series: data.series.slice(),
      axis: this.axisOf(data, until, traceNow),
      traceNow,
      ageOf,
      pathDepth: (path) => paths.depth(path),
      tally: this.tallyOf(data),
      warnings: [...this.warnings],
      error: this.error,
    };
  }

  private elapsed(now: number): number {
    let until = now;
    if (this.endedAt !== null) until = Math.min(until, this.endedAt);
    // A file's reading time is what the view shows: it stops while paused.
    if (this.source.kind === 'file' && this.frozen !== null) until = Math.min(until, this.frozenAt);
    return Math.max(0, until - this.startedAt);
  }

  private axisOf(data: Data, until: number, traceNow: number | null): TimeAxis | null {
    if (this.source.kind === 'live') {
      const end = (Math.min(until, this.endedAt ?? Infinity) - this.startedAt) / 1000;
      return { unit: 'session', start: 0, end: Math.max(end, data.series[data.series.length - 1]?.x ?? 0), startedAt: this.startedAt };
    }
    if (data.timed || (data.earliest !== null && traceNow !== null)) {
      if (data.earliest === null || traceNow === null) return null;
      return { unit: 'trace-seconds', start: data.earliest, end: Math.max(traceNow, data.series[data.series.length - 1]?.x ?? traceNow), startedAt: this.startedAt };
    }
    if (data.series.length === 0 && data.counters.events === 0) return null;
    return { unit: 'events', start: 0, end: Math.max(data.counters.events, data.series[data.series.length - 1]?.x ?? 0), startedAt: this.startedAt };
  }

  private keeps(): (finding: Finding) => boolean {
    const severity = this.severity;
    const text = this.filterText.trim().toLowerCase();
    const pid = /^\d+$/.test(text) ? Number(text) : null;
    return (finding) => {
      if (severity !== 'all' && finding.severity !== severity) return false;
      if (text.length === 0) return true;
      if (pid !== null && finding.pid === pid) return true;
      return factsOf(finding).text.includes(text);
    };
  }

  private comparator(): (a: Finding, b: Finding) => number {
    const base = comparator(this.sort, (finding) => this.heardAt.get(finding.id) ?? null);
    return this.reversed ? (a, b) => base(b, a) : base;
  }
}

/** What orders compare, worked out once per finding copy (a sort of 15,000 makes 200,000 comparisons). */
interface SortFacts {
  id: number;
  /** Trace seconds of the deciding event, or null. */
  decided: number | null;
  /** Path and earlier names, lower-cased, for the filter. */
  text: string;
}

const FACTS = new WeakMap<Finding, SortFacts>();

function factsOf(finding: Finding): SortFacts {
  let facts = FACTS.get(finding);
  if (facts === undefined) {
    const n = Number(finding.id.slice(1));
    facts = {
      id: Number.isFinite(n) ? n : 0,
      decided: secondsOf(decidedAt(finding)),
      text: [finding.path, ...finding.names.filter((name) => name !== finding.path)].join('\n').toLowerCase(),
    };
    FACTS.set(finding, facts);
  }
  return facts;
}

/** Orders are total (ties broken by id), so a finding has one place to go and can be found again by binary search. */
function comparator(sort: SortKey, heardAt: (finding: Finding) => number | null): (a: Finding, b: Finding) => number {
  const byId = (a: Finding, b: Finding) => factsOf(a).id - factsOf(b).id || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  // Oldest first: the longest-held orphan is the one to look at. Trace
  // seconds; live without them, the order the store heard of them (ms).
  const byAge = (a: Finding, b: Finding) => (factsOf(a).decided ?? heardAt(a) ?? Infinity) - (factsOf(b).decided ?? heardAt(b) ?? Infinity);
  switch (sort) {
    case 'id':
      return byId;
    case 'severity':
      return (a, b) => rank(a.severity) - rank(b.severity) || byAge(a, b) || byId(a, b);
    case 'age':
      return (a, b) => byAge(a, b) || byId(a, b);
    case 'size':
      return (a, b) => b.length - a.length || byId(a, b);
    case 'path':
      return (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : byId(a, b));
    case 'pid':
      return (a, b) => a.pid - b.pid || byId(a, b);
    default:
      return assertNever(sort);
  }
}

function rank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

/** The first index whose element is not before `item`. */
function lowerBound(list: readonly Finding[], item: Finding, compare: (a: Finding, b: Finding) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid]!, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** severity+ ↔ severity- */
function mirrorOf(key: string): string {
  return key.endsWith('+') ? `${key.slice(0, -1)}-` : `${key.slice(0, -1)}+`;
}

function nextOf<T>(list: readonly T[], current: T): T {
  return list[(list.indexOf(current) + 1) % list.length]!;
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

function cloneData(data: Data): Data {
  return {
    findings: new Map(data.findings),
    version: data.version,
    dirty: new Map(data.dirty),
    sorted: data.sorted.slice(),
    sortedBy: data.sortedBy,
    orders: new Map(),
    counters: { ...data.counters },
    series: [...data.series],
    peak: { ...data.peak },
    traceNow: data.traceNow,
    traceNowAt: data.traceNowAt,
    earliest: data.earliest,
    timed: data.timed,
    newestId: data.newestId,
  };
}

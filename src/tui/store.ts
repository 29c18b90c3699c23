// The TUI's state, kept apart from ink: engine changes, progress and counters
// go in (at whatever rate the engine produces them), plain snapshots come out
// (at most one per `throttleMs`). The engine never waits for rendering: a
// change is a map update; sorting, filtering and building the snapshot happen
// only when a snapshot is emitted.
import type { EngineChange } from '../engine/engine.js';
import type { EvidenceLine, Finding } from '../engine/findings.js';
import { assertNever } from '../parse/events.js';
import { decidedAt, secondsOf, SEVERITY_RANK, tally, type Tally } from '../report/finding-view.js';

export type Backend = 'strace' | 'bpftrace';

export type SourceInfo =
  | { kind: 'file'; names: string[] }
  | { kind: 'live'; pid: number | null; command: string | null; backend: Backend };

export type Phase = 'reading' | 'done' | 'live' | 'ended';

export const SORT_KEYS = ['id', 'severity', 'size', 'age', 'path'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

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

/** One sample of the chart: deleted-but-mapped mappings and bytes at trace time x. */
export interface SeriesPoint {
  /** Trace seconds when the trace has timestamps, else the event count. */
  x: number;
  count: number;
  bytes: number;
}

export interface TuiSnapshot {
  source: SourceInfo;
  phase: Phase;
  startedAt: number;
  now: number;
  progress: Progress | null;
  counters: Counters;
  /** Peak deleted-but-mapped seen so far (in the shown data). */
  peak: { count: number; bytes: number };
  /** The findings as shown: filtered and sorted. */
  rows: readonly Finding[];
  totalFindings: number;
  selectedId: string | null;
  /** Index of the selection in `rows`, -1 when there are none. */
  selectedIndex: number;
  sort: SortKey;
  severity: SeverityFilter;
  filterText: string;
  paused: boolean;
  /** Changes that arrived while paused, shown on resume. */
  pendingChanges: number;
  series: readonly SeriesPoint[];
  /**
   * The trace's clock now, in the parser's seconds, for ages: the latest time
   * seen; while a live capture runs, carried on by the wall clock, so the age
   * of a still-mapped finding keeps growing while the process is idle.
   */
  traceNow: number | null;
  /**
   * How long each still-mapped row has held its mapping, in ms: trace time
   * since it was decided; live, when the trace carries no seconds, wall time
   * since the store heard of it. Rows without an age are absent.
   */
  ages: ReadonlyMap<string, number>;
  /** Counts over every finding the store holds (not only the filtered rows), in the report's words. */
  tally: Tally;
  warnings: readonly string[];
  error: string | null;
}

export interface StoreOptions {
  source: SourceInfo;
  /** Minimum time between two emitted snapshots. */
  throttleMs?: number;
  /** Chart points kept; older ones are merged pairwise beyond that. */
  maxPoints?: number;
  clock?: () => number;
}

/** What the store shows; frozen as a whole while paused. */
interface Data {
  findings: Map<string, Finding>;
  counters: Counters;
  series: SeriesPoint[];
  peak: { count: number; bytes: number };
  traceNow: number | null;
  /** store clock (ms) when traceNow was set: live, the trace's clock runs on from there. */
  traceNowAt: number;
}

const EMPTY_COUNTERS: Counters = {
  lines: 0, events: 0, unparsedLines: 0, lostEvents: 0, processes: 0,
  liveMappings: 0, deletedMappings: 0, deletedBytes: 0, mapCount: null, maxMapCount: null,
};

export class TuiStore {
  readonly source: SourceInfo;
  private readonly throttleMs: number;
  private readonly maxPoints: number;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly listeners = new Set<() => void>();

  private live: Data;
  private frozen: Data | null = null;
  /** store clock when the view was frozen: a paused view's ages stop there. */
  private frozenAt = 0;
  /** Live: store clock when each finding was first heard of, for ages when the trace carries no seconds. */
  private readonly heardAt = new Map<string, number>();
  /** Live: store clock when the capture ended; wall-clock ages stop there. */
  private endedAt: number | null = null;
  private pending = 0;
  private phase: Phase;
  private progressSample: Progress | null = null;
  private warnings: string[] = [];
  private error: string | null = null;

  private sort: SortKey = 'id';
  private severity: SeverityFilter = 'all';
  private filterText = '';
  private selectedId: string | null = null;
  private selectedIndex = 0;

  private snapshot: TuiSnapshot;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastEmit = -Infinity;

  constructor(options: StoreOptions) {
    this.source = options.source;
    this.throttleMs = options.throttleMs ?? 100;
    this.maxPoints = Math.max(8, options.maxPoints ?? 240);
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    this.phase = options.source.kind === 'live' ? 'live' : 'reading';
    this.live = { findings: new Map(), counters: { ...EMPTY_COUNTERS }, series: [], peak: { count: 0, bytes: 0 }, traceNow: null, traceNowAt: this.startedAt };
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
    this.live.findings.set(finding.id, copy);
    if (this.source.kind === 'live' && !this.heardAt.has(finding.id)) this.heardAt.set(finding.id, this.clock());
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
   * event count. Points are kept bounded: beyond maxPoints, neighbours merge
   * keeping their highest values, so growth and spikes stay visible.
   */
  point(x: number | null, count: number, bytes: number): void {
    const series = this.live.series;
    const at = x ?? this.live.counters.events;
    if (x !== null) this.advanceTime(x);
    const last = series[series.length - 1];
    if (last !== undefined && at <= last.x) {
      series[series.length - 1] = { x: last.x, count, bytes };
    } else {
      series.push({ x: at, count, bytes });
    }
    if (series.length > this.maxPoints) this.live.series = halve(series);
    this.live.peak = { count: Math.max(this.live.peak.count, count), bytes: Math.max(this.live.peak.bytes, bytes) };
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

  move(by: number): void {
    const rows = this.snapshot.rows;
    if (rows.length === 0) return;
    const from = this.snapshot.selectedIndex < 0 ? 0 : this.snapshot.selectedIndex;
    this.select(Math.max(0, Math.min(rows.length - 1, from + by)));
  }

  moveTo(where: 'first' | 'last'): void {
    const rows = this.snapshot.rows;
    if (rows.length > 0) this.select(where === 'first' ? 0 : rows.length - 1);
  }

  selectId(id: string): void {
    this.selectedId = id;
    this.emitNow();
  }

  cycleSort(): SortKey {
    this.sort = nextOf(SORT_KEYS, this.sort);
    this.emitNow();
    return this.sort;
  }

  cycleSeverity(): SeverityFilter {
    this.severity = nextOf(SEVERITY_FILTERS, this.severity);
    this.emitNow();
    return this.severity;
  }

  setFilter(text: string): void {
    this.filterText = text;
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

  /** Redraw soon (the clock in the header moved). */
  tick(): void {
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

  private build(): TuiSnapshot {
    const data = this.frozen ?? this.live;
    const until = this.frozen === null ? this.clock() : this.frozenAt;
    const traceNow = this.traceClock(data, until);
    const rows = [...data.findings.values()].filter(this.keeps()).sort(comparator(this.sort, (finding) => this.heardAt.get(finding.id) ?? null));
    // The selection follows its finding, not its row: new findings sorted in
    // above it push it down rather than taking its place.
    let index = this.selectedId === null ? -1 : rows.findIndex((row) => row.id === this.selectedId);
    if (index < 0 && rows.length > 0) index = Math.max(0, Math.min(rows.length - 1, this.selectedIndex));
    const selected = rows[index];
    if (selected !== undefined) {
      this.selectedId = selected.id;
      this.selectedIndex = index;
    }
    return {
      source: this.source,
      phase: this.phase,
      startedAt: this.startedAt,
      now: this.clock(),
      progress: this.progressSample,
      counters: { ...data.counters },
      peak: data.peak,
      rows,
      totalFindings: data.findings.size,
      selectedId: selected?.id ?? null,
      selectedIndex: selected === undefined ? -1 : index,
      sort: this.sort,
      severity: this.severity,
      filterText: this.filterText,
      paused: this.frozen !== null,
      pendingChanges: this.pending,
      series: [...data.series],
      traceNow,
      ages: this.agesOf(rows, traceNow, Math.min(until, this.endedAt ?? Infinity)),
      tally: tally(data.findings.values()),
      warnings: [...this.warnings],
      error: this.error,
    };
  }

  private agesOf(rows: readonly Finding[], traceNow: number | null, wallNow: number): Map<string, number> {
    const ages = new Map<string, number>();
    for (const finding of rows) {
      if (finding.delayMs !== null || (finding.resolution !== null && finding.resolution !== 'still-mapped')) continue;
      const since = secondsOf(decidedAt(finding));
      const heard = this.heardAt.get(finding.id);
      if (since !== null) {
        if (traceNow !== null) ages.set(finding.id, Math.max(0, traceNow - since) * 1000);
      } else if (heard !== undefined) {
        ages.set(finding.id, Math.max(0, wallNow - heard));
      }
    }
    return ages;
  }

  private keeps(): (finding: Finding) => boolean {
    const severity = this.severity;
    const text = this.filterText.trim().toLowerCase();
    const pid = /^\d+$/.test(text) ? Number(text) : null;
    return (finding) => {
      if (severity !== 'all' && finding.severity !== severity) return false;
      if (text.length === 0) return true;
      if (pid !== null && finding.pid === pid) return true;
      return finding.path.toLowerCase().includes(text) || finding.names.some((name) => name.toLowerCase().includes(text));
    };
  }
}

/** Orders are total (ties broken by id), so a new finding has one place to go. */
function comparator(sort: SortKey, heardAt: (finding: Finding) => number | null): (a: Finding, b: Finding) => number {
  const byId = (a: Finding, b: Finding) => idNumber(a) - idNumber(b);
  switch (sort) {
    case 'id':
      return byId;
    case 'severity':
      return (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || byId(a, b);
    case 'size':
      return (a, b) => b.length - a.length || byId(a, b);
    case 'age':
      // Oldest first: the longest-held orphan is the one to look at.
      // Trace seconds; live without them, the order the store heard of them (ms).
      return (a, b) => (decidedSeconds(a) ?? heardAt(a) ?? Infinity) - (decidedSeconds(b) ?? heardAt(b) ?? Infinity) || byId(a, b);
    case 'path':
      return (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : byId(a, b));
    default:
      return assertNever(sort);
  }
}

function idNumber(finding: Finding): number {
  const n = Number(finding.id.slice(1));
  return Number.isFinite(n) ? n : 0;
}

function decidedSeconds(finding: Finding): number | null {
  return secondsOf(decidedAt(finding));
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
    counters: { ...data.counters },
    series: [...data.series],
    peak: { ...data.peak },
    traceNow: data.traceNow,
    traceNowAt: data.traceNowAt,
  };
}

// The TUI's state, kept apart from ink: engine changes, progress and counters
// go in (at whatever rate the engine produces them), plain snapshots
// (snapshot.ts) come out, at most one per `throttleMs` (throttle.ts). The
// engine never waits for rendering: a change is a map update and a mark on a
// dirty list. The list's order and filter, and the user's choices of them and
// of the selection, are in order.ts, time and the chart in timeline.ts; the
// tally is recomputed only when the findings changed, and a selection move
// reuses everything and only builds a new snapshot object.
import type { EngineChange } from '../engine/engine.js';
import type { Finding } from '../engine/findings.js';
import type { TraceSpan } from '../evidence/series.js';
import { decidedAt, secondsOf, tally, type Tally } from '../report/finding-view.js';
import { shownText } from './format.js';
import { ListedFinding, OWN_EVIDENCE, readEvidence, type Evidence, type EvidenceReader } from './listed.js';
import { cloneOrder, emptyOrder, ListChoices, putFinding, RowsMemo, type OrderState } from './order.js';
import { PathIndex } from './paths.js';
import { SnapshotThrottle } from './throttle.js';
import { addPoint, advanceTraceTime, ageFunction, chartAxis, noteTraceTime, traceClockAt, type TraceTime } from './timeline.js';
import { EMPTY_COUNTERS, type Counters, type Phase, type Progress, type ProgressSample, type SeriesPoint, type SeverityFilter, type SortKey, type SourceInfo, type TuiSnapshot } from './snapshot.js';

export interface StoreOptions {
  source: SourceInfo;
  /** Minimum time between two emitted snapshots. */
  throttleMs?: number;
  /** Chart points kept; neighbours are merged beyond that. */
  maxPoints?: number;
  clock?: () => number;
}

/** What the store shows; frozen as a whole while paused. */
interface Data extends OrderState, TraceTime {
  counters: Counters;
  series: SeriesPoint[];
  peak: { count: number; bytes: number };
  /** Whether chart points came with trace seconds (else with event counts). */
  timed: boolean;
  /** The id of the last finding decided, for follow mode. */
  newestId: string | null;
}

/** Findings whose evidence is kept read: the one selected, and a few just left. */
const EVIDENCE_CACHED = 4;

export class TuiStore {
  readonly source: SourceInfo;
  private readonly maxPoints: number;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly listeners = new Set<() => void>();
  private readonly paths = new PathIndex();
  /** A bundle's /proc/PID/maps line at each finding's address at the end, by id, once the analysis is over (`checkedByMaps`). */
  private mapsLines: ReadonlyMap<string, string> = new Map();

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
  private untraced: string | null = null;
  private undecided: string | null = null;
  private error: string | null = null;

  private readonly choices = new ListChoices();
  private readonly rowsMemo = new RowsMemo();
  private tallyCache: { data: Data; version: number; tally: Tally } | null = null;
  /**
   * The evidence last read for the findings on screen (the detail view, and
   * the key that scrolls it, read the selected one's): read again once the
   * findings shown have changed, not at every frame.
   */
  private evidenceCache: { finding: Finding; data: Data; version: number; evidence: Evidence }[] = [];
  private snapshot: TuiSnapshot;
  private readonly throttle: SnapshotThrottle;

  constructor(options: StoreOptions) {
    this.source = options.source;
    this.maxPoints = Math.max(8, options.maxPoints ?? 480);
    this.clock = options.clock ?? Date.now;
    this.throttle = new SnapshotThrottle(options.throttleMs ?? 100, this.clock, () => this.emit());
    this.startedAt = this.clock();
    this.phase = options.source.kind === 'live' ? 'live' : 'reading';
    this.live = {
      ...emptyOrder(),
      counters: { ...EMPTY_COUNTERS },
      series: [],
      peak: { count: 0, bytes: 0 },
      traceNow: null,
      traceNowAt: this.startedAt,
      earliest: null,
      span: null,
      timed: false,
      newestId: null,
    };
    this.snapshot = this.build();
  }

  // ---- input: from the engine side, at any rate -------------------------

  /**
   * A finding decided or resolved. The engine mutates its findings in place,
   * so the store keeps a copy of its facts: a paused view must not change
   * under the user. Not of its evidence lines: `evidence` (the engine, for
   * engine findings) reads them when they are shown (listed.ts).
   */
  change(change: EngineChange, evidence: EvidenceReader = OWN_EVIDENCE): void {
    const finding = change.finding;
    const copy = new ListedFinding(finding, evidence);
    const data = this.live;
    const previous = putFinding(data, copy);
    if (previous === undefined) {
      data.newestId = finding.id;
      this.paths.add(shownText(finding.path));
      if (this.source.kind === 'live' && !this.heardAt.has(finding.id)) this.heardAt.set(finding.id, this.clock());
    } else if (previous.path !== finding.path) {
      this.paths.add(shownText(finding.path));
    }
    for (const place of [finding.mappedAt, finding.unlinkedAt, finding.remappedAt, finding.resolvedAt]) noteTraceTime(this.live, secondsOf(place));
    const at = change.type === 'decided' ? decidedAt(finding) : finding.resolvedAt;
    advanceTraceTime(this.live, secondsOf(at), this.clock(), this.clockRuns);
    this.touchData();
  }

  /**
   * A bundle's findings once the analysis has checked them against its maps
   * at the end: the engine sets confirmedByMaps after the run, on findings
   * the store copied before, so the changed ones are copied again. Each
   * one's maps line (the text report's `maps`) is kept for the detail.
   */
  checkedByMaps(findings: Iterable<Finding>, mapsLines: Readonly<Record<string, string>>, evidence: EvidenceReader = OWN_EVIDENCE): void {
    for (const finding of findings) {
      const listed = this.live.findings.get(finding.id);
      if (listed !== undefined && listed.confirmedByMaps !== finding.confirmedByMaps) putFinding(this.live, new ListedFinding(finding, evidence));
    }
    this.mapsLines = new Map(Object.entries(mapsLines));
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
      advanceTraceTime(data, x, this.clock(), this.clockRuns);
      noteTraceTime(data, x);
      data.timed = true;
    }
    const at = this.source.kind === 'live' ? (this.clock() - this.startedAt) / 1000 : (x ?? data.counters.events);
    data.series = addPoint(data.series, at, count, bytes, this.maxPoints);
    data.peak = { count: Math.max(data.peak.count, count), bytes: Math.max(data.peak.bytes, bytes) };
    this.touchData();
  }

  /** A file's first and last event times (null: it has none), read once the analysis has read it through. */
  traceSpan(span: TraceSpan | null): void {
    this.live.span = span;
    this.touchData();
  }

  warn(message: string): void {
    this.warnings.push(message);
    this.touchData();
  }

  /** The input is read to its end (file) or the capture stopped (live). */
  /** @param undecided see TuiSnapshot.undecided */
  finish(final: Partial<Counters> = {}, warnings: readonly string[] = [], untraced: string | null = null, undecided: string | null = null): void {
    this.untraced = untraced;
    this.undecided = undecided;
    // The capture's end stops the trace clock where it stands.
    this.settleClock(this.live, this.clock());
    this.endedAt ??= this.clock();
    Object.assign(this.live.counters, final);
    for (const warning of warnings) this.warnings.push(warning);
    this.phase = this.source.kind === 'live' ? 'ended' : 'done';
    if (this.progressSample !== null && this.progressSample.size !== null) this.progressSample = { ...this.progressSample, percent: 100 };
    this.touchData();
  }

  fail(message: string): void {
    this.settleClock(this.live, this.clock());
    this.endedAt ??= this.clock();
    this.error = message;
    this.phase = this.source.kind === 'live' ? 'ended' : 'done';
    this.throttle.now();
  }

  // ---- input: from the user, emitted at once ----------------------------

  /** Move the selection; `wrap` goes round from the last row to the first (n/N). Ends follow mode. */
  move(by: number, wrap = false): void {
    const rows = this.snapshot.rows;
    if (rows.length === 0) return;
    const from = Math.max(this.snapshot.selectedIndex, 0);
    const to = wrap ? (((from + by) % rows.length) + rows.length) % rows.length : Math.max(0, Math.min(rows.length - 1, from + by));
    this.choices.follow = false;
    this.select(to);
  }

  moveTo(where: 'first' | 'last'): void {
    const rows = this.snapshot.rows;
    this.choices.follow = false;
    if (rows.length > 0) this.select(where === 'first' ? 0 : rows.length - 1);
    else this.throttle.now();
  }

  selectId(id: string): void {
    this.choices.selectedId = id;
    this.throttle.now();
  }

  cycleSort(): SortKey {
    return this.shown(this.choices.cycleSort());
  }

  reverseSort(): boolean {
    return this.shown(this.choices.reverseSort());
  }

  cycleSeverity(): SeverityFilter {
    return this.shown(this.choices.cycleSeverity());
  }

  setFilter(text: string): void {
    if (text === this.choices.filterText) return;
    this.choices.filterText = text;
    this.throttle.now();
  }

  /** Follow mode: select each new finding as it arrives (and the newest one now). */
  setFollow(on: boolean): void {
    this.choices.setFollow(on);
    this.throttle.now();
  }

  setPaused(paused: boolean): void {
    if (paused === (this.frozen !== null)) return;
    this.frozenAt = this.clock();
    this.frozen = paused ? cloneData(this.live) : null;
    this.pending = 0;
    this.throttle.now();
  }

  togglePause(): boolean {
    this.setPaused(this.frozen === null);
    return this.frozen !== null;
  }

  /** Redraw soon (the clock in the header moved). Once the input is read or the capture ended, nothing on screen moves with the clock. */
  tick(): void {
    if (this.phase === 'done' || this.phase === 'ended') return;
    this.throttle.soon();
  }

  // ---- output -----------------------------------------------------------

  getSnapshot = (): TuiSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Emit now if anything is waiting (tests; the end of a run). */
  flush(): void {
    this.throttle.flush();
  }

  dispose(): void {
    this.throttle.cancel();
    this.listeners.clear();
  }

  // ---- internals --------------------------------------------------------

  private select(index: number): void {
    const row = this.snapshot.rows[index];
    if (row === undefined) return;
    this.choices.selectedId = row.id;
    this.choices.selectedIndex = index;
    this.throttle.now();
  }

  /** A choice of the user's, drawn at once. */
  private shown<T>(value: T): T {
    this.throttle.now();
    return value;
  }

  /** Live captures run in real time: between events, trace time goes on as the wall clock does. */
  private get clockRuns(): boolean {
    return this.source.kind === 'live' && this.phase === 'live';
  }

  /** The trace's clock at store time `at`. */
  private traceClock(data: Data, at: number): number | null {
    return traceClockAt(data, at, this.clockRuns);
  }

  private settleClock(data: Data, at: number): void {
    data.traceNow = this.traceClock(data, at);
    data.traceNowAt = at;
  }

  private touchData(): void {
    if (this.frozen !== null) this.pending++;
    this.throttle.soon();
  }

  private emit(): void {
    this.snapshot = this.build();
    for (const listener of [...this.listeners]) listener();
  }

  /** A finding's evidence lines as shown now, read through its copy (see `change`). */
  private evidenceIn(data: Data, finding: Finding): Evidence {
    const cached = this.evidenceCache.find((entry) => entry.finding === finding && entry.data === data);
    if (cached !== undefined && cached.version === data.version) return cached.evidence;
    const evidence = readEvidence(finding);
    this.evidenceCache = [{ finding, data, version: data.version, evidence }, ...this.evidenceCache.filter((entry) => entry !== cached).slice(0, EVIDENCE_CACHED - 1)];
    return evidence;
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
    const { rows, counts } = this.rowsMemo.rowsOf(
      data,
      this.choices.query((finding) => this.heardAt.get(finding.id) ?? null),
    );
    const index = this.choices.selectIn(rows, data.newestId);
    const selected = rows[index];
    const ageOf = ageFunction(traceNow, this.heardAt, Math.min(until, this.endedAt ?? Infinity));
    const paths = this.paths;
    const tally = this.tallyOf(data);
    // The peak of the mappings deleted and live at once is at least those still so at the end: the gauge counts only
    // removals the trace shows, and those the maps snapshots show (a file removed out of sight, maps-end.txt's word)
    // made "still mapped at the end 1 (5.0 GiB)  peak 0 (0 B)" on one line (review 93, D4).
    const ended = this.phase === 'done' || this.phase === 'ended';
    const peak = ended ? { count: Math.max(data.peak.count, tally.stillMappedAtEnd), bytes: Math.max(data.peak.bytes, tally.stillMappedAtEndBytes) } : data.peak;
    return {
      source: this.source,
      phase: this.phase,
      startedAt: this.startedAt,
      now,
      elapsedMs: this.elapsed(now),
      progress: this.progressSample,
      counters: { ...data.counters },
      peak,
      rows,
      rowCounts: counts,
      totalFindings: data.findings.size,
      selectedId: selected?.id ?? null,
      selectedIndex: selected === undefined ? -1 : index,
      sort: this.choices.sort,
      reversed: this.choices.reversed,
      severity: this.choices.severity,
      filterText: this.choices.filterText,
      follow: this.choices.follow,
      paused: this.frozen !== null,
      pendingChanges: this.pending,
      series: data.series.slice(),
      axis: chartAxis({
        live: this.source.kind === 'live',
        startedAt: this.startedAt,
        endedAt: this.endedAt,
        until,
        traceNow,
        earliest: data.earliest,
        span: data.span,
        timed: data.timed,
        series: data.series,
        events: data.counters.events,
      }),
      traceNow,
      ageOf,
      pathDepth: (path) => paths.depth(path),
      evidenceOf: (finding) => this.evidenceIn(data, finding),
      mapsLineOf: (finding) => this.mapsLines.get(finding.id) ?? null,
      tally,
      warnings: [...this.warnings],
      untraced: this.untraced,
      undecided: this.undecided,
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
}

function cloneData(data: Data): Data {
  return {
    ...cloneOrder(data),
    counters: { ...data.counters },
    series: [...data.series],
    peak: { ...data.peak },
    traceNow: data.traceNow,
    traceNowAt: data.traceNowAt,
    earliest: data.earliest,
    span: data.span,
    timed: data.timed,
    newestId: data.newestId,
  };
}

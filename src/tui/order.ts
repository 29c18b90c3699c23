// The findings list's order, kept between snapshots. With tens of thousands
// of findings a re-sort per snapshot is too slow, so the sorted list is
// repaired for the findings that changed (binary search and insert) instead;
// an order computed for the same findings is reused, and a reversed one is the
// other backwards. The filter and the severity counts are computed here too.
import type { Finding } from '../engine/findings.js';
import { assertNever } from '../parse/events.js';
import { decidedAt, secondsOf, SEVERITY_RANK } from '../report/finding-view.js';
import { SEVERITY_FILTERS, SORT_KEYS, type SeverityCounts, type SeverityFilter, type SortKey } from './snapshot.js';

/** The findings by id and their order; one of these is frozen as a whole while the view is paused. */
export interface OrderState {
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
}

export type Compare = (a: Finding, b: Finding) => number;

export function emptyOrder(): OrderState {
  return { findings: new Map(), version: 0, dirty: new Map(), sorted: [], sortedBy: '', orders: new Map() };
}

/** A copy to freeze: the lists are copied, computed orders are not kept. */
export function cloneOrder(state: OrderState): OrderState {
  return { findings: new Map(state.findings), version: state.version, dirty: new Map(state.dirty), sorted: state.sorted.slice(), sortedBy: state.sortedBy, orders: new Map() };
}

/** A finding decided or changed; returns the copy it replaces, if any. */
export function putFinding(state: OrderState, finding: Finding): Finding | undefined {
  const previous = state.findings.get(finding.id);
  if (!state.dirty.has(finding.id)) state.dirty.set(finding.id, previous ?? null);
  state.findings.set(finding.id, finding);
  state.version++;
  return previous;
}

/** The key of an order: `severity+`, `size-`… */
function orderKey(sort: SortKey, reversed: boolean): string {
  return `${sort}${reversed ? '-' : '+'}`;
}

/** Brings state.sorted up to date for `key`: reused, reversed, repaired for a few changed findings, or re-sorted. */
function sortedOf(state: OrderState, key: string, compare: Compare): Finding[] {
  if (state.sortedBy !== key && state.dirty.size === 0 && reuseOrder(state, key)) return state.sorted;
  if (state.sortedBy !== key || state.dirty.size > Math.max(64, state.sorted.length / 8)) {
    state.orders.clear();
    state.sorted = [...state.findings.values()].sort(compare);
    state.sortedBy = key;
    state.dirty.clear();
    return state.sorted;
  }
  if (state.dirty.size > 0) state.orders.clear();
  for (const [id, old] of state.dirty) {
    if (old !== null) {
      const at = lowerBound(state.sorted, old, compare);
      if (state.sorted[at] === old) state.sorted.splice(at, 1);
      else {
        const k = state.sorted.indexOf(old);
        if (k >= 0) state.sorted.splice(k, 1);
      }
    }
    const now = state.findings.get(id);
    if (now !== undefined) state.sorted.splice(lowerBound(state.sorted, now, compare), 0, now);
  }
  state.dirty.clear();
  return state.sorted;
}

/** Another order of the same findings: computed before, or the reverse of one that was. */
function reuseOrder(state: OrderState, key: string): boolean {
  state.orders.set(state.sortedBy, { version: state.version, list: state.sorted });
  const known = state.orders.get(key);
  const mirror = state.orders.get(mirrorOf(key));
  if (known !== undefined && known.version === state.version) state.sorted = known.list;
  // Orders are total, so the reversed comparator's order is this one backwards.
  else if (mirror !== undefined && mirror.version === state.version) state.sorted = mirror.list.slice().reverse();
  else return false;
  state.sortedBy = key;
  return true;
}

export interface Rows {
  /**
   * Without a filter, the sorted list itself: a copy of 30,000 rows at each
   * snapshot was a large object that only a full collection frees (peak RSS).
   * It is repaired in place only while the next snapshot is built.
   */
  rows: readonly Finding[];
  counts: SeverityCounts;
}

/** What the rows depend on besides the findings. */
export interface RowsQuery {
  sort: SortKey;
  reversed: boolean;
  severity: SeverityFilter;
  filterText: string;
  /** Live without trace seconds: when the store heard of a finding (ms), for ages. */
  heardAt: (finding: Finding) => number | null;
}

/** The rows of the last query, kept while neither the findings nor the query changed (a selection move reuses them). */
export class RowsMemo {
  private last: { state: OrderState; version: number; key: string; severity: SeverityFilter; filterText: string; rows: Rows } | null = null;

  rowsOf(state: OrderState, query: RowsQuery): Rows {
    const key = orderKey(query.sort, query.reversed);
    const last = this.last;
    if (last !== null && last.state === state && last.version === state.version && last.key === key && last.severity === query.severity && last.filterText === query.filterText) return last.rows;
    const sorted = sortedOf(state, key, findingComparator(query.sort, query.reversed, query.heardAt));
    const rows = filterRows(sorted, query.severity === 'all' && query.filterText.trim() === '' ? null : keepsFinding(query.severity, query.filterText));
    this.last = { state, version: state.version, key, severity: query.severity, filterText: query.filterText, rows };
    return rows;
  }
}

/**
 * Where the selection is now: it follows its finding, not its row (new
 * findings sorted in above it push it down rather than taking its place);
 * when its finding has left the rows, the row at the same place. -1: no rows.
 */
export function selectionIndex(rows: readonly Finding[], selectedId: string | null, selectedIndex: number): number {
  let index = -1;
  if (selectedId !== null) {
    const guess = rows[selectedIndex];
    index = guess !== undefined && guess.id === selectedId ? selectedIndex : rows.findIndex((row) => row.id === selectedId);
  }
  if (index < 0 && rows.length > 0) index = Math.max(0, Math.min(rows.length - 1, selectedIndex));
  return index;
}

/** The rows a severity and a filter keep (null: every one), in order, and their count by severity. */
function filterRows(sorted: readonly Finding[], keeps: ((finding: Finding) => boolean) | null): Rows {
  const counts: SeverityCounts = { error: 0, warning: 0, info: 0 };
  if (keeps === null) {
    for (const finding of sorted) counts[finding.severity]++;
    return { rows: sorted, counts };
  }
  const rows: Finding[] = [];
  for (const finding of sorted) {
    if (!keeps(finding)) continue;
    rows.push(finding);
    counts[finding.severity]++;
  }
  return { rows, counts };
}

/** `s` and `/`: a severity, and text found in a path or earlier name (or a pid, typed as digits). */
function keepsFinding(severity: SeverityFilter, filterText: string): (finding: Finding) => boolean {
  const text = filterText.trim().toLowerCase();
  const pid = /^\d+$/.test(text) ? Number(text) : null;
  return (finding) => {
    if (severity !== 'all' && finding.severity !== severity) return false;
    if (text.length === 0) return true;
    if (pid !== null && finding.pid === pid) return true;
    return factsOf(finding).text.includes(text);
  };
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

/**
 * Orders are total (ties broken by id), so a finding has one place to go and
 * can be found again by binary search. `heardAt`: live without trace seconds,
 * when the store heard of a finding (ms).
 */
function findingComparator(sort: SortKey, reversed: boolean, heardAt: (finding: Finding) => number | null): Compare {
  const base = comparator(sort, heardAt);
  return reversed ? (a, b) => base(b, a) : base;
}

function comparator(sort: SortKey, heardAt: (finding: Finding) => number | null): Compare {
  const byId: Compare = (a, b) => factsOf(a).id - factsOf(b).id || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  // Oldest first: the longest-held orphan is the one to look at.
  const byAge: Compare = (a, b) => (factsOf(a).decided ?? heardAt(a) ?? Infinity) - (factsOf(b).decided ?? heardAt(b) ?? Infinity);
  switch (sort) {
    case 'id':
      return byId;
    case 'severity':
      return (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || byAge(a, b) || byId(a, b);
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

/** The first index whose element is not before `item`. */
function lowerBound(list: readonly Finding[], item: Finding, compare: Compare): number {
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

/**
 * What the user chose to see: the order, the severity and text filters,
 * follow mode and the selection. Changed only by keys; the store redraws
 * at once after each change.
 */
export class ListChoices {
  sort: SortKey = 'severity';
  reversed = false;
  severity: SeverityFilter = 'all';
  filterText = '';
  follow = false;
  selectedId: string | null = null;
  selectedIndex = 0;
  /** The newest finding follow mode last selected. */
  private followedId: string | null = null;

  cycleSort(): SortKey {
    this.sort = nextOf(SORT_KEYS, this.sort);
    this.reversed = false;
    return this.sort;
  }

  reverseSort(): boolean {
    this.reversed = !this.reversed;
    return this.reversed;
  }

  cycleSeverity(): SeverityFilter {
    this.severity = nextOf(SEVERITY_FILTERS, this.severity);
    return this.severity;
  }

  /** Follow mode: select each new finding as it arrives (and the newest one now). */
  setFollow(on: boolean): void {
    this.follow = on;
    this.followedId = null;
  }

  /** The query for this data's rows. */
  query(heardAt: RowsQuery['heardAt']): RowsQuery {
    return { sort: this.sort, reversed: this.reversed, severity: this.severity, filterText: this.filterText, heardAt };
  }

  /** The selected row among `rows` (-1: none), after follow mode has taken the newest finding once, when it arrived. */
  selectIn(rows: readonly Finding[], newestId: string | null): number {
    if (this.follow && newestId !== null && newestId !== this.followedId && rows.some((row) => row.id === newestId)) {
      this.selectedId = newestId;
      this.followedId = newestId;
    }
    const index = selectionIndex(rows, this.selectedId, this.selectedIndex);
    const selected = rows[index];
    if (selected !== undefined) {
      this.selectedId = selected.id;
      this.selectedIndex = index;
    }
    return index;
  }
}

function nextOf<T>(list: readonly T[], current: T): T {
  return list[(list.indexOf(current) + 1) % list.length]!;
}

import { describe, expect, it } from 'vitest';
import type { At, Finding } from '../src/engine/findings.js';
import { TuiStore } from '../src/tui/store.js';
import { fitParts, sparkline } from '../src/tui/format.js';
import { storeFromTrace } from './tui-fixture.js';
import { handMadeFinding } from './support/finding.js';

/** A place with the numeric time the parser carries (`seconds`), as the engine passes it on. */
function at(line: number, time: string, seconds: number): At {
  return Object.assign({ file: 't', line, time, tid: 100 }, { seconds });
}

function finding(id: number, overrides: Partial<Finding> = {}): Finding {
  return handMadeFinding(`F${id}`, `/d/${id}.index.deleted`, {
    pid: 100,
    names: [`/d/${id}.index`],
    address: `0x${(0x7f0000000000 + id * 0x1000).toString(16)}`,
    length: 4096 * id,
    mappedAt: at(id, `10:00:0${id % 10}.000000`, 36000 + (id % 10)),
    unlinkedAt: at(100 + id, `10:00:${10 + id}.000000`, 36010 + id),
    ...overrides,
  });
}

function newStore(): TuiStore {
  const store = new TuiStore({ source: { kind: 'live', pid: 100, command: 'java', backend: 'strace' }, throttleMs: 0 });
  return store;
}

describe('TuiStore', () => {
  it('keeps the selection on its finding when new findings sort in above it', () => {
    const store = newStore();
    store.change({ type: 'decided', finding: finding(2) });
    store.change({ type: 'decided', finding: finding(3) });
    store.flush();
    store.cycleSort(); // age
    store.cycleSort(); // size: largest first → F3, F2
    store.move(1);
    expect(store.getSnapshot().selectedId).toBe('F2');
    store.change({ type: 'decided', finding: finding(9) }); // largest: sorts first
    store.change({ type: 'decided', finding: finding(5) });
    store.flush();
    const snapshot = store.getSnapshot();
    expect(snapshot.rows.map((row) => row.id)).toEqual(['F9', 'F5', 'F3', 'F2']);
    expect(snapshot.selectedId).toBe('F2');
    expect(snapshot.selectedIndex).toBe(3);
  });

  it('selects the first finding when the first one arrives, and does not follow later ones', () => {
    const store = newStore();
    expect(store.getSnapshot().selectedIndex).toBe(-1);
    store.change({ type: 'decided', finding: finding(1) });
    store.flush();
    expect(store.getSnapshot().selectedId).toBe('F1');
    store.change({ type: 'decided', finding: finding(2) });
    store.flush();
    expect(store.getSnapshot().selectedId).toBe('F1');
  });

  it('follows each new finding in follow mode, and a move ends it', () => {
    const store = newStore();
    store.change({ type: 'decided', finding: finding(1) });
    store.change({ type: 'decided', finding: finding(2) });
    store.flush();
    store.setFollow(true);
    expect(store.getSnapshot().selectedId).toBe('F2');
    store.change({ type: 'decided', finding: finding(3) });
    store.flush();
    expect(store.getSnapshot()).toMatchObject({ selectedId: 'F3', follow: true });
    store.move(-1);
    store.change({ type: 'decided', finding: finding(4) });
    store.flush();
    expect(store.getSnapshot()).toMatchObject({ selectedId: 'F2', follow: false });
  });

  it('shows a frozen view while paused, keeps accepting changes, and catches up on resume', () => {
    const store = newStore();
    store.change({ type: 'decided', finding: finding(1) });
    store.counters({ deletedMappings: 1, deletedBytes: 4096 });
    store.flush();
    store.setPaused(true);
    store.change({ type: 'decided', finding: finding(2) });
    store.change({ type: 'resolved', finding: finding(1, { resolution: 'unmapped', delayMs: 1500 }) });
    store.counters({ deletedMappings: 1, deletedBytes: 8192 });
    store.flush();
    let snapshot = store.getSnapshot();
    expect(snapshot.paused).toBe(true);
    expect(snapshot.rows.map((row) => row.id)).toEqual(['F1']);
    expect(snapshot.rows[0]!.resolution).toBeNull();
    expect(snapshot.counters.deletedBytes).toBe(4096);
    expect(snapshot.pendingChanges).toBeGreaterThanOrEqual(3);
    store.setPaused(false);
    snapshot = store.getSnapshot();
    expect(snapshot.rows.map((row) => row.id)).toEqual(['F1', 'F2']);
    expect(snapshot.rows[0]!.resolution).toBe('unmapped');
    expect(snapshot.counters.deletedBytes).toBe(8192);
  });

  it('does not show later in-place mutations of an engine finding until a change reports them', () => {
    const store = newStore();
    const live = finding(1);
    store.change({ type: 'decided', finding: live });
    store.flush();
    live.resolution = 'unmapped';
    expect(store.getSnapshot().rows[0]!.resolution).toBeNull();
  });

  it('sorts by severity then age by default, then age, size, path, pid and id, ties broken by id, and reverses', () => {
    const store = newStore();
    store.change({ type: 'decided', finding: finding(1, { severity: 'info', path: '/z', length: 10 }) });
    store.change({ type: 'decided', finding: finding(2, { severity: 'warning', kind: 'remapped-without-unmap', path: '/a', length: 30, remappedAt: at(1, '09:00:00.000000', 32400) }) });
    store.change({ type: 'decided', finding: finding(3, { path: '/m', length: 20 }) });
    store.flush();
    const order = () =>
      store
        .getSnapshot()
        .rows.map((row) => row.id)
        .join(' ');
    expect(store.getSnapshot().sort).toBe('severity');
    expect(order()).toBe('F3 F2 F1');
    expect(store.reverseSort()).toBe(true);
    expect(order()).toBe('F1 F2 F3');
    expect(store.cycleSort()).toBe('age');
    expect(store.getSnapshot().reversed).toBe(false);
    expect(order()).toBe('F2 F1 F3');
    expect(store.cycleSort()).toBe('size');
    expect(order()).toBe('F2 F3 F1');
    expect(store.cycleSort()).toBe('path');
    expect(order()).toBe('F2 F3 F1');
    expect(store.cycleSort()).toBe('pid');
    expect(order()).toBe('F1 F2 F3');
    expect(store.cycleSort()).toBe('id');
    expect(order()).toBe('F1 F2 F3');
    expect(store.cycleSort()).toBe('severity');
  });

  it('reuses an order it computed for the same findings, and never one computed before they changed', () => {
    const store = newStore();
    for (const k of [4, 1, 3, 2]) store.change({ type: 'decided', finding: finding(k, { length: k * 4096 }) });
    store.flush();
    const order = () =>
      store
        .getSnapshot()
        .rows.map((row) => row.id)
        .join(' ');
    const cycle = () => {
      const seen: string[] = [];
      for (let k = 0; k < 6; k++) {
        store.cycleSort();
        seen.push(`${store.getSnapshot().sort}: ${order()}`);
        store.reverseSort();
        seen.push(`${store.getSnapshot().sort} reversed: ${order()}`);
        store.reverseSort();
      }
      return seen;
    };
    const first = cycle();
    expect(cycle()).toEqual(first);
    expect(first).toContain('size: F4 F3 F2 F1');
    expect(first).toContain('size reversed: F1 F2 F3 F4');
    // A new finding: every order is worked out again.
    store.change({ type: 'decided', finding: finding(9, { length: 9 * 4096 }) });
    store.flush();
    const after = cycle();
    expect(after).toContain('size: F9 F4 F3 F2 F1');
    expect(after).toContain('id reversed: F9 F4 F3 F2 F1');
  });

  it('keeps the order right as findings arrive and are resolved, without re-sorting everything', () => {
    const store = newStore();
    const sizes = [5, 3, 9, 1, 7, 2, 8, 6, 4];
    store.cycleSort(); // age
    store.cycleSort(); // size
    for (const [k, size] of sizes.entries()) {
      for (let j = 0; j < 20; j++) store.change({ type: 'decided', finding: finding(100 + k * 20 + j, { length: size * 4096 + j }) });
      store.flush();
    }
    store.change({ type: 'resolved', finding: finding(100, { length: 5 * 4096, resolution: 'unmapped', delayMs: 3 }) });
    store.flush();
    const rows = store.getSnapshot().rows;
    expect(rows).toHaveLength(180);
    for (let k = 1; k < rows.length; k++) expect(rows[k - 1]!.length).toBeGreaterThanOrEqual(rows[k]!.length);
    expect(rows.find((row) => row.id === 'F100')!.resolution).toBe('unmapped');
  });

  it('filters by path text or pid, and cycles the severity filter', () => {
    const store = newStore();
    store.change({ type: 'decided', finding: finding(1) });
    store.change({ type: 'decided', finding: finding(2, { pid: 4242, severity: 'info' }) });
    store.flush();
    store.setFilter('4242');
    expect(store.getSnapshot().rows.map((row) => row.id)).toEqual(['F2']);
    store.setFilter('1.INDEX');
    expect(store.getSnapshot().rows.map((row) => row.id)).toEqual(['F1']);
    store.setFilter('');
    expect(store.cycleSeverity()).toBe('error');
    expect(store.getSnapshot().rows.map((row) => row.id)).toEqual(['F1']);
    store.cycleSeverity();
    expect(store.getSnapshot().rows).toEqual([]);
    expect(store.cycleSeverity()).toBe('info');
    expect(store.getSnapshot().rows.map((row) => row.id)).toEqual(['F2']);
  });

  it('emits at most one snapshot per throttle interval however many changes arrive', async () => {
    const store = new TuiStore({ source: { kind: 'file', names: ['t'] }, throttleMs: 50 });
    let emitted = 0;
    store.subscribe(() => emitted++);
    for (let k = 1; k <= 2000; k++) store.change({ type: 'decided', finding: finding(k) });
    expect(emitted).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(emitted).toBe(1);
    expect(store.getSnapshot().totalFindings).toBe(2000);
    store.dispose();
  });

  it('keeps the chart series bounded and its peak', () => {
    const store = new TuiStore({ source: { kind: 'file', names: ['t'] }, throttleMs: 0, maxPoints: 16 });
    for (let k = 0; k < 1000; k++) store.point(k, k === 500 ? 99 : k % 7, k);
    store.flush();
    const snapshot = store.getSnapshot();
    expect(snapshot.series.length).toBeLessThanOrEqual(16);
    expect(Math.max(...snapshot.series.map((point) => point.count))).toBe(99);
    expect(snapshot.peak).toEqual({ count: 99, bytes: 999 });
  });

  it('counts the real JVM trace: 17 findings and a peak of 9 deleted mappings', () => {
    const { store } = storeFromTrace();
    const snapshot = store.getSnapshot();
    expect(snapshot.totalFindings).toBe(17);
    expect(snapshot.rows.filter((row) => row.severity === 'error')).toHaveLength(8);
    // All eight 10 MiB index mappings plus the hsperfdata file were held at once before exit.
    expect(snapshot.peak.count).toBe(9);
    expect(snapshot.counters.deletedMappings).toBe(0);
    expect(snapshot.series.length).toBeGreaterThan(2);
  });
});

describe('TUI formatting', () => {
  it('draws a step function with each column at its highest value', () => {
    // Columns cover x 0-0.75, 0.75-1.5, 1.5-2.25, 2.25-3: the 8 is held until x=2.
    expect(
      sparkline(
        [
          { x: 0, value: 0 },
          { x: 1, value: 8 },
          { x: 2, value: 4 },
          { x: 3, value: 0 },
        ],
        4,
      ),
    ).toBe(' ██▄');
    // A one-sample spike among a thousand still shows.
    const points = Array.from({ length: 1000 }, (_, k) => ({ x: k, value: k === 500 ? 10 : 1 }));
    expect(sparkline(points, 10)).toContain('█');
    expect(sparkline([], 3)).toBe('   ');
  });

  it('draws over the whole axis: a value held only in the last instants is a sliver at the right edge', () => {
    // traces/fixed: the hsperfdata file, deleted 6 ms before the end of a 445 ms trace.
    const line = sparkline(
      [
        { x: 0.439, value: 1 },
        { x: 0.445, value: 1 },
      ],
      40,
      0,
      0.445,
    );
    expect(line.trimEnd()).toBe(`${' '.repeat(39)}█`);
    // Growth over the whole span reads as growth, not as a solid bar.
    const growth = sparkline(
      Array.from({ length: 160 }, (_, k) => ({ x: k, value: k * 29 })),
      8,
      0,
      159,
    );
    expect(growth).toBe('▁▂▃▄▅▆▇█');
  });

  it('fits header parts by dropping the least important whole, cutting only what may be cut', () => {
    const parts = [
      { text: 'orphanmap', priority: 100 },
      { text: 'PAUSED', priority: 95 },
      { text: 'elapsed 1:02', priority: 90 },
      { text: 'java -cp /very/long/class/path IndexLifecycle --mode leaky', priority: 10, shrink: 'end' as const, min: 8 },
    ];
    expect(fitParts(parts, 41).map((part) => part.shown)).toEqual(['orphanmap', 'PAUSED', 'elapsed 1:02', 'java -c…']);
    expect(fitParts(parts, 48).map((part) => part.shown)).toEqual(['orphanmap', 'PAUSED', 'elapsed 1:02', 'java -cp /very…']);
    expect(fitParts(parts, 31).map((part) => part.shown)).toEqual(['orphanmap', 'PAUSED', 'elapsed 1:02']);
  });
});

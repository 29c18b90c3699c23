// Two different files must never look the same in the PATH column, and the
// part that tells them apart (partition directory, base offset) goes last.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeControl } from '../src/report/sanitize.js';
import { layoutFor } from '../src/tui/components/FindingsTable.js';
import { neededWidth, PathIndex, pathLabels, squeezeZeros } from '../src/tui/paths.js';
import { bundledInputs, storeFromInputs } from './tui-fixture.js';

function labelsFor(paths: string[], width: number): Map<string, string> {
  const index = new PathIndex();
  for (const path of paths) index.add(path);
  return pathLabels(paths, width, (path) => index.depth(path));
}

function expectDistinct(labels: Map<string, string>, width: number): void {
  const seen = new Map<string, string>();
  for (const [path, label] of labels) {
    expect(label.length, `${label} for ${path}`).toBeLessThanOrEqual(width);
    expect(seen.get(label), `"${label}" for both ${seen.get(label)} and ${path}`).toBeUndefined();
    seen.set(label, path);
  }
}

describe('PATH labels', () => {
  it('squeezes the leading zeros of a base offset and keeps its digits', () => {
    expect(squeezeZeros('00000000000000146685.timeindex.deleted')).toBe('0…146685.timeindex.deleted');
    expect(squeezeZeros('00000000000000000000.index')).toBe('0…0.index');
    expect(squeezeZeros('00000000000000010000.index')).toBe('0…10000.index');
    expect(squeezeZeros('0001000.index')).toBe('0001000.index');
  });

  it('tells topic-0 from topic-1 at every width of the issue (70, 80, 100 columns)', () => {
    const paths = ['0', '1'].flatMap((p) => ['index', 'timeindex', 'index.deleted', 'timeindex.deleted'].map((ext) => `/tmp/orphanmap-repro/f-o-ttt-T-y/topic-${p}/00000000000000000000.${ext}`));
    for (const columns of [60, 70, 80, 100, 200]) {
      const width = layoutFor(columns, Math.max(...paths.map((p) => neededWidth(p, 2)))).path;
      const labels = labelsFor(paths, width);
      expectDistinct(labels, width);
      // The partition number survives at every width; its directory whole from 70 columns.
      for (const [path, label] of labels) expect(label, `${columns} columns`).toMatch(path.includes('topic-1') ? /1\/(0…0|0{20})\./ : /0\/(0…0|0{20})\./);
      if (columns >= 70) for (const [path, label] of labels) expect(label, `${columns} columns`).toContain(path.includes('topic-1') ? '/topic-1/' : '/topic-0/');
    }
  });

  it('keeps the distinguishing directory whole when the column allows it', () => {
    const paths = ['/var/lib/kafka/data/orders-1/00000000000000146685.timeindex.deleted', '/var/lib/kafka/data/orders-2/00000000000000146685.timeindex.deleted'];
    expect([...labelsFor(paths, 37).values()]).toEqual(['…/orders-1/0…146685.timeindex.deleted', '…/orders-2/0…146685.timeindex.deleted']);
    expect([...labelsFor(paths, 36).values()]).toEqual(['…orders-1/0…146685.timeindex.deleted', '…orders-2/0…146685.timeindex.deleted']);
    expect([...labelsFor(paths, 30).values()]).toEqual(['…-1/0…146685.timeindex.deleted', '…-2/0…146685.timeindex.deleted']);
  });

  it('tells apart names that differ only in how many zeros they start with', () => {
    const paths = ['/d/t-1/000000000001000.index', '/d/t-1/00000000001000.index'];
    expectDistinct(labelsFor(paths, 40), 40);
  });

  for (const { name, inputs } of bundledInputs()) {
    it(`labels every finding's path of traces/${name} distinctly at 60, 70, 80, 100 and 200 columns`, async () => {
      const store = await storeFromInputs(inputs);
      const snapshot = store.getSnapshot();
      const paths = [...new Set(snapshot.rows.map((row) => escapeControl(row.path)))];
      for (const columns of [60, 70, 80, 100, 200]) {
        const want = Math.max(0, ...paths.map((path) => neededWidth(path, snapshot.pathDepth(path))));
        const width = layoutFor(columns, want).path;
        expectDistinct(pathLabels(paths, width, snapshot.pathDepth), width);
      }
    });
  }

  it("a path's label does not hang on its twin being drawn: topic-1's reads as topic-1's alone too (review 93, D6)", () => {
    const paths = ['/tmp/kafka/topic-0/00000000000000001000.timeindex.deleted', '/tmp/kafka/topic-1/00000000000000001000.timeindex.deleted'];
    const index = new PathIndex();
    for (const path of paths) index.add(path);
    const depthOf = (path: string) => index.depth(path);
    for (let width = 16; width <= 60; width++) {
      const together = pathLabels(paths, width, depthOf);
      expectDistinct(together, width);
      const alone = paths.map((path) => pathLabels([path], width, depthOf).get(path)!);
      expect(alone, `${width} columns`).toEqual(paths.map((path) => together.get(path)));
      for (const label of alone) expect(label, `${width} columns`).not.toContain('……');
    }
  });

  it('tells apart long names that differ only in their middle, at any width from 12 columns (review 93, D8)', () => {
    const q = 'q'.repeat(60);
    const paths = [0, 1, 2].map((n) => `/tmp/r/segment-directory-07-abcdefghij/file with space and tab-${n}-${q}.idx`);
    for (let width = 12; width <= 120; width++) expectDistinct(labelsFor(paths, width), width);
  });

  it('labels any set of Kafka-like paths distinctly once the column holds the distinguishing part', () => {
    const segment = fc.tuple(
      fc.constantFrom('orders', 'events-1.v2', 'payments'),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 3_000_000 }),
      fc.constantFrom('.index', '.timeindex', '.index.deleted', '.timeindex.deleted', '.log'),
    );
    fc.assert(
      fc.property(fc.uniqueArray(segment, { minLength: 2, maxLength: 40, selector: (s) => s.join(' ') }), fc.integer({ min: 24, max: 90 }), (segments, width) => {
        const paths = segments.map(([topic, partition, offset, ext]) => `/var/lib/kafka/data/${topic}-${partition}/${String(offset).padStart(20, '0')}${ext}`);
        expectDistinct(labelsFor(paths, width), width);
      }),
    );
  });

  it('reads the distinguishing depth from every path the store holds', () => {
    const index = new PathIndex();
    for (const path of ['/a/x/f.index', '/a/y/f.index', '/a/y/g.index', 'rel.index']) index.add(path);
    expect(index.depth('/a/x/f.index')).toBe(2);
    expect(index.depth('/a/y/g.index')).toBe(1);
    expect(index.depth('rel.index')).toBe(1);
  });

  it('tells apart paths that share their last components, and a path that ends another one', () => {
    const index = new PathIndex();
    for (const path of ['/d/0.index', '/e/d/0.index', '/f/d/0.index', '/e/x/0.index', 'd/0.index', '/d/1.index']) index.add(path);
    // Every component, the root's too: '/e/d/0.index' and 'd/0.index' end with 'd/0.index'.
    expect(index.depth('/d/0.index')).toBe(3);
    expect(index.depth('/e/d/0.index')).toBe(3);
    expect(index.depth('/e/x/0.index')).toBe(2);
    expect(index.depth('d/0.index')).toBe(2);
    expect(index.depth('/d/1.index')).toBe(1);
    // Added again: still one path.
    index.add('/d/1.index');
    expect(index.depth('/d/1.index')).toBe(1);
    index.add('/g/1.index');
    expect(index.depth('/d/1.index')).toBe(2);
  });
});

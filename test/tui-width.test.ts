// The TUI's cells measured in terminal columns. The widths asked are checked
// with string-width, the measure ink lays its rows out with, never with the
// functions under test; the cuts are checked against Intl.Segmenter's
// graphemes, so no cut splits a surrogate pair or a cluster.
import fc from 'fast-check';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeControl } from '../src/report/sanitize.js';
import { detailView } from '../src/tui/components/DetailPane.js';
import { EditorBar, statusRows } from '../src/tui/components/HintBar.js';
import { App } from '../src/tui/App.js';
import { elideMiddle, UNIT_GRAPHEME_RANGES } from '../src/tui/columns.js';
import { fitParts, fitRight, fit as fitLeft, highlightPieces, wrapRows, wrapWords } from '../src/tui/format.js';
import { neededWidth, PathIndex, pathLabels } from '../src/tui/paths.js';
import { TuiStore } from '../src/tui/store.js';
import { handMadeFinding } from './support/finding.js';

/** Each sample with the width East Asian Width gives it (W and F characters and emoji 2, marks 0). */
const SAMPLES: readonly { name: string; text: string; width: number }[] = [
  { name: 'CJK', text: '/data/数据库/表格-1.index', width: 25 },
  { name: 'emoji', text: '📁files🚀x', width: 10 },
  { name: 'a ZWJ sequence', text: 'a👨‍👩‍👧b👩‍💻c', width: 7 },
  { name: 'flags', text: '🇯🇵🇺🇸x🇫🇷', width: 7 },
  { name: 'combining marks', text: 'e\u0301cole\u0301 nai\u0308ve A\u030a\u0301', width: 13 },
  // A spacing mark (Mc) takes a column of its own: कि is one cluster of two.
  { name: 'a Devanagari cluster with a spacing mark', text: 'किताब/x', width: 7 },
  { name: 'a Hangul cluster six columns wide', text: 'ab\u1100\u1100각cd', width: 10 },
  { name: 'mixed', text: '/tmp/日本語-🇯🇵-e\u0301-👩‍💻/ｶﾞ.log', width: 26 },
];

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const clusters = (text: string) => Array.from(segmenter.segment(text), (piece) => piece.segment);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** `piece` is whole clusters of `text`, from its start. */
function isClusterPrefix(piece: string, text: string): boolean {
  const kept = clusters(piece);
  return clusters(text).slice(0, kept.length).join('') === piece;
}

function isClusterSuffix(piece: string, text: string): boolean {
  const kept = clusters(piece);
  return kept.length === 0 || clusters(text).slice(-kept.length).join('') === piece;
}

function expectSafe(out: string, what: string): void {
  expect(LONE_SURROGATE.test(out), `${what}: a lone surrogate in ${JSON.stringify(out)}`).toBe(false);
}

describe('cells in terminal columns', () => {
  it('takes the samples at their East Asian widths (string-width agrees)', () => {
    for (const sample of SAMPLES) expect(stringWidth(sample.text), sample.name).toBe(sample.width);
  });

  for (const sample of SAMPLES) {
    it(`fits ${sample.name} into exactly the columns asked, cut between clusters, at every width from 0 to ${sample.width + 2}`, () => {
      for (let width = 0; width <= sample.width + 2; width++) {
        const what = `${sample.name} at ${width}`;
        for (const out of [fitLeft(sample.text, width), fitRight(sample.text, width)]) {
          expect(stringWidth(out), `${what}: ${JSON.stringify(out)}`).toBe(width);
          expectSafe(out, what);
        }
        const left = fitLeft(sample.text, width);
        if (width >= sample.width) expect(left).toBe(sample.text + ' '.repeat(width - sample.width));
        else if (width > 0) {
          const cut = /^(.*)… *$/su.exec(left);
          expect(cut, what).not.toBeNull();
          expect(isClusterPrefix(cut![1]!, sample.text), `${what}: ${JSON.stringify(left)}`).toBe(true);
        }
        if (width >= sample.width) expect(fitRight(sample.text, width)).toBe(' '.repeat(width - sample.width) + sample.text);
      }
    });

    it(`elides the middle of ${sample.name} into the columns asked, keeping whole clusters at both ends`, () => {
      for (let width = 0; width <= sample.width + 2; width++) {
        const what = `${sample.name} at ${width}`;
        const out = elideMiddle(sample.text, width);
        expectSafe(out, what);
        if (width >= sample.width) {
          expect(out, what).toBe(sample.text);
          continue;
        }
        expect(stringWidth(out), `${what}: ${JSON.stringify(out)}`).toBe(width);
        if (width < 2) continue;
        const [head, tail] = out.trimEnd().split('…') as [string, string];
        expect(isClusterPrefix(head, sample.text), `${what}: ${JSON.stringify(out)}`).toBe(true);
        expect(isClusterSuffix(tail, sample.text), `${what}: ${JSON.stringify(out)}`).toBe(true);
      }
    });

    it(`wraps ${sample.name} into rows no wider than asked, every cluster whole and in order`, () => {
      const widest = Math.max(...clusters(sample.text).map((cluster) => stringWidth(cluster)));
      for (let width = 1; width <= sample.width + 2; width++) {
        const what = `${sample.name} at ${width}`;
        for (const rows of [wrapRows(sample.text, width), wrapWords(sample.text, width), statusRows(sample.text, width, 100)]) {
          for (const row of rows) {
            expect(stringWidth(row), `${what}: ${JSON.stringify(row)}`).toBeLessThanOrEqual(width);
            expectSafe(row, what);
          }
        }
        // A cluster wider than a row cannot be shown in it; every other one is, in its place.
        if (width >= widest) {
          const nonBlank = (pieces: string[]) => pieces.filter((piece) => piece.trim() !== '');
          expect(wrapRows(sample.text, width).flatMap(clusters), what).toEqual(clusters(sample.text));
          expect(nonBlank(wrapWords(sample.text, width).flatMap(clusters)), what).toEqual(nonBlank(clusters(sample.text)));
          // The status line escapes what it shows: a ZWJ reads \u200d.
          expect(statusRows(sample.text, width, 100).flatMap(clusters), what).toEqual(clusters(escapeControl(sample.text)));
        }
        const shortened = statusRows(sample.text.repeat(3), width, 2);
        expect(shortened.length, what).toBeLessThanOrEqual(2);
        for (const row of shortened) expect(stringWidth(row), `${what}: ${JSON.stringify(row)}`).toBeLessThanOrEqual(width);
      }
    });

    it(`labels a path of ${sample.name} within the column, and fits header parts of it within the line`, () => {
      const paths = [`/var/x/${sample.text}/0.index`, `/var/y/${sample.text}/0.index`, `/var/${sample.text}.log`];
      const index = new PathIndex();
      for (const path of paths) index.add(path);
      const widest = Math.max(...paths.map((path) => neededWidth(path, index.depth(path))));
      const whole = new Set([...paths.flatMap(clusters), '…', ' ']);
      for (let width = 0; width <= widest + 2; width++) {
        for (const [path, label] of pathLabels(paths, width, (path) => index.depth(path))) {
          const what = `${path} at ${width}`;
          expect(stringWidth(label), `${what}: ${JSON.stringify(label)}`).toBeLessThanOrEqual(width);
          // Cut between clusters: each cluster of the label is one of the path's, the … of a cut or a space making up a column.
          for (const cluster of clusters(label)) expect(whole.has(cluster), `${what}: ${JSON.stringify(label)}`).toBe(true);
          expect(stringWidth(fitLeft(label, width)), what).toBe(width);
          expectSafe(label, what);
        }
        const parts = fitParts(
          [
            { text: 'orphanmap', priority: 100 },
            { text: sample.text, priority: 10, shrink: 'middle' as const, min: 4 },
            { text: `${sample.text} --flag`, priority: 5, shrink: 'end' as const, min: 4 },
          ],
          width + 10,
        );
        const line = parts.map((part) => `${part.gap}${part.shown}`).join('');
        expect(stringWidth(line), `${sample.name} at ${width + 10}: ${JSON.stringify(line)}`).toBeLessThanOrEqual(width + 10);
        expectSafe(line, sample.name);
      }
    });
  }

  it('fits any text, once escaped, into exactly the columns asked and wraps it within them', () => {
    const text = fc
      .tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('', '数据', '👩‍💻', 'e\u0301', '/x/'))
      .map((parts) => escapeControl(parts.join('')));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 40 }), (shown, width) => {
        for (const out of [fitLeft(shown, width), fitRight(shown, width)]) {
          expect(stringWidth(out), JSON.stringify(out)).toBe(width);
          expectSafe(out, JSON.stringify(shown));
        }
        const elided = elideMiddle(shown, width);
        expect(stringWidth(elided), JSON.stringify(elided)).toBe(Math.min(width, stringWidth(shown)));
        for (const row of wrapRows(shown, Math.max(1, width))) expect(stringWidth(row), JSON.stringify(row)).toBeLessThanOrEqual(Math.max(1, width));
      }),
      { numRuns: 1000 },
    );
  });

  it('cuts the characters it measures a UTF-16 unit at a time as string-width and Intl.Segmenter do', () => {
    const all: string[] = [];
    for (const [low, high] of UNIT_GRAPHEME_RANGES) {
      for (let code = low; code <= high; code++) {
        const char = String.fromCharCode(code);
        expect(stringWidth(char), `U+${code.toString(16)}`).toBe(code >= 0x3000 ? 2 : 1);
        all.push(char);
      }
    }
    // Each a grapheme of its own beside any other: in code point order, reversed, and the ends of every range against those of every other.
    expect(clusters(all.join(''))).toHaveLength(all.length);
    expect(clusters([...all].reverse().join(''))).toHaveLength(all.length);
    const ends = UNIT_GRAPHEME_RANGES.flatMap(([low, high]) => [String.fromCharCode(low), String.fromCharCode(high)]);
    for (const a of ends) for (const b of ends) expect(clusters(a + b), `${a}${b}`).toHaveLength(2);
  });

  it('cuts as the terminal shows CJK: a character that does not fit is left out and a space keeps the width', () => {
    expect(fitLeft('数据库', 6)).toBe('数据库');
    expect(fitLeft('数据库', 5)).toBe('数据…');
    expect(fitLeft('数据库', 4)).toBe('数… ');
    expect(fitLeft('数据库', 2)).toBe('… ');
    expect(fitLeft('数据库', 1)).toBe('…');
    expect(fitRight('数据', 5)).toBe(' 数据');
    expect(elideMiddle('数据库表格', 6)).toBe('数…格 ');
    // The column the head cannot use goes to the tail.
    expect(elideMiddle('数据库表格', 7)).toBe('数…表格');
    expect(wrapRows('数据库表格', 5)).toEqual(['数据', '库表', '格']);
    expect(wrapWords('数据 库表格文件 x', 5)).toEqual(['数据', '库表', '格文', '件 x']);
    expect(statusRows('数据库表格文件名', 5, 2)).toEqual(['数据', '库表…']);
  });

  it('keeps the detail pane summary of a CJK path within the pane, wrapped whole', () => {
    const path = '/srv/数据库/非常长的文件名称用于测试截断功能的路径名字/段-1.log.deleted';
    for (const width of [30, 41, 60]) {
      const summary = detailView(handMadeFinding('F1', path), width, 40, null).summary.map((line) => line.text);
      for (const row of summary) expect(stringWidth(row), `${width}: ${row}`).toBeLessThanOrEqual(width);
      const file = summary.filter((_, k, all) => k < all.findIndex((row) => row.startsWith('mapping ')));
      expect(file.join(''), `${width}`).toBe(`file      ${path}`);
    }
  });

  it('leaves printable ASCII, with the … ▼ ▲ · → › the TUI adds, exactly as the code-unit cuts had it', () => {
    // Those marks take one column each as ink measures them: the fast path's premise.
    for (const mark of '…▼▲·→›') expect(stringWidth(mark), mark).toBe(1);
    // The code before columns were measured: one column a UTF-16 unit.
    const old = {
      fitLeft: (text: string, width: number) => (text.length > width ? (width <= 0 ? '' : `${text.slice(0, width - 1)}…`) : text.padEnd(width)),
      fitRight: (text: string, width: number) => (text.length > width ? old.fitLeft(text, width) : text.padStart(width)),
      elideMiddle: (text: string, width: number) => {
        if (text.length <= width) return text;
        if (width <= 1) return width === 1 ? '…' : '';
        const tail = Math.floor((width - 1) / 2);
        return `${text.slice(0, width - 1 - tail)}…${text.slice(text.length - tail)}`;
      },
      wrapRows: (text: string, width: number) => {
        if (width <= 0 || text.length <= width) return [text];
        const rows: string[] = [];
        for (let at = 0; at < text.length; at += width) rows.push(text.slice(at, at + width));
        return rows;
      },
      wrapWords: (text: string, width: number) => {
        if (width <= 0) return [text];
        const rows: string[] = [];
        let row = '';
        for (const word of text.split(/\s+/).filter((w) => w !== '')) {
          if (row === '') row = word;
          else if (row.length + 1 + word.length <= width) row += ` ${word}`;
          else {
            rows.push(row);
            row = word;
          }
          while (row.length > width) {
            rows.push(row.slice(0, width));
            row = row.slice(width);
          }
        }
        if (row !== '' || rows.length === 0) rows.push(row);
        return rows;
      },
    };
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e…▼▲·→›]{0,40}$/), fc.integer({ min: -2, max: 44 }), (text, width) => {
        expect(fitLeft(text, width)).toBe(old.fitLeft(text, width));
        expect(fitRight(text, width)).toBe(old.fitRight(text, width));
        expect(elideMiddle(text, width)).toBe(old.elideMiddle(text, width));
        expect(wrapRows(text, width)).toEqual(old.wrapRows(text, width));
        expect(wrapWords(text, width)).toEqual(old.wrapWords(text, width));
      }),
      { numRuns: 2000 },
    );
  });

  it('measures a trace path after escapeControl: an escape shown takes the columns of its text', () => {
    const path = escapeControl('/tmp/数据\u200b\u001b[2J.index');
    expect(path).toBe('/tmp/数据\\u200b\\x1b[2J.index');
    expect(stringWidth(fitLeft(path, 20))).toBe(20);
    expect(fitLeft(path, 20)).toBe('/tmp/数据\\u200b\\x1b…');
  });
});

describe('the App with CJK and emoji paths', () => {
  const PATHS = [
    '/srv/数据/主题-1/00000000000000146685.index.deleted',
    '/srv/数据/主题-2/00000000000000146685.index.deleted',
    '/home/用户/非常长的目录名称用于测试表格的截断/文件名也很长很长很长.log.deleted',
    '/tmp/📁/🚀-e\u0301.bin',
    '/tmp/🇯🇵/flag-👩‍💻.dat',
  ];

  let unmount: (() => void) | null = null;
  afterEach(() => {
    unmount?.();
    unmount = null;
  });

  function storeWithPaths(): TuiStore {
    const store = new TuiStore({ source: { kind: 'live', pid: 7, command: 'java -jar 服务.jar', backend: 'strace' }, throttleMs: 0 });
    PATHS.forEach((path, k) => {
      store.change({ type: 'decided', finding: handMadeFinding(`F${k + 1}`, path, { pid: 7, address: `0x7f000000${k}000`, length: 4096 }) });
    });
    store.flush();
    return store;
  }

  /** The frame once `check` holds (ink draws a moment after a key); each key is sent once. */
  async function frameWhen(frame: () => string, check: (text: string) => boolean, what: string): Promise<string> {
    const end = Date.now() + 5000;
    for (;;) {
      const text = frame();
      if (check(text)) return text;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; frame:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  function expectWithin(out: string, columns: number, rows: number, what: string): string[] {
    const lines = out.split('\n');
    expect(lines.length, what).toBeLessThanOrEqual(rows);
    for (const line of lines) {
      expect(stringWidth(line), `${what}: ${line}`).toBeLessThanOrEqual(columns);
      expectSafe(line, what);
    }
    return lines;
  }

  for (const columns of [60, 80, 100]) {
    it(`draws every row of the findings table within ${columns} columns, each size under SIZE`, async () => {
      const view = render(createElement(App, { store: storeWithPaths(), width: columns, height: 30 }));
      unmount = view.unmount;
      const frame = () => view.lastFrame() ?? '';
      const out = await frameWhen(frame, (text) => text.includes('findings 5'), 'the findings');
      const lines = expectWithin(out, columns, 30, `${columns} columns`);
      const header = lines.find((line) => /^ {2}SEV/.test(line))!;
      const rows = lines.filter((line) => /^[› ] ERR /.test(line));
      expect(rows).toHaveLength(PATHS.length);
      // Cells of exactly their widths: the size ends where its header does, whatever the path's characters.
      const sizeEnd = stringWidth(header.slice(0, header.indexOf('SIZE') + 'SIZE'.length));
      for (const row of rows) expect(stringWidth(row.slice(0, row.indexOf('4.0 KiB') + '4.0 KiB'.length)), row).toBe(sizeEnd);

      // The detail of the longest path and its full path in the status rows (y) stay within the terminal too.
      view.stdin.write('jj\r');
      const detail = await frameWhen(frame, (text) => text.includes('timeline of the file'), 'the detail');
      expectWithin(detail, columns, 30, `${columns} columns, detail`);
      expect(detail.replace(/\n/g, '')).toContain(PATHS[2]!.slice(-20));
      view.stdin.write('y');
      const status = await frameWhen(frame, (text) => text.includes(`F3 ${PATHS[2]!.slice(0, 8)}`), 'the full path');
      expectWithin(status, columns, 30, `${columns} columns, path status`);
      expect(status.replace(/\n/g, '')).toContain(PATHS[2]!.slice(-12));
    });
  }
});

describe('the line being edited', () => {
  it('shows the end of a CJK filter within the width, cut between clusters', () => {
    const text = '/data/数据库/非常长的文件名称用于测试/👩‍💻-e\u0301.index';
    for (const width of [20, 30, 40]) {
      const view = render(createElement(EditorBar, { label: 'filter: ', text, width }));
      const out = view.lastFrame() ?? '';
      view.unmount();
      expect(stringWidth(out), `${width}: ${out}`).toBeLessThanOrEqual(width);
      expectSafe(out, `${width}`);
      // The end typed last is what shows, after a … and with the cursor after it.
      const shown = /^filter: …(.*?) ?$/u.exec(out);
      expect(shown, `${width}: ${out}`).not.toBeNull();
      expect(isClusterSuffix(shown![1]!, escapeControl(text)), `${width}: ${out}`).toBe(true);
      expect(stringWidth(shown![1]!), `${width}: ${out}`).toBeGreaterThanOrEqual(width - 'filter: '.length - 3);
    }
  });
});

describe('the filter text highlighted', () => {
  it('marks whole clusters, at the right place after a letter whose lower case is longer (İ)', () => {
    const cases: { text: string; needle: string; hits: string[] }[] = [
      // 'İ'.toLowerCase() is two units: an index into the whole lower case would land inside the first 📁.
      { text: 'İ📁📁x', needle: '📁', hits: ['📁', '📁'] },
      { text: '/İstanbul/数据/İİ数据.log', needle: '数据', hits: ['数据', '数据'] },
      { text: 'cafe\u0301 cafe', needle: 'e', hits: ['e\u0301', 'e'] },
      { text: 'a👩‍💻b', needle: '👩', hits: ['👩‍💻'] },
      { text: '/tmp/Orders-1/ORDERS', needle: 'orders', hits: ['Orders', 'ORDERS'] },
      // The filter as typed, folded as the text is (final review: an İ in it matched nothing).
      { text: '/tmp/İstanbul.log', needle: 'İstanbul', hits: ['İstanbul'] },
      { text: '/tmp/İstanbul/ISTANBUL', needle: 'İSTANBUL', hits: ['İstanbul'] },
      { text: '/tmp/Orders-1/ORDERS', needle: 'ORDERS', hits: ['Orders', 'ORDERS'] },
    ];
    for (const { text, needle, hits } of cases) {
      const pieces = highlightPieces(text, needle);
      expect(pieces.map((piece) => piece.text).join(''), text).toBe(text);
      expect(
        pieces.filter((piece) => piece.hit).map((piece) => piece.text),
        text,
      ).toEqual(hits);
      // Every piece starts where a cluster of the text starts.
      const starts = new Set<number>();
      let at = 0;
      for (const cluster of clusters(text)) {
        starts.add(at);
        at += cluster.length;
      }
      at = 0;
      for (const piece of pieces) {
        expectSafe(piece.text, text);
        expect(starts.has(at), `${text}: ${JSON.stringify(piece.text)} at ${at}`).toBe(true);
        at += piece.text.length;
      }
    }
  });
});

// The TUI keeps no finding's evidence lines: it reads them from the engine
// (and through it, mostly, from the input) when the detail view or an export
// needs them (issue #14, goal 3). What it shows is what `analyze --format json`
// reports for the same finding: the ground truth here.
import { appendFileSync, copyFileSync, cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import type { EvidenceLine, Finding } from '../src/engine/findings.js';
import { analyzeLiveBundle } from '../src/ingest/analyze.js';
import { App } from '../src/tui/App.js';
import { engineFeed } from '../src/tui/feed.js';
import { callText } from '../src/tui/format.js';
import { analyzeOptionsFor, readIntoStore } from '../src/tui/run.js';
import { TuiStore } from '../src/tui/store.js';
import { generate } from './support/generate-trace.mjs';
import { runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';
import { bundledInputs } from './tui-fixture.js';

const scratch = mkdtempSync(join(tmpdir(), 'om-tui-evidence-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let evidenceReads: MockInstance;
beforeAll(() => {
  evidenceReads = vi.spyOn(Engine.prototype, 'evidenceOf');
});
afterEach(() => evidenceReads.mockClear());

/** `analyze --format json`'s findings, by id. */
function jsonFindings(inputs: readonly string[]): Map<string, Finding> {
  const result = runCli(['analyze', ...inputs, '--format', 'json']);
  if (result.stdout === '') throw new Error(`analyze --format json failed (${result.status}): ${result.stderr}`);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  return new Map(report.findings.map((finding) => [finding.id, finding]));
}

/** A store read as `analyze --tui` reads its inputs. */
async function tuiStore(inputs: string[]): Promise<TuiStore> {
  const store = new TuiStore({ source: { kind: 'file', names: inputs }, throttleMs: 0 });
  await readIntoStore(inputs, store, engineFeed(store));
  store.flush();
  return store;
}

/** Every row's lines as the view reads them, against the JSON report's. */
function expectJsonEvidence(store: TuiStore, json: Map<string, Finding>): void {
  const snapshot = store.getSnapshot();
  expect(snapshot.rows.map((row) => row.id).sort()).toEqual([...json.keys()].sort());
  for (const row of snapshot.rows) expect({ id: row.id, ...snapshot.evidenceOf(row) }).toEqual({ id: row.id, lines: json.get(row.id)!.evidence, error: null });
}

/** A filtered broker trace where every trim leaks and a cleaner unmaps half the leaks: files live on after their findings resolve. */
const generated = join(scratch, 'broker.txt');
writeFileSync(generated, '');
const expected = generate({ bytes: 400_000, seed: 3, leakRate: 1, gcRate: 0.5, filtered: true, write: (text) => appendFileSync(generated, text) });

describe('analyze --tui reads a finding’s evidence only when it is shown', () => {
  it('copies no evidence line into the store while reading, and reads exactly the JSON report’s lines when asked', async () => {
    const store = await tuiStore([generated]);
    const rows = store.getSnapshot().rows;
    expect(rows).toHaveLength(expected.findings['unlinked-while-mapped'] + expected.findings['remapped-without-unmap']);
    // Neither asked of the engine nor held by a row: 30,000 findings' lines were most of the TUI's memory.
    expect(evidenceReads).not.toHaveBeenCalled();
    for (const row of rows) expect(Object.getOwnPropertyDescriptor(row, 'evidence')?.value).toBeUndefined();

    const json = jsonFindings([generated]);
    expectJsonEvidence(store, json);
    expect(evidenceReads).toHaveBeenCalledTimes(rows.length);
    // Read again for the next frame of the same findings: no.
    store.getSnapshot().evidenceOf(rows.at(-1)!);
    expect(evidenceReads).toHaveBeenCalledTimes(rows.length);
  });

  it('shows in the detail view the lines `analyze --format json` reports, to the last one', async () => {
    const store = await tuiStore([generated]);
    const json = jsonFindings([generated]);
    // The finding with the longest timeline that fits the detail view.
    const finding = [...json.values()].filter((item) => item.evidence.length <= 30).reduce((longest, item) => (item.evidence.length > longest.evidence.length ? item : longest));
    expect(finding.evidence.length).toBeGreaterThan(10);
    store.selectId(finding.id);
    store.flush();
    const view = render(createElement(App, { store, width: 220, height: 50 }));
    try {
      const frame = () => view.lastFrame() ?? '';
      await waitFor('the list', () => frame().includes(`findings ${json.size}`), 5000);
      expect(evidenceReads).not.toHaveBeenCalled();
      view.stdin.write('\r');
      await waitFor('the detail', () => frame().includes(`${finding.id}  ${finding.kind}`) && frame().includes(`timeline of the file: ${finding.evidence.length} lines`), 5000);
      // The whole timeline fits: every line of the report's, in its order.
      const shown = frame().split('\n');
      const rowOf = (line: EvidenceLine) => shown.findIndex((row) => row.includes(` ${line.line} ${callText(line.text).slice(0, 60)}`));
      const places = finding.evidence.map(rowOf);
      expect(places.every((place, k) => place > 0 && (k === 0 || place === places[k - 1]! + 1))).toBe(true);
      expect(evidenceReads).toHaveBeenCalledTimes(1);
    } finally {
      view.unmount();
    }
  });

  it('shows the lines of the file that was read when another was put at its name since', async () => {
    const trace = join(scratch, 'replaced.txt');
    copyFileSync(generated, trace);
    const store = await tuiStore([trace]);
    const row = store.getSnapshot().rows[0]!;
    // Another file under the same name (a new inode): its bytes must not be shown as this trace's.
    copyFileSync(generated, `${trace}.new`);
    renameSync(`${trace}.new`, trace);
    const before = readFileSync(generated, 'utf8').split('\n');
    writeFileSync(trace, 'x'.repeat(64));
    const evidence = store.getSnapshot().evidenceOf(row);
    // Read through the descriptor the analysis read (review 5): the replaced file's lines, never the new one's bytes.
    expect(evidence.error).toBeNull();
    expect(evidence.lines.length).toBeGreaterThan(0);
    for (const line of evidence.lines) expect(line.text).toBe(before[line.line - 1]);
  });

  it.each(bundledInputs())('$name: every finding’s lines as `analyze --format json` reports them (text kept by the engine for -ff sets)', async ({ inputs }) => {
    const store = await tuiStore(inputs);
    expect(evidenceReads).not.toHaveBeenCalled();
    expectJsonEvidence(store, jsonFindings(inputs));
  });
});

describe('live: a trace that grows while it is read', () => {
  it('reads the growing file’s lines when they are shown: those written so far, then the finished bundle’s JSON report’s', async () => {
    const source = new URL('../traces/launched-late-snapshot/bundle/', import.meta.url).pathname;
    const dir = join(scratch, 'live-bundle');
    cpSync(source, dir, { recursive: true });
    const lines = readFileSync(join(source, 'trace.txt'), 'utf8').split('\n');
    // Written so far: up to the unlink that decides the bundle's one finding (line 88), not the munmap that ends it (92).
    const upTo = lines.findIndex((line) => line.includes('unlink(')) + 2;
    writeFileSync(join(dir, 'trace.txt'), `${lines.slice(0, upTo).join('\n')}\n`);
    const store = new TuiStore({ source: { kind: 'live', pid: 2129, command: null, backend: 'strace' }, throttleMs: 0 });
    let finishCapture!: () => void;
    const captureDone = new Promise<void>((resolve) => (finishCapture = resolve));
    const analysis = analyzeLiveBundle(dir, captureDone, analyzeOptionsFor(store, engineFeed(store)));
    let early: readonly EvidenceLine[];
    try {
      await waitFor(
        'the finding, decided while the capture runs',
        () => {
          store.flush();
          return store.getSnapshot().rows.length === 1;
        },
        10_000,
      );
      const snapshot = store.getSnapshot();
      early = snapshot.evidenceOf(snapshot.rows[0]!).lines;
      appendFileSync(join(dir, 'trace.txt'), lines.slice(upTo).join('\n'));
    } finally {
      finishCapture();
    }
    await analysis;
    store.finish();
    store.flush();
    const json = jsonFindings([dir]);
    expectJsonEvidence(store, json);
    const final = json.get('F1')!.evidence;
    // While the capture ran: the file's life so far, the trace's own lines, up to the unlink.
    expect(early.length).toBeLessThan(final.length);
    expect(early).toEqual(final.filter((line) => line.line < upTo));
    for (const line of early) expect(line.text).toBe(lines[line.line - 1]);
  });
});

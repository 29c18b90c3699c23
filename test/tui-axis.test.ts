// The chart's time axis in file mode spans the whole trace: from its first
// line's time to its last, not from the first finding. The expected times are
// read here from the trace text itself, not from the parser.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { axisLabels } from '../src/tui/components/Chart.js';
import { engineFeed } from '../src/tui/feed.js';
import { readIntoStore } from '../src/tui/run.js';
import { TuiStore } from '../src/tui/store.js';
import { REPO } from './tools.js';

/** `11020 1795606335.190288 execve(…` or (-ff) `1795606335.190288 execve(…`: the -ttt seconds of a line. */
function secondsOfLine(line: string): number {
  const match = /^(?:\d+ +)?(\d+\.\d{6}) /.exec(line);
  if (match === null) throw new Error(`no -ttt time in: ${line}`);
  return Number(match[1]);
}

/** The first and last line times of each file, taken together. */
function spanOfFiles(paths: readonly string[]): { first: number; last: number } {
  let first = Infinity;
  let last = -Infinity;
  for (const path of paths) {
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    first = Math.min(first, secondsOfLine(lines[0]!));
    last = Math.max(last, secondsOfLine(lines[lines.length - 1]!));
  }
  return { first, last };
}

async function axisAfterReading(inputs: string[]) {
  const store = new TuiStore({ source: { kind: 'file', names: inputs }, throttleMs: 0 });
  await readIntoStore(inputs, store, engineFeed(store));
  store.flush();
  const snapshot = store.getSnapshot();
  store.dispose();
  return snapshot.axis;
}

describe('TUI chart axis of a file', () => {
  it('spans the bundled JVM trace from its first line to its last, not from its first finding', async () => {
    const trace = join(REPO, 'traces/f-o-ttt-T-y/trace.txt');
    const { first, last } = spanOfFiles([trace]);
    const axis = await axisAfterReading([trace]);
    expect(axis?.unit).toBe('trace-seconds');
    expect(axis?.start).toBeCloseTo(first, 6);
    expect(axis?.end).toBeCloseTo(last, 6);
    // 1795606335.190288 (execve) to 1795606335.486742 (the last exit): the label counts from the first line.
    const label = axisLabels(axis ?? null, 60);
    expect(label.startsWith('└0 ')).toBe(true);
    expect(label.endsWith(`+${((last - first) * 1000).toFixed(1)} ms┘`)).toBe(true);
    expect(label).toContain('+296.5 ms┘');
  });

  it('spans a set of strace -ff files from the earliest first line to the latest last line', async () => {
    const dir = join(REPO, 'traces/ff-ttt');
    const files = readdirSync(dir)
      .filter((name) => /^trace\.\d+$/.test(name))
      .map((name) => join(dir, name));
    const { first, last } = spanOfFiles(files);
    const axis = await axisAfterReading(files);
    expect(axis?.start).toBeCloseTo(first, 6);
    expect(axis?.end).toBeCloseTo(last, 6);
  });
});

// strace -ff -t (whole seconds) cannot be merged in order (review 1, finding
// 7): the set is refused with a message naming its files, where it was merged
// with no warning and lost the mappings a fork child inherited. Nor can -ff -r
// or -ff without times (review 3, finding F), refused the same way. The same
// program captured with -ff -ttt is merged and matches the truth its
// processes read from their own /proc/self/maps (test/scenarios/stderr-prefix.py).
//
// Needs strace and /usr/bin/python3 (.ci/run installs them).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'stderr-prefix.py');

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The program's threads case under `strace -ff TIME -y -o DIR/ff/trace`: the set's directory and the truth's keys. */
function capture(time: string): { set: string; truth: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-ff${time}-`));
  const set = join(dir, 'ff');
  mkdirSync(set);
  const flags = time === '' ? [] : [time];
  const run = spawnSync('strace', ['-ff', ...flags, '-y', '-o', join(set, 'trace'), PYTHON, PROGRAM, join(dir, 'w'), 'threads'], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // "25686 7fef94a2e000-7fef94a30000" → "pid 25686 0x7fef94a2e000 8192"
  const truth = readFileSync(join(dir, 'w', 'truth.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, range] = line.split(' ') as [string, string];
      const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16)) as [number, number];
      return `pid ${pid} 0x${start.toString(16)} ${end - start}`;
    });
  return { set, truth: truth.sort() };
}

describe('strace -ff sets and their clocks', () => {
  it('-t: refused, naming the files and the flags that fix it', () => {
    const { set } = capture('-t');
    const files = readdirSync(set);
    expect(files.length).toBeGreaterThan(2);
    const result = runCli(['analyze', set, '--format', 'json']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('whole-second times (-t)');
    expect(result.stderr).toContain(join(set, 'trace.'));
    expect(result.stderr).toContain('-ff -tt or -ff -ttt');
  });

  // Review 3, finding F: merged anyway, with a warning, these made a false finding (a mapping blamed on a child already gone).
  for (const [time, what] of [
    ['-r', 'relative times (-r)'],
    ['', 'no times'],
  ] as const) {
    it(`${time === '' ? 'no time flag' : time}: refused as -t is, and each file can still be analyzed on its own`, () => {
      const { set } = capture(time);
      const files = readdirSync(set).sort();
      expect(files.length).toBeGreaterThan(2);
      const result = runCli(['analyze', set, '--format', 'json']);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(what);
      expect(result.stderr).toContain(join(set, 'trace.'));
      expect(result.stderr).toContain('-ff -tt or -ff -ttt');
      expect(result.stderr).toContain('analyze one file at a time');
      const one = runCli(['analyze', join(set, files[0]!), '--format', 'json']);
      expect(one.status, one.stderr).toBe(0);
    });
  }

  it('-ttt: merged in order, every orphaned mapping under the process that holds it', () => {
    const { set, truth } = capture('-ttt');
    const result = runCli(['analyze', set, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { unparsedLines: number } };
    const keys = report.findings
      .filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.severity !== 'info')
      .map((finding) => `pid ${finding.pid} ${finding.address} ${finding.length}`)
      .sort();
    expect(report.summary.unparsedLines).toBe(0);
    expect(keys).toEqual(truth);
  });
});

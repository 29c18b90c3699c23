// strace -f writing to stderr prints "[pid N] " only while more than one
// tracee is alive, so the prefix goes again whenever the others exit (review
// 1, finding 1). Each case runs a real program (test/scenarios/stderr-prefix.py)
// under real strace to stderr; the truth is what each process read from its
// own /proc/self/maps. orphanmap must report exactly those mappings, under
// the pid that holds them, with no line unreadable.
//
// Needs strace and /usr/bin/python3 (.ci/run installs them).
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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

/** `strace -f -ttt -y` to stderr (no -o) of the program's CASE; the trace's path and the truth's keys. */
function capture(scenario: string): { trace: string; truth: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-prefix-${scenario}-`));
  const trace = join(dir, 'trace.txt');
  const stderr = openSync(trace, 'w');
  try {
    const run = spawnSync('strace', ['-f', '-ttt', '-y', PYTHON, PROGRAM, join(dir, 'w'), scenario], { stdio: ['ignore', 'ignore', stderr], timeout: 60_000 });
    expect(run.status, `strace exited ${run.status}`).toBe(0);
  } finally {
    closeSync(stderr);
  }
  // A line per orphaned mapping, by the process that holds it.
  const truth = readFileSync(join(dir, 'w', 'truth.txt'), 'utf8')
    .trim()
    .split('\n')
    .map(truthKey);
  return { trace, truth: truth.sort() };
}

/** "25686 7fef94a2e000-7fef94a30000" → "pid 25686 0x7fef94a2e000 8192" */
function truthKey(line: string): string {
  const [pid, range] = line.split(' ') as [string, string];
  const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16)) as [number, number];
  return `pid ${pid} 0x${start.toString(16)} ${end - start}`;
}

function analyze(trace: string): { keys: string[]; unparsed: number; samples: unknown[] } {
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { unparsedLines: number }; unparsedSamples: unknown[] };
  const keys = report.findings
    .filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.severity !== 'info')
    .map((finding) => `pid ${finding.pid} ${finding.address} ${finding.length}`)
    .sort();
  return { keys, unparsed: report.summary.unparsedLines, samples: report.unparsedSamples };
}

describe('strace -f to stderr, where the [pid N] prefix comes and goes', () => {
  it('a root that runs a short child first: its vfork resumes with a prefix, and its later lines have none', () => {
    const { trace, truth } = capture('fork-first');
    // The case as reproduced: the vfork began unprefixed and resumed as "[pid N] <... vfork resumed>".
    expect(readFileSync(trace, 'utf8')).toMatch(/^\[pid +\d+\] [\d.]+ <\.\.\. vfork resumed>/m);
    const { keys, unparsed, samples } = analyze(trace);
    expect(unparsed, JSON.stringify(samples)).toBe(0);
    expect(keys).toEqual(truth);
  });

  it('a child whose parent exited: its lines without a prefix are its own, not the first process', () => {
    const { trace, truth } = capture('parent-exits');
    expect(truth).toHaveLength(1);
    const { keys, unparsed, samples } = analyze(trace);
    expect(unparsed, JSON.stringify(samples)).toBe(0);
    expect(keys).toEqual(truth);
  });

  it('a clone begun with a prefix resumes without one once the others exited (captured: test/fixtures/review/stderr-threads)', () => {
    const dir = join(REPO, 'test', 'fixtures', 'review', 'stderr-threads');
    const truth = readFileSync(join(dir, 'truth.txt'), 'utf8').trim().split('\n').map(truthKey).sort();
    expect(truth).toHaveLength(8);
    const { keys, unparsed, samples } = analyze(join(dir, 'trace.txt'));
    expect(unparsed, JSON.stringify(samples)).toBe(0);
    expect(keys).toEqual(truth);
  });

  it('threads, then a forked child that inherits their mappings, then the root alone again', () => {
    const { trace, truth } = capture('threads');
    expect(truth.length).toBeGreaterThanOrEqual(8);
    const { keys, unparsed, samples } = analyze(trace);
    expect(unparsed, JSON.stringify(samples)).toBe(0);
    expect(keys).toEqual(truth);
  });
});

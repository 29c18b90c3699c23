// Review 40, F1: the "current release" deploy. A program maps live/data.bin
// through the release symlink (live -> rel1, made before it ran); the
// release is swapped (live -> rel2), and live/data.bin removed: rel2's file,
// which it never mapped. The engine kept live/data.bin as a second spelling
// of rel1/data.bin's name (strace -yy printed the fd's real path; bpftrace
// describes its directory), and took the removal for rel1's: a false error,
// --fail-on error failing. A name through a symlink or directory that is
// replaced or removed no longer leads where it did: under strace, which
// prints the symlinks made (and orphanmap.bt, since review 40's F4), it leads
// where the new one does; in a trace without them, a call by it may have
// reached the file: in doubt (test/engine-review41-swap-variants.test.ts).
// Truth: the program's own /proc/self/maps after each step
// (test/scenarios/release-symlink-swap.py), which also makes a real leak
// after the swap back, through the same symlink.
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'release-symlink-swap.py');

interface Deleted {
  address: string;
  bytes: number;
  path: string;
}

interface Truth {
  pid: number;
  mapped: string;
  afterSwap: Deleted[];
  afterSecond: Deleted[];
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

/** The two releases and the symlink to the first, as a deploy leaves them before the program starts. */
function releases(name: string): string {
  const dir = workspace(name);
  for (const release of ['rel1', 'rel2']) {
    mkdirSync(join(dir, release));
    writeFileSync(join(dir, release, 'data.bin'), Buffer.alloc(65536, release));
  }
  symlinkSync('rel1', join(dir, 'live'));
  return dir;
}

/**
 * What /proc showed, and the findings: one leak, of the mapping the program made, its file removed by `rm` (not
 * by the program's own unlink after the swap). Named as the program mapped it, live/data.bin: the name that led
 * to that file again when rm removed it.
 */
function expectTheOneLeak(dir: string, report: { findings: Finding[] }): void {
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  expect(truth.afterSwap).toEqual([]);
  expect(truth.afterSecond).toEqual([{ address: truth.mapped, bytes: 65536, path: join(dir, 'rel1', 'data.bin') }]);
  expect(report.findings.map((finding) => `${finding.kind} ${finding.severity} ${finding.pid} ${finding.address} ${finding.length} ${finding.path}`)).toEqual([
    `unlinked-while-mapped error ${truth.pid} ${truth.mapped} 65536 ${join(dir, 'live', 'data.bin')}`,
  ]);
  expect(report.findings[0]!.unlinkedAt?.tid).not.toBe(truth.pid);
}

describe('a file mapped through a release symlink, the release swapped, then a file of the new release removed', () => {
  it('strace -f -yy by hand: no finding for the swap; the removal through the symlink swapped back is the one leak', () => {
    const dir = releases('release-swap-strace');
    const trace = join(dir, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = runCli(['analyze', trace, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    expectTheOneLeak(dir, JSON.parse(result.stdout) as { findings: Finding[] });
  });

  // orphanmap.bt prints symlink calls (review 40, F4): the swaps are in the trace, under bpftrace as under strace.
  it('capture --backend bpftrace: the same', () => {
    const dir = releases('release-swap-bpf');
    const bundle = join(dir, 'bundle');
    const capture = runCli(['capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, PROGRAM, dir]);
    expect(capture.status, capture.stderr).toBe(0);
    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
    expectTheOneLeak(dir, report);
    expect(report.summary.mappingsInDoubt).toBe(0);
  }, 120_000);
});

// Review 4 of 2026-12, finding 1 (the correlation engine): a file written,
// closed and opened again gets its first fd number back (Python's
// `open(p, 'wb')` then `open(p, 'r+b')`). In a capture filtered without
// close (`-e trace=%file,%memory,%process`) the second open replaced the
// file's only fd entry by one of its own: its count fell to zero for a
// moment, the file was forgotten with its names, and the unlink that left
// its mapping behind was never matched. The truth is what the program
// (test/scenarios/review2-cases.py, mode reopen-same-fd) read from its own
// /proc/self/maps before it exited.
//
// Finding 1 again, in a capture filtered to %file,%memory: a child forked
// (not in the trace) and running execve (in it) was taken for a thread of
// its parent, and its execve replaced the parent's address space: the
// parent's leaks were taken for gone and its later ones missed.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const CLIENT = join(REPO, 'test', 'scenarios', 'review2-cases.py');
const PAGE = 4096;

interface Truth {
  pid: number;
  leaks: { address: string; bytes: number; path: string }[];
}

/** The client in `mode` under strace -f -ttt with `flags` and `-e trace=FILTER`: its truth and orphanmap's JSON report of the trace. */
function traced(mode: string, flags: string[], filter: string): { truth: Truth; report: { findings: Finding[]; warnings: string[] } } {
  const dir = workspace(`review4-${mode}`);
  const input = join(dir, 'trace.txt');
  const work = join(dir, 'w');
  const run = spawnSync('strace', ['-f', '-ttt', ...flags, '-e', `trace=${filter}`, '-o', input, PYTHON, CLIENT, work, mode], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return { truth: JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth, report: JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] } };
}

/** Each unlinked-while-mapped finding, and each leak of the truth, as severity, pid, address, pages and path. */
const seen = (findings: Finding[]) =>
  findings
    .filter((finding) => finding.kind === 'unlinked-while-mapped')
    .map((finding) => `${finding.severity} pid ${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE} ${finding.path}`);
const expected = (truth: Truth) => truth.leaks.map((leak) => `error pid ${truth.pid} ${leak.address} ${leak.bytes} ${leak.path}`);

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

describe('review 4, finding 1: the same file opened again on the same fd number, its close not traced', () => {
  it.each([
    ['with -yy', ['-yy']],
    ['without -y', []],
  ])('strace filtered to file, memory and process calls, %s: the leak is the one /proc shows', (_, flags) => {
    const { truth, report } = traced('reopen-same-fd', flags, '%file,%memory,%process');
    expect(truth.leaks).toHaveLength(1);
    expect(seen(report.findings)).toEqual(expected(truth));
  });
});

describe('review 4, finding 1: a child whose fork is filtered out runs execve', () => {
  it.each([
    ['with -yy', ['-yy']],
    ['without -y', []],
  ])('strace filtered to file and memory calls, %s: the parent keeps its address space; both its leaks are the ones /proc shows, and the trace says what it took', (_, flags) => {
    const { truth, report } = traced('fork-exec', flags, '%file,%memory');
    expect(truth.leaks).toHaveLength(2);
    expect(seen(report.findings).sort()).toEqual(expected(truth).sort());
    // Both lived on until the parent exited, not until the child's execve.
    expect(report.findings.map((finding) => `${finding.resolution} by ${finding.resolvedAt?.tid}`)).toEqual([`process-exited by ${truth.pid}`, `process-exited by ${truth.pid}`]);
    expect(report.warnings.join('\n')).toMatch(/ran execve in their own pid, as only a process does: from there each is a process of its own/);
    expect(report.warnings.join('\n')).toMatch(/thread \d+ showed up with no clone, fork or vfork in the trace/);
    // Review 21: such a merge also makes false findings, under the wrong process (a JDK's CDS run under %file,%memory).
    expect(report.warnings.join('\n')).toMatch(/findings can be false or name the wrong process/);
  });
});

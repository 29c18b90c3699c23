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

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

describe('review 4, finding 1: the same file opened again on the same fd number, its close not traced', () => {
  it.each([
    ['with -yy', ['-yy']],
    ['without -y', []],
  ])('strace -e trace=%%file,%%memory,%%process %s: the leak is the one /proc shows', (_, flags) => {
    const dir = workspace('review4-reopen');
    const input = join(dir, 'trace.txt');
    const work = join(dir, 'w');
    const run = spawnSync('strace', ['-f', '-ttt', ...flags, '-e', 'trace=%file,%memory,%process', '-o', input, PYTHON, CLIENT, work, 'reopen-same-fd'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; leaks: { address: string; bytes: number; path: string }[] };
    expect(truth.leaks).toHaveLength(1);
    const result = runCli(['analyze', input, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
    const seen = findings.map((finding) => `${finding.severity} pid ${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE} ${finding.path}`);
    expect(seen).toEqual(truth.leaks.map((leak) => `error pid ${truth.pid} ${leak.address} ${leak.bytes} ${leak.path}`));
  });
});

// Review 40, F4: a file mapped through a symlink of the same last component
// in another directory (etc/data.db -> sb/data.db), and the symlink removed.
// orphanmap.bt printed no symlink call: the open's real directory (sb) and
// the name given (etc/data.db) read as one file through a symlinked
// directory, and the symlink's removal as the file's last name going: a
// false error. The script now prints symlink and symlinkat, so a symlink
// the trace saw made is known as one, under bpftrace as under strace.
// Truth: the program's own /proc/self/maps after it removes both symlinks
// (nothing deleted) and after it removes sb/data.db while mapped (the one
// leak) (test/scenarios/same-name-symlink.py).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'same-name-symlink.py');

interface Deleted {
  address: string;
  bytes: number;
  path: string;
}

interface Truth {
  pid: number;
  data: string;
  afterSymlinks: Deleted[];
  afterFile: Deleted[];
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

/** /proc's word and the report's: only sb/data.db's removal orphaned a mapping, and nothing is in doubt. */
function expectTheOneLeak(dir: string, input: string): void {
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  expect(truth.afterSymlinks).toEqual([]);
  expect(truth.afterFile).toEqual([{ address: truth.data, bytes: 65536, path: join(dir, 'sb', 'data.db') }]);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.map((finding) => `${finding.kind} ${finding.pid} ${finding.address} ${finding.length} ${finding.path} ${finding.unlinkedAt?.line}`)).toEqual([
    `unlinked-while-mapped ${truth.pid} ${truth.data} 65536 ${join(dir, 'sb', 'data.db')} ${lineOf(input, join(dir, 'sb', 'data.db'))}`,
  ]);
  expect(report.summary.mappingsInDoubt).toBe(0);
}

/** The line of the trace (a bundle's trace.txt) that removes `name`: the finding's unlink. */
function lineOf(input: string, name: string): number {
  const trace = input.endsWith('.txt') ? input : join(input, 'trace.txt');
  const lines = readFileSync(trace, 'utf8').split('\n');
  const at = lines.findIndex((line) => (line.includes(' unlink ') && line.includes(`path=${name} `)) || line.includes(`unlink("${name}")`));
  expect(at, `the unlink of ${name}`).toBeGreaterThanOrEqual(0);
  return at + 1;
}

describe('a file mapped through a symlink with its own last component, the symlink removed', () => {
  it('capture --backend bpftrace: the symlinks are known as such; only the file removed while mapped is a leak', () => {
    const dir = workspace('same-name-bpf');
    const bundle = join(dir, 'bundle');
    const capture = runCli(['capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, PROGRAM, dir]);
    expect(capture.status, capture.stderr).toBe(0);
    expectTheOneLeak(dir, bundle);
  }, 120_000);

  it('strace -f -yy by hand, filtered: the same', () => {
    const dir = workspace('same-name-strace');
    const trace = join(dir, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expectTheOneLeak(dir, trace);
  });
});

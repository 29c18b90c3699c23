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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, tracePython, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'same-name-symlink.py');

interface Truth {
  pid: number;
  data: string;
  afterSymlinks: SelfMapsDeleted[];
  afterFile: SelfMapsDeleted[];
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
  // strace -f -yy by hand, filtered; orphanmap capture --backend bpftrace, launched.
  it.each(['strace', 'capture-bpftrace'] as const)(
    '%s: the symlinks are known as such; only the file removed while mapped is a leak',
    (how) => {
      const dir = workspace(`same-name-${how}`);
      expectTheOneLeak(dir, tracePython(dir, how, PROGRAM, [dir]));
    },
    120_000,
  );
});

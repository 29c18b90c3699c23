// Review 22, F1: the benign rules trusted the file's name, which the traced
// program chooses. A 1 MiB /dev/shm/sem.* mapping, an hsperfdata_*/N file
// held on after its unlink, and a DB-shm whose DB-wal went while the -shm
// mapping stayed were each "benign", and --fail-on error passed. A rule now
// holds only for what makes its file harmless: a semaphore's page, a mapping
// gone within 1 s of the unlink (at exit), SQLite's -shm unmapped before its
// -wal goes. The real programs' benign findings stay benign
// (benign-semaphore, benign-hsperfdata-owner, benign-sqlite-wal).
// Truth: the program's own /proc/self/maps (test/scenarios/named-like-benign.py).
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'named-like-benign.py');

interface Truth {
  pid: number;
  deleted: { address: string; bytes: number; path: string }[];
}

let truth: Truth;
let trace: string;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
  const dir = workspace('named-like-benign');
  trace = join(dir, 'trace.txt');
  const truthFile = join(dir, 'truth.json');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, truthFile, join(dir, 'w')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  truth = JSON.parse(readFileSync(truthFile, 'utf8')) as Truth;
}, 90_000);

it('reports each mapping /proc showed deleted as an error, none benign, and --fail-on error fails', () => {
  const names = truth.deleted.map((line) => line.path.split('/').at(-1)).sort();
  expect(names).toEqual(['4242', 'q.db-shm', `sem.om-r22-${truth.pid}`]);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
  const found = findings.map((finding) => `${finding.kind} ${finding.severity} ${finding.pid} ${finding.address} ${finding.path} ${finding.benign ?? '-'}`).sort();
  const expected = truth.deleted.map((line) => `unlinked-while-mapped error ${truth.pid} ${line.address} ${line.path} -`).sort();
  expect(found).toEqual(expected);
  // The held-on hsperfdata file: decided benign at its unlink, an error once it went 1.5 s later (Python unmaps as it exits).
  const hsperf = findings.find((finding) => finding.path.endsWith('/hsperfdata_om/4242'))!;
  expect(hsperf.resolution).toBe('unmapped');
  expect(hsperf.note).toMatch(/^Named as the file of "JVM hsperfdata at exit" is, but its process unmapped it only 1\.\d\d s after the unlink/);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
});

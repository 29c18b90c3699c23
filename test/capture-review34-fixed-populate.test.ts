// Review 34 (exactness), F3: under bpftrace, a mapping replaced by an
// mmap(MAP_FIXED | MAP_POPULATE) over it was taken as released when that
// mmap returned, which is when bpftrace prints it: tens of ms after the
// kernel dropped it, as it reads the new file in. A process that waited to
// see the mapping gone from /proc and then unlinked its file did so inside
// that time: a false error every round (10 of 10). The release counts from
// the mmap's entry now: a mapping released by a call that entered before the
// unlink returned is "released while the unlink ran".
//
// A real program (test/scenarios/fixed-over-populate.c) under `capture
// --backend bpftrace`. The truth is the watcher's own record: it read the
// mapper's /proc/PID/maps without the file before it unlinked it.
//
// Needs root, bpftrace and gcc.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { workspace } from './scenarios/harness.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';

const ROUNDS = 5;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review34-fixed-populate.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  requireTool('gcc');
});

it('capture --backend bpftrace: a mapping an mmap(MAP_FIXED | MAP_POPULATE) replaced, its file unlinked once /proc showed it gone, is no error', () => {
  const work = realpathSync(workspace('fixed-populate'));
  const program = join(work, 'fixed-over-populate');
  execFileSync('gcc', ['-O2', '-Wall', '-o', program, join(REPO, 'test', 'scenarios', 'fixed-over-populate.c')], { stdio: 'pipe' });
  const bundle = join(work, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', program, work, String(ROUNDS), '64'], { encoding: 'utf8', timeout: 170_000 });
  expect(run.status, run.stderr).toBe(0);

  // The program's word: each round, the watcher saw the mapping gone before it unlinked the file.
  const truth = readFileSync(join(work, 'truth.txt'), 'utf8').trim().split('\n');
  expect(truth.filter((line) => / watcher \d+$/.test(line)).map((line) => Number(line.split(' ')[0]))).toEqual([...Array(ROUNDS).keys()]);

  // The race the fix is about is in the trace: an mmap over the mapping entered before the unlink returned, and returned after it.
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n');
  const overs = trace.flatMap((text) => {
    const record = /^[0-9a-f]{16} (\d+) \d+ \d+ \d+ mmap ret=\S+ addr=0x[0-9a-f]+ len=67108864 prot=0x1 flags=0x8011 .* ens=(\d+) /.exec(text);
    return record === null ? [] : [{ returned: BigInt(record[1]!), entered: BigInt(record[2]!) }];
  });
  const unlinks = trace.flatMap((text) => {
    const record = /^[0-9a-f]{16} (\d+) \d+ \d+ \d+ unlink .* ens=(\d+) path=.*\/x\d+ /.exec(text);
    return record === null ? [] : [{ returned: BigInt(record[1]!), entered: BigInt(record[2]!) }];
  });
  // Rounds in the order they ran (the trace's lines are each CPU's in turn).
  for (const calls of [overs, unlinks]) calls.sort((a, b) => (a.entered < b.entered ? -1 : 1));
  expect(overs).toHaveLength(ROUNDS);
  expect(unlinks).toHaveLength(ROUNDS);
  const raced = overs.filter((over, k) => over.entered < unlinks[k]!.returned && unlinks[k]!.returned < over.returned);
  expect(raced.length).toBeGreaterThan(0);

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => /\/x\d+$/.test(finding.path));
  expect(findings.filter((finding) => finding.severity === 'error').map((finding) => `${finding.id} ${finding.path}`)).toEqual([]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
}, 200_000);

// Review 26 (attack), F3: a mapped file unlinked by a name through a symlink
// and "..": `unlink("W/l/../seg")` with W/l -> W/a/b removes W/a/seg (the
// kernel follows W/l, then goes up from W/a/b), but the engine took ".."
// from the name's text, W/seg, which named nothing: the leak read as clean,
// exit 0 with --fail-on, every call in the trace. A ".." right after a
// symlink the trace made now goes up from its target: the finding. After
// one made before the trace, which the engine cannot follow, a name through
// ".." that names nothing while a mapped file has its last component puts
// that mapping in doubt (exit 2), not clean.
//
// A real program (test/scenarios/dotdot-unlink.py) under `orphanmap capture`
// (strace); the truth is its own /proc/self/maps after the unlink.
//
// Needs strace and /usr/bin/python3.
import { mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

function capture(scenario: 'made' | 'before'): { bundle: string; dir: string; truth: { pid: number; deleted: SelfMapsDeleted[] } } {
  const work = realpathSync(workspace(`dotdot-${scenario}`));
  const dir = join(work, 'w');
  if (scenario === 'before') {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    symlinkSync(join(dir, 'a', 'b'), join(dir, 'l'));
  }
  const bundle = join(work, 'bundle');
  const run = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(REPO, 'test', 'scenarios', 'dotdot-unlink.py'), scenario, dir]);
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  // The program's own word: the mapping it held is of W/a/seg, now deleted.
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(dir, 'a', 'seg') }]);
  // strace's line: the name as given, ".." and all (path.join would take ".." from the text, as the engine did).
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toContain(`unlink("${dir}/l/../seg") = 0`);
  return { bundle, dir, truth };
}

it('capture (strace): through a symlink the trace saw made, the unlink is the leak /proc shows', () => {
  const { bundle, truth } = capture('made');
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.length} ${f.resolution}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} 65536 unmapped`]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
});

it('capture (strace): through a symlink made before the trace, the mapping is in doubt, not clean', () => {
  const { bundle } = capture('before');
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings).toContainEqual(expect.stringContaining('which has the same last component, was mapped in that process: the name was given with ".."'));
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
});

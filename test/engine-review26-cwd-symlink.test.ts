// Review 26 (attack), F4: a mapped file unlinked by a name relative to a
// working directory entered through a symlink (chdir("W/l"), W/l -> W/a/b),
// after its real directory was renamed (W/a/b -> W/c). The kernel's cwd is
// the directory itself, so W/c/seg went; the engine kept the cwd spelled
// W/l, which a rename of W/a/b does not move, and only warned: the leak
// read as clean, exit 0 with --fail-on. The cwd is now kept by its real
// path through the symlinks the trace made: the finding. Through one made
// before the trace, which the engine cannot follow, the warning's mapping
// is now in doubt (exit 2), not clean.
//
// A real program (test/scenarios/cwd-through-symlink.py) under `orphanmap
// capture` (strace); the truth is its own /proc/self/maps after the unlink.
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
  const work = realpathSync(workspace(`cwd-symlink-${scenario}`));
  const dir = join(work, 'w');
  if (scenario === 'before') {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    symlinkSync(join(dir, 'a', 'b'), join(dir, 'l'));
  }
  const bundle = join(work, 'bundle');
  const run = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(REPO, 'test', 'scenarios', 'cwd-through-symlink.py'), scenario, dir]);
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  // The program's own word: the mapping it held is of the file renamed with its directory, now deleted.
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(dir, 'c', 'seg') }]);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toContain('unlink("seg") = 0');
  return { bundle, dir, truth };
}

it('capture (strace): a cwd entered through a symlink the trace saw made, the unlink is the leak /proc shows', () => {
  const { bundle, truth } = capture('made');
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.length} ${f.resolution}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} 65536 unmapped`]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
});

it('capture (strace): a cwd entered through a symlink made before the trace, the mapping is in doubt, not clean', () => {
  const { bundle } = capture('before');
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings).toContainEqual(expect.stringContaining('unlink of the relative name seg at '));
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
});

// Review 26 (attack), F3 and F4: a mapped file unlinked by a name that goes
// through a symlink (W/l -> W/a/b), each time read as clean, exit 0 with
// --fail-on, though every call was in the trace.
// - F3, "..": unlink("W/l/../seg") removes W/a/seg (the kernel follows W/l,
//   then goes up from W/a/b); the engine took ".." from the name's text,
//   W/seg, which named nothing. A ".." right after a symlink the trace made
//   now goes up from its target.
// - F4, the cwd: chdir("W/l"), then W/a/b renamed to W/c, then unlink("seg")
//   removes W/c/seg (the kernel's cwd is the directory itself); the engine
//   kept the cwd spelled W/l, which the rename did not move, and only warned.
//   The cwd is now kept by its real path through the symlinks the trace made.
// Through a symlink made before the trace, which the engine cannot follow,
// such an unlink that names nothing while a mapped file has its last
// component puts that mapping in doubt (exit 2), not clean.
//
// A real program (test/scenarios/symlink-names.py) under `orphanmap capture`
// (strace); the truth is its own /proc/self/maps after the unlink.
//
// Needs strace and /usr/bin/python3.
import { mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

type Case = 'dotdot' | 'cwd';

/** Where the file the unlink removed is, under the program's directory, and the unlink as strace prints it. */
const EXPECTED: Record<Case, { left: string[]; unlink: (dir: string) => string; warning: string }> = {
  dotdot: { left: ['a', 'seg'], unlink: (dir) => `unlink("${dir}/l/../seg") = 0`, warning: 'which has the same last component, was mapped in that process: the name was given with ".."' },
  cwd: { left: ['c', 'seg'], unlink: () => 'unlink("seg") = 0', warning: 'unlink of the relative name seg at ' },
};

function capture(which: Case, made: 'made' | 'before'): { bundle: string; truth: { pid: number; deleted: SelfMapsDeleted[] } } {
  const work = realpathSync(workspace(`symlink-names-${which}-${made}`));
  const dir = join(work, 'w');
  if (made === 'before') {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    symlinkSync(join(dir, 'a', 'b'), join(dir, 'l'));
  }
  const bundle = join(work, 'bundle');
  const run = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(REPO, 'test', 'scenarios', 'symlink-names.py'), which, made, dir]);
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  // The program's own word: the one mapping it held, of the file the unlink removed.
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(dir, ...EXPECTED[which].left) }]);
  // strace's line: the name as given (path.join would take ".." from the text, as the engine did).
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toContain(EXPECTED[which].unlink(dir));
  return { bundle, truth };
}

describe.each(['dotdot', 'cwd'] as const)('%s', (which) => {
  it('capture (strace): through a symlink the trace saw made, the unlink is the leak /proc shows', () => {
    const { bundle, truth } = capture(which, 'made');
    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
    expect(findings.map((f) => `${f.pid} ${f.address} ${f.length} ${f.resolution}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} 65536 unmapped`]);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
  });

  it('capture (strace): through a symlink made before the trace, the mapping is in doubt, not clean', () => {
    const { bundle } = capture(which, 'before');
    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { warnings: string[]; summary: { mappingsInDoubt: number } };
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(report.warnings).toContainEqual(expect.stringContaining(EXPECTED[which].warning));
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  });
});

// Review 25 (attack), F8: the working directory renamed (`mv data
// data.old`), or a directory above it, and then a file unlinked by a name
// relative to it: the engine kept the cwd under its old name, so the unlink
// named no file, and a 128 MiB leak read as clean, exit 0 with --fail-on.
// The kernel's cwd is the directory itself, whatever it is called now; the
// engine now moves a process's cwd with a directory renamed at or above it.
//
// A real program (test/scenarios/cwd-renamed.py) under real strace, with the
// capture's filter; the truth is the worker's own /proc/self/maps.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('strace: a file unlinked by a name relative to a working directory renamed since, or under one, is the leak /proc shows', () => {
  const work = realpathSync(workspace('cwd-renamed'));
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, join(REPO, 'test', 'scenarios', 'cwd-renamed.py'), work], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Record<'above' | 'self', { pid: number; deleted: SelfMapsDeleted[] }>;
  // Each worker's own word, named where the rename put the file.
  expect(truth.above.deleted.map((d) => d.path)).toEqual([join(work, 'above', 'w2', 'A', 'seg.index')]);
  expect(truth.self.deleted.map((d) => d.path)).toEqual([join(work, 'self', 'w', 'B', 'seg.index')]);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.path} ${f.resolution}`).sort()).toEqual(
    [truth.above, truth.self].map((c) => `${c.pid} ${c.deleted[0]!.address} ${c.deleted[0]!.path} unmapped`).sort(),
  );
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
});

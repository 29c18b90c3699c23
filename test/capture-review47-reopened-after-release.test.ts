// Review 47, P3: `capture --pid --backend bpftrace` of a PostgreSQL backend.
// A dynamic shared memory segment maps-start.txt listed was unmapped, opened
// again by its name, mapped and unmapped once more; a parallel worker, which
// the capture does not trace, removed the name after; the backend exited.
// The exit look-up found the name gone, and the mapping released first was
// put in doubt (`--fail-on` exit 2), though the open after the release
// reached the very file (bpftrace gives its inode): the name went after the
// release. Now no doubt. (strace's open names no inode: in doubt there.)
// Truth: the program's own stat of both opens (one inode) and its
// /proc/self/maps after the removal (no line of the file).
//
// Needs root and bpftrace.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('a mapping released, its name opened again reaching the same file, then removed by another process: no doubt', async () => {
  const work = workspace('review47-reopened');
  const segment = join(work, 'w', 'PostgreSQL.1651007448');
  writeFileSync(segment, Buffer.alloc(95616, 's'));
  const { program, pid, output, done: programDone } = await startScenario('reopened-after-release.py', [segment], children);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('bpftrace', pid, bundle, children, ['--duration', '120'], 'snapshots');
  program.stdin!.write('attached\n');
  await waitFor('the second mapping released', () => output().split('\n').length > 2, 10_000);
  // The program's word: the open after the release reached the inode it had mapped first.
  const [first, again] = output().split('\n')[1]!.split(' ').map(Number);
  expect(again).toBe(first);
  // The worker's removal, by a process the capture does not trace; the exit a second and more after it, so that the
  // exit look-up lists the segment in maps-start-gone.txt (a -late line is no doubt anyway).
  unlinkSync(segment);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  program.stdin!.end('removed\n');
  expect((await programDone).code).toBe(0);
  // The kernel's word: no mapping of the segment once its name went.
  expect(output().split('\n').slice(2)).toEqual(['end', '']);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  // The precondition: the capture found the name gone at the exit.
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(` ${segment}\n`);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt, report.warnings.join('\n')).toBe(0);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
}, 150_000);

// Review 32 (attack), F2: a mapped file renamed through a symlinked
// directory made before the trace, then unlinked by its new name, read as
// clean under strace -y, though strace itself printed the fd's close as
// `close(3</d/real/moved>(deleted))`: the trace knew the file by the name it
// was opened by, and a "(deleted)" annotation of a name it never gave the
// file was dropped. The file's mapping is in doubt now (a hard link may
// keep it; the trace cannot tell), so a verdict cannot pass it.
//
// A real program (test/scenarios/renamed-unseen.py) under real strace; the
// truth is its own fstat and /proc/self/maps.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('strace -f -ttt -yy: renamed through a symlinked directory made before the trace, then unlinked: in doubt, not clean', () => {
  const work = realpathSync(workspace('renamed-unseen'));
  mkdirSync(join(work, 'real'));
  writeFileSync(join(work, 'real', 'seg'), Buffer.alloc(8192));
  symlinkSync(join(work, 'real'), join(work, 'link'));
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-o', trace, PYTHON, join(REPO, 'test', 'scenarios', 'renamed-unseen.py'), work], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // The program's word: no name left, and the mapping live under the name it was given last.
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; nlink: number; deleted: SelfMapsDeleted[] };
  expect(truth.nlink).toBe(0);
  expect(truth.deleted.map((mapping) => mapping.path)).toEqual([join(work, 'real', 'moved')]);
  // The trace's word: the kernel's "(deleted)" at the close, under the new name.
  expect(readFileSync(trace, 'utf8')).toMatch(new RegExp(`close\\(\\d+<${join(work, 'real', 'moved')}>\\(deleted\\)\\) = 0`));
  const result = runCli(['analyze', trace, '--format', 'json']);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.pid === truth.pid)).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings).toContainEqual(expect.stringContaining(`was shown "(deleted)" as ${join(work, 'real', 'moved')}`));
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(2);
});

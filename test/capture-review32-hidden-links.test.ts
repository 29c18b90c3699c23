// Review 32 (exactness), 1, 5 and 8: bpftrace counts a mapped file's links
// (nlink= on each mmap), and names the trace does not know keep it (hard
// links made before the trace). Three ways around it made a clean program
// leaky or in doubt:
// - 1: a file mapped before the attach showed no count: its unlink by its
//   printed name read as the last (the capture counts the links of
//   maps-start.txt's files now, maps-start.nlink);
// - 5: maps-end.txt prints the mapping "(deleted)" (the name it was mapped
//   by went), and the end-of-capture pass made a finding of it, since the
//   file had no name the trace knew left (keptByAnotherName);
// - 8: a temporary file opened, closed and unlinked, or a new file renamed
//   over the mapped name and unlinked, was "a name the trace tied to no
//   file" (the engine had let the temporary file go) and put every such
//   mapping in doubt.
//
// A real program (test/scenarios/hidden-links-kept.py) under
// `orphanmap capture --backend bpftrace --pid`, alive at the end; the truth
// is its own /proc/self/maps and stat of the names that keep the files.
//
// Needs root and bpftrace (8-25 s to attach).
import { spawn } from 'node:child_process';
import { existsSync, linkSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review32-hidden-links.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (bpftrace): files kept by links made before the trace, a temporary file and a rename over beside them: clean', async () => {
  const work = realpathSync(workspace('hidden-kept'));
  for (const name of ['h', 'j', 'k']) {
    writeFileSync(join(work, `${name}.dat`), Buffer.alloc(8192));
    linkSync(join(work, `${name}.dat`), join(work, `${name}b.dat`));
  }
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'hidden-links-kept.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('bpftrace', program, bundle, children, ['--duration', '5']);
  program.stdin!.write('go\n');
  await waitFor('the program to make its calls', () => existsSync(join(work, 'truth.json')), 30_000);
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();
  // The program's word: each mapped file lives on under its second name.
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; kept: Record<string, [number, number]>; mapped: Record<string, number> };
  expect(truth.mapped).toEqual({
    [`${join(work, 'h.dat')} (deleted)`]: truth.kept['hb.dat']![0],
    [`${join(work, 'j.dat')} (deleted)`]: truth.kept['jb.dat']![0],
    [`${join(work, 'k.dat')} (deleted)`]: truth.kept['kb.dat']![0],
  });
  expect(truth.kept['hb.dat']![1]).toBe(1);
  // The capture's word: the program alive at the end, both mappings "(deleted)" in its maps then.
  const end = readFileSync(join(bundle, 'maps-end.txt'), 'utf8');
  expect(end).toContain(`${join(work, 'h.dat')} (deleted)`);
  expect(end).toContain(`${join(work, 'j.dat')} (deleted)`);
  // k.dat's two links, counted at the attach with its inode, and its unlink in the trace.
  const kStart = readFileSync(join(bundle, 'maps-start.txt'), 'utf8')
    .split('\n')
    .find((line) => line.endsWith(join(work, 'k.dat')))!
    .split(' ')[0];
  expect(readFileSync(join(bundle, 'maps-start.nlink'), 'utf8')).toMatch(new RegExp(`^${kStart} 2 ${truth.kept['kb.dat']![0]} ${statSync(work).dev} \\S+$`, 'm'));
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ mmap ret=0x[0-9a-f]+ addr=0x0 len=8192 .* nlink=2$/m);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.pid === truth.pid)).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
}, 180_000);

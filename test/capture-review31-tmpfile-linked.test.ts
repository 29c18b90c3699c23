// Review 31 (exactness), F-2: an O_TMPFILE file given a name by linkat
// before `capture --pid` attached, then unlinked under the trace while
// mapped, was missed: maps prints such a file "DIR/#INODE (deleted)" (the
// dentry it was made with) whether or not linkat named it since, and the
// bundle dropped every such line as a file that never had a name. The
// capture counts its links now (maps-start.nlink): one that has a name is
// followed, with names the trace does not know, and the unlink of a name the
// trace ties to no file (strace gives no inode) leaves its mapping in doubt.
// One never named stays out of it.
//
// A real program (test/scenarios/tmpfile-linked-before-attach.py) under the
// real strace; the truth is its own /proc/self/maps and the link counts the
// kernel gives it through /proc/self/map_files.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
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
  if (process.getuid?.() !== 0) throw new Error('test/capture-review31-tmpfile-linked.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): an O_TMPFILE file named by linkat before the attach, unlinked under the trace while mapped, is in doubt; one never named is not', async () => {
  const top = realpathSync(workspace('tmpfile-linked'));
  const work = join(top, 'w');
  const truthFile = join(top, 'truth.json');
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'tmpfile-linked-before-attach.py'), work, truthFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(top, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, children);
  program.stdin!.write('go\n');
  await waitFor('the program to write its truth', () => existsSync(truthFile), 30_000);
  program.stdin!.end('go\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  // The program's word: both files mapped, printed by the dentries they were made with, and neither has a name left.
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { pid: number; mapped: Record<string, { inode: number; nlink: number }> };
  const files = Object.entries(truth.mapped);
  expect(files.map(([printed, { nlink }]) => [printed, nlink])).toEqual(files.map(([, { inode }]) => [`${join(work, `#${inode}`)} (deleted)`, 0]));
  expect(files).toHaveLength(2);
  // The capture's word: one of them had one link at the attach (t.dat), the other none.
  const counted = readFileSync(join(bundle, 'maps-start.nlink'), 'utf8').trim().split('\n');
  // Each line ends with the file's inode and device (st_dev in decimal, as Node's stat gives it: the files are in work).
  const dev = statSync(work).dev;
  const ofInode = (inode: number) => counted.filter((line) => line.includes(` ${inode} ${dev} `)).map((line) => line.split(' ')[1]);
  const [named, unnamed] = files.map(([, { inode }]) => inode).sort((a, b) => Number(ofInode(b)[0] ?? -1) - Number(ofInode(a)[0] ?? -1));
  expect([ofInode(named!), ofInode(unnamed!)]).toEqual([['1'], ['0']]);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.pid === truth.pid)).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings).toContainEqual(expect.stringMatching(new RegExp(`^${join(work, `#${named}`)} had 1 link at .*maps-start\\.txt:\\d+`)));
  expect(report.warnings.join('\n')).not.toContain(`#${unnamed}`);
}, 120_000);

// Review 32 (exactness), 1 and 6: a file mapped before `capture --pid`
// attached, with a hard link made before it too. The trace shows no name
// made before it, so:
// - 1: the process's own unlink of the printed name read as the last: a
//   false error (under bpftrace as under strace);
// - 6: the printed name removed by a process not traced, the process then
//   exiting, read as a file removed out of sight (maps-start-gone.txt): a
//   false error whose note said another process removed the file.
// The capture counts the links of maps-start.txt's files now
// (maps-start.nlink): the unlink keeps the file, and the name gone out of
// sight leaves it in doubt (the hard link may have gone too, unseen).
//
// A real program (test/scenarios/linked-before-attach.py) under the real
// strace; the truth is its own /proc/self/maps and stat of the second names.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  if (process.getuid?.() !== 0) throw new Error('test/capture-review32-linked-before-attach.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): hard links made before the attach keep the files: no finding; the one whose name went out of sight is in doubt', async () => {
  const top = realpathSync(workspace('linked-before'));
  const work = join(top, 'w');
  const truthFile = join(top, 'truth.json');
  // The second names in another directory: one left in the same directory the capture's lookup at the exit finds,
  // and e.dat would be no doubt (review 82, E1; test/capture-review82-renamed-at-exit.test.ts).
  const keep = join(top, 'keep');
  mkdirSync(keep);
  for (const name of ['f', 'e', 'g']) {
    writeFileSync(join(work, `${name}.dat`), Buffer.alloc(8192));
    linkSync(join(work, `${name}.dat`), join(keep, `${name}.keep`));
  }
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'linked-before-attach.py'), work, truthFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(top, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, children);
  program.stdin!.write('go\n');
  expect((await lines.next()).value).toBe('unlinked');
  // An upgrade's way, by a process the capture does not trace.
  rmSync(join(work, 'e.dat'));
  // Well before the exit: the capture's lookup at the exit finds it gone before it (maps-start-gone.txt), not about it.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  program.stdin!.end('go\n');
  await waitFor('the program to write its truth', () => existsSync(truthFile), 30_000);
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  // The program's word: both mapped files live on under their second names.
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { pid: number; mapped: Record<string, number> };
  expect(truth.mapped).toEqual({
    [`${join(work, 'f.dat')} (deleted)`]: statSync(join(keep, 'f.keep')).ino,
    [`${join(work, 'e.dat')} (deleted)`]: statSync(join(keep, 'e.keep')).ino,
    [`${join(work, 'g.dat')} (deleted)`]: statSync(join(keep, 'g.keep')).ino,
  });
  // The capture's word: two links of f.dat's and e.dat's files, one of g.dat's (printed deleted), counted at the
  // attach, each with its inode; e.dat found gone before the exit.
  const counted = readFileSync(join(bundle, 'maps-start.nlink'), 'utf8').trim().split('\n');
  // Each line ends with the file's inode and device (st_dev in decimal, as Node's stat gives it).
  const fileOf = (name: string) => {
    const { ino, dev } = statSync(join(keep, name));
    return ` ${ino} ${dev} `;
  };
  const ofFile = (name: string) => counted.filter((line) => line.includes(fileOf(name))).map((line) => line.split(' ')[1]);
  expect([ofFile('f.keep'), ofFile('e.keep'), ofFile('g.keep')]).toEqual([['2'], ['2'], ['1']]);
  expect(counted.find((line) => line.includes(fileOf('g.keep')))).toMatch(/^a000000-a002000 /);
  // g.dat, printed "(deleted)" at 0a000000 (padded), its count found all the same (review 32, code review 2).
  expect(readFileSync(join(bundle, 'maps-start.txt'), 'utf8')).toMatch(new RegExp(`^0a000000-0a002000 .* ${join(work, 'g.dat')} \\(deleted\\)$`, 'm'));
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(join(work, 'e.dat'));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.pid === truth.pid)).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings).toContainEqual(expect.stringMatching(new RegExp(`^${join(work, 'e.dat')} had 2 links at .*maps-start\\.txt:\\d+`)));
}, 120_000);

// Review 33 (attack), F2: a target that watches its own TracerPid links a
// second name to a file it maps the moment `capture --pid` attaches. The
// link is in the trace, and in maps-start.nlink too, counted once the tracer
// had attached: the second name was counted twice, and once both were
// unlinked, the one too many kept the file: the leak read as clean. The
// capture counts the links before it starts the tracer too
// (maps-before.nlink), and the lower count holds.
//
// A real program (test/scenarios/link-when-traced.py) under the real
// strace; the truth is its own /proc/self/maps and the link count the kernel
// gives it through /proc/self/map_files.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review33-link-when-traced.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): a second name linked the moment the tracer attached is not counted twice: the leak is found', async () => {
  const work = realpathSync(workspace('link-when-traced'));
  const seg = join(work, 'seg');
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'link-when-traced.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const { ino: inode, dev } = statSync(seg);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, children);
  expect((await lines.next()).value).toBe('linked');
  // The capture's word, once it has counted: two links after the attach (seg2 among them), one before.
  await waitFor('the capture to count the links', () => existsSync(join(bundle, 'maps-start.nlink')), 30_000);
  program.stdin!.write('go\n');
  await waitFor('the program to write its truth', () => existsSync(join(work, 'truth.json')), 30_000);
  program.stdin!.end('go\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  const countedAfter = readFileSync(join(bundle, 'maps-start.nlink'), 'utf8');
  expect(countedAfter, 'the link came after the capture counted (the order this test needs did not happen)').toMatch(new RegExp(` 2 ${inode} ${dev} \\S+$`, 'm'));
  expect(readFileSync(join(bundle, 'maps-before.nlink'), 'utf8')).not.toContain(` ${inode} ${dev} `);
  // The program's word: its mapping of seg lived on with no name left.
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[]; nlink: number };
  expect(truth.nlink).toBe(0);
  expect(truth.deleted.map((mapping) => mapping.path)).toEqual([seg]);
  const analyzed = runCli(['analyze', bundle, '--format', 'json', '--fail-on', 'error']);
  const report = JSON.parse(analyzed.stdout) as { findings: Finding[] };
  // Decided at the unlink of seg, its last name (a file with two names is reported by the one it got last: seg2).
  const unlinkOfSeg = readFileSync(join(bundle, 'trace.txt'), 'utf8')
    .split('\n')
    .indexOf(
      readFileSync(join(bundle, 'trace.txt'), 'utf8')
        .split('\n')
        .find((line) => line.includes(`unlink("${seg}")`))!,
    );
  expect(report.findings.filter((finding) => finding.pid === truth.pid).map((finding) => [finding.kind, finding.severity, finding.names, finding.address, finding.unlinkedAt?.line])).toEqual([
    ['unlinked-while-mapped', 'error', [seg, `${seg}2`], truth.deleted[0]!.address, unlinkOfSeg + 1],
  ]);
  expect(analyzed.status).toBe(3);
}, 120_000);

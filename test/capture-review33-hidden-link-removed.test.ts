// Review 33 (attack), F9: a mapped file with a hard link made before
// `capture --pid` attached (maps-start.nlink counted it), whose printed name
// the process removed under the trace, and whose other name another process
// removed, out of the trace's sight: maps-end.txt printed the mapping
// "(deleted)", yet the verdict was clean, the file taken as kept by the name
// counted at the start. The capture counts the links of the files maps-end.txt
// prints "(deleted)" too (maps-end.nlink): none left, it is a finding.
//
// A real program (test/scenarios/hidden-link-removed.py) under the real
// strace; the truth is its own /proc/self/maps and the link count the kernel
// gives it through /proc/self/map_files.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { linkSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review33-hidden-link-removed.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): a hard link made before the attach, removed out of sight after the process unlinked the mapped name: a finding', async () => {
  const work = realpathSync(workspace('hidden-link-removed'));
  const seg = join(work, 'seg');
  writeFileSync(seg, Buffer.alloc(8192));
  linkSync(seg, `${seg}.keep`);
  const { ino: inode, dev } = statSync(seg);
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'hidden-link-removed.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(work, 'bundle');
  // Ended by its duration while the program lives: maps-end.txt is read.
  const { captured } = await captureAttached('strace', program, bundle, children, ['--duration', '5']);
  program.stdin!.write('go\n');
  expect((await lines.next()).value).toBe('unlinked');
  // By a process the capture does not trace.
  rmSync(`${seg}.keep`);
  program.stdin!.write('go\n');
  const truth = JSON.parse((await lines.next()).value as string) as { pid: number; deleted: SelfMapsDeleted[]; nlink: number };
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();
  // The program's word: its mapping of seg lives on, and the file has no name left.
  expect([truth.nlink, truth.deleted.map((mapping) => mapping.path)]).toEqual([0, [seg]]);
  // The capture's word: two links at the attach; at the end, the mapping printed "(deleted)", and its file's links counted 0.
  expect(readFileSync(join(bundle, 'maps-start.nlink'), 'utf8')).toMatch(new RegExp(` 2 ${inode} ${dev} \\S+$`, 'm'));
  expect(readFileSync(join(bundle, 'maps-end.txt'), 'utf8')).toContain(`${seg} (deleted)`);
  expect(readFileSync(join(bundle, 'maps-end.nlink'), 'utf8')).toMatch(new RegExp(` 0 ${inode} ${dev} \\S+$`, 'm'));
  const analyzed = runCli(['analyze', bundle, '--format', 'json', '--fail-on', 'error']);
  const report = JSON.parse(analyzed.stdout) as { findings: Finding[] };
  expect(report.findings.filter((finding) => finding.pid === truth.pid).map((finding) => [finding.kind, finding.severity, finding.address])).toEqual([
    ['unlinked-while-mapped', 'error', truth.deleted[0]!.address],
  ]);
  expect(analyzed.status).toBe(3);
}, 120_000);

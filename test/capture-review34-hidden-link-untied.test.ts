// Review 34 (exactness), F1: a mapped file whose printed name went before
// `capture --pid` attached, kept by a hard link (maps-start.nlink counted
// it), in a process that then removed any name the trace ties to no file
// (a directory renamed, a file it never opened unlinked): in doubt, exit 2,
// as such a removal may have taken the hidden name; and in the same report
// maps-end.nlink's count said a name kept the file. No file gets a name back
// once its last has gone: a name left at the end settles that doubt.
//
// A real program (test/scenarios/hidden-link-untied.py) under the real
// strace; the truth is its own /proc/self/maps and the link count the kernel
// gives it through /proc/self/map_files.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
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
  if (process.getuid?.() !== 0) throw new Error('test/capture-review34-hidden-link-untied.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): removals the trace ties to no file put no mapping in doubt whose file maps-end.nlink finds with a name left', async () => {
  const work = realpathSync(workspace('hidden-link-untied'));
  const seg = join(work, 'seg');
  writeFileSync(seg, Buffer.alloc(8192));
  linkSync(seg, `${seg}.keep`);
  mkdirSync(join(work, 'other'));
  writeFileSync(join(work, 'junk'), '');
  const { ino: inode, dev } = statSync(seg);
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'hidden-link-untied.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(work, 'bundle');
  // Ended by its duration while the program lives: maps-end.txt is read.
  const { captured } = await captureAttached('strace', program, bundle, children, ['--duration', '4']);
  program.stdin!.write('go\n');
  const truth = JSON.parse((await lines.next()).value as string) as { pid: number; deleted: SelfMapsDeleted[]; nlink: number };
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();
  // The program's word: its mapping prints "(deleted)", and seg.keep keeps the file.
  expect([truth.nlink, truth.deleted.map((mapping) => mapping.path)]).toEqual([1, [seg]]);
  // The capture's word: one link at the attach and at the end; the trace's: the rename and the unlink it ties to no file.
  expect(readFileSync(join(bundle, 'maps-start.nlink'), 'utf8')).toMatch(new RegExp(` 1 ${inode} ${dev} \\S+$`, 'm'));
  expect(readFileSync(join(bundle, 'maps-end.nlink'), 'utf8')).toMatch(new RegExp(` 1 ${inode} ${dev} \\S+$`, 'm'));
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
  expect(trace).toContain(`rename("${join(work, 'other')}", "${join(work, 'other2')}") = 0`);
  expect(trace).toContain(`unlink("${join(work, 'junk')}") = 0`);
  const analyzed = runCli(['analyze', bundle, '--format', 'json', '--fail-on', 'error']);
  const report = JSON.parse(analyzed.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.pid === truth.pid && finding.severity !== 'info')).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.includes('in doubt'))).toEqual([]);
  expect(analyzed.status, analyzed.stderr).toBe(0);
}, 120_000);

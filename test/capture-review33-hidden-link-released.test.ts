// Review 33 (exactness), 1: a file mapped before `capture --pid` attached,
// kept by a hard link made before it too (maps-start.nlink counted two), whose
// mapped name the process unlinked under the trace, and whose mapping it then
// released before exiting. The capture found the name gone at the exit
// (maps-start-gone.txt), and the analysis put the mapping in doubt, saying
// "the trace shows no removal of that name", though the trace's first line
// was that removal. In doubt it stays (review 33's code review, 4: the other
// name removed by a process the trace does not follow while the mapping
// lived makes the same bundle, and is a leak), but the warning says what the
// trace shows: the removal, and names it does not know keeping the file then.
//
// A real program (test/scenarios/hidden-link-released.py) under the real
// strace; the truth is its own stat of the other name after the unlink.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review33-hidden-link-released.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): the name unlinked in the trace, a hard link keeping the file, then the mapping released: in doubt, the removal named', async () => {
  const work = realpathSync(workspace('hidden-link-released'));
  const hl = join(work, 'hl');
  writeFileSync(hl, Buffer.alloc(8192));
  // The other name in another directory, which the capture's lookup at the exit does not search (review 82, E1).
  mkdirSync(join(work, 'keep'));
  linkSync(hl, join(work, 'keep', 'hl.bak'));
  const { ino: inode, dev } = statSync(hl);
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'hidden-link-released.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, children);
  program.stdin!.end('go\n');
  // The program's word: the other name's file has one link once hl is gone.
  expect(Number((await lines.next()).value)).toBe(1);
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  // The capture's word: two links at the attach, and hl gone from its name at the exit; the trace's: the unlink, then the munmap.
  expect(readFileSync(join(bundle, 'maps-start.nlink'), 'utf8')).toMatch(new RegExp(` 2 ${inode} ${dev} \\S+$`, 'm'));
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(hl);
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
  expect(trace.indexOf(`unlink("${hl}")`)).toBeGreaterThan(-1);
  expect(trace.indexOf(`unlink("${hl}")`)).toBeLessThan(trace.indexOf('munmap('));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  const unlinkAt = trace.split('\n').findIndex((line) => line.includes(`unlink("${hl}")`)) + 1;
  expect(report.warnings.join('\n')).not.toContain('the trace shows no removal of that name');
  expect(report.warnings).toContainEqual(
    expect.stringContaining(
      `the trace shows that name removed while it was mapped (at ${join(bundle, 'trace.txt')}:${unlinkAt}), names it does not know keeping the file then (hard links made before the trace), but not whether those went before the release`,
    ),
  );
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
}, 120_000);

// Review 33's code review, 3: maps-end.nlink listed only the files with a
// name left, so a mapping gone between the read of maps-end.txt and the count
// (the process runs on, untraced, once the tracer has let go) read as a file
// counted with no link: a false error for a file a hard link kept. The count
// lists every file maps-end.txt prints "(deleted)" now, 0 included; one it
// does not list was not counted, and the trace's word stands.
//
// A real program (test/scenarios/unmapped-at-end.py) under the real strace;
// the truth is its own stat of the hard link, and the capture's files.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review33-unmapped-at-end.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): a mapping gone between the read of maps-end.txt and the count of its links is no finding', async () => {
  const work = realpathSync(workspace('unmapped-at-end'));
  const bundle = join(work, 'bundle');
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'unmapped-at-end.py'), work, bundle], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const { captured } = await captureAttached('strace', program, bundle, children, ['--duration', '3']);
  program.stdin!.write('go\n');
  // The program's word: b keeps the file.
  expect((await lines.next()).value).toBe('unlinked 1');
  expect((await lines.next()).value).toBe('unmapped');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();
  // The capture's word: a's mapping printed "(deleted)" at the end, and gone by the count (not listed).
  const end = readFileSync(join(bundle, 'maps-end.txt'), 'utf8')
    .split('\n')
    .find((line) => line.endsWith(`${join(work, 'a')} (deleted)`));
  expect(end).toBeDefined();
  expect(readFileSync(join(bundle, 'maps-end.nlink'), 'utf8')).not.toContain(end!.split(' ')[0]!.replace(/^0+/, ''));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[] };
  expect(report.findings).toEqual([]);
}, 120_000);

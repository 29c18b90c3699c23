// test/scenarios/linked-out-of-sight.py under `capture --pid` (strace), as
// two tests run it: in /tmp's file system, and on btrfs.
import { type ChildProcess, spawn } from 'node:child_process';
import { linkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { PYTHON } from '../scenarios/harness.js';
import { captureAttached } from './attach.js';
import { REPO } from './tools.js';

/**
 * Maps DIR/a in the program, captures it into `bundle` for 3 s, and in that
 * time gives a a second name, DIR/b, by this process (which the capture
 * does not trace), then has the program unlink a. Returns a's path once the
 * capture has ended, the program's word checked: b keeps the file.
 */
export async function linkedOutOfSight(work: string, bundle: string, children: ChildProcess[]): Promise<string> {
  const a = join(work, 'a');
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'linked-out-of-sight.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const { captured } = await captureAttached('strace', program, bundle, children, ['--duration', '3']);
  linkSync(a, join(work, 'b'));
  program.stdin!.write('go\n');
  expect((await lines.next()).value).toBe('unlinked 1');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();
  return a;
}

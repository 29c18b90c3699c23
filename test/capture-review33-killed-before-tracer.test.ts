// Review 33 (attack), F5: orphanmap killed while `capture --pid` read the
// target's maps before starting the tracer (maps-before.txt, which a target
// makes as slow to read as it likes): the read ended at once, but the script
// went on to start strace, which attached to the target 80 ms after
// orphanmap had died, over a bundle that said it never attached. A stop that
// comes before the tracer starts starts none.
//
// With real strace, as root, and a real target whose maps take a while to
// read (test/scenarios/slow-maps.py); the truth is /proc's TracerPid,
// watched from the kill until the capture script is gone.
//
// Needs root and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killPids, killStillRunning, processesWith, tracerPid } from './support/proc.js';
import { CLI, REPO, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];
/** The capture script, orphaned by the kill: not our child. */
const strays: number[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review33-killed-before-tracer.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => {
  killPids(strays);
  killStillRunning(children);
});

it('capture --pid: orphanmap killed while maps-before.txt is read: no tracer ever attaches to the target', async () => {
  const work = realpathSync(workspace('killed-before-tracer'));
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'slow-maps.py'), join(work, 'w'), '20000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(program);
  const target = Number((await createInterface({ input: program.stdout! })[Symbol.asyncIterator]().next()).value);
  expect(target).toBe(program.pid);
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(target), '--out', bundle], { stdio: 'ignore' });
  children.push(capture);
  const reading = join(bundle, 'maps-before.txt.tmp');
  await waitFor('the capture to read maps-before.txt', () => existsSync(reading) && statSync(reading).size > 0, 60_000, 2);
  capture.kill('SIGKILL');
  // From the kill until the orphaned script has finished: never traced.
  const tracers = new Set<number>();
  strays.push(...processesWith(bundle).map((proc) => proc.pid));
  await waitFor(
    'the capture script to finish',
    () => {
      tracers.add(tracerPid(target));
      return processesWith(bundle).length === 0;
    },
    60_000,
    5,
  );
  for (let k = 0; k < 50; k++) {
    tracers.add(tracerPid(target));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect([...tracers]).toEqual([0]);
  // The bundle's word: nothing traced, no snapshot of a process it did not trace.
  expect(existsSync(join(bundle, 'trace.txt')) ? readFileSync(join(bundle, 'trace.txt'), 'utf8') : '').toBe('');
  expect(existsSync(join(bundle, 'maps-before.txt'))).toBe(false);
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { attached: boolean; exitReason: string };
  expect([meta.attached, meta.exitReason]).toEqual([false, 'parent-died']);
}, 120_000);

// Review 23 (attack), F5: a launched command whose main thread ends alone
// (main() calling pthread_exit) is a zombie leader in /proc while its other
// threads run on. The capture took it for gone: at the stop (--duration) it
// signalled nothing, strace had to be killed, and the command ran on,
// untraced, with meta.json saying "complete": true. Now a process counts as
// running while any of its threads does: the stop ends it as any command,
// and the end snapshots read its maps and fds through a live thread (the
// leader's own read empty).
//
// A real python3 program (test/scenarios/leader-exits-alone.py) under
// `orphanmap capture --backend strace --duration 3`; the truth is /proc
// (its state, its threads) and the program's own tick file, which stops
// changing once it is gone.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killPids, procStatus } from './support/proc.js';
import { CLI, REPO, requireTool } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'leader-exits-alone.py');
const left: number[] = [];
afterEach(() => killPids(left.splice(0)));
beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('capture --duration of a command whose leader thread exited alone: the command is ended at the stop, and its maps are read', async () => {
  const work = workspace('leader-alone');
  const bundle = join(work, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--duration', '3', '--out', bundle, '--', PYTHON, PROGRAM, work], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const tick = join(work, 'tick');
  expect(existsSync(tick), run.stderr).toBe(true);
  const pid = Number(readFileSync(tick, 'utf8').split(' ')[0]);
  left.push(pid);
  expect(run.status, run.stderr).toBe(0);
  // The capture's stderr says nothing of a tracer it had to kill.
  expect(run.stderr).not.toMatch(/SIGKILL|Killed/);
  // Gone: no process, and the tick file no longer changes.
  expect(procStatus(pid)).toBeNull();
  const last = statSync(tick).mtimeMs;
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(statSync(tick).mtimeMs).toBe(last);
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as Record<string, unknown>;
  expect(meta).toMatchObject({ pid, exitReason: 'duration', complete: true });
  // The end snapshot is the process's, read through its live thread: the worker's mapping is in it.
  expect(readFileSync(join(bundle, 'maps-end.txt'), 'utf8')).toContain(join(work, 'kept.bin'));
}, 90_000);

// Review 25 (exactness), D8: a process whose main thread exited alone (a C
// program's main() calling pthread_exit) reads its /proc/PID/maps empty, as
// a zombie's or a kernel thread's; its worker thread held a 1 MiB mapping
// of a deleted file, and `scan` counted the process among those "without an
// address space" and reported nothing (`scan --pid` exited 2). Its address
// space is in each thread left: scan reads it there.
//
// A real program (test/scenarios/leader-exits-alone.py): its worker maps
// WORK/kept.bin and runs on after the main thread's exit; this test removes
// the file. The truth is the worker thread's own maps, read from /proc
// while it runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { REPO, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));

it('scan: a process whose main thread exited alone is read through a thread left, and its deleted mapping counted', async () => {
  const work = realpathSync(workspace('scan-leader-exited'));
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'leader-exits-alone.py'), work], { stdio: 'ignore' });
  started.push(program);
  const pid = program.pid!;
  await waitFor('the worker to tick', () => existsSync(join(work, 'tick')), 10_000);
  // The main thread gone: its maps read empty, the process lives on.
  await waitFor('the main thread to exit', () => readFileSync(`/proc/${pid}/maps`, 'utf8') === '', 10_000);
  unlinkSync(join(work, 'kept.bin'));
  const worker = readdirSync(`/proc/${pid}/task`).find((tid) => tid !== String(pid))!;
  const truth = readFileSync(`/proc/${pid}/task/${worker}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(`${join(work, 'kept.bin')} (deleted)`));
  expect(truth).toHaveLength(1);

  const one = runCli(['scan', '--pid', String(pid), '--format', 'json']);
  expect(one.status, one.stderr).toBe(0);
  const scanned = JSON.parse(one.stdout) as { processes: { pid: number; deletedMappings: number; deletedBytes: number }[] };
  const [start, end] = truth[0]!
    .split(' ')[0]!
    .split('-')
    .map((hex) => Number.parseInt(hex, 16));
  expect(scanned.processes).toMatchObject([{ pid, deletedMappings: 1, deletedBytes: end! - start! }]);
  // And among all processes.
  const all = JSON.parse(runCli(['scan', '--format', 'json']).stdout) as { processes: { pid: number; deletedMappings: number }[] };
  expect(all.processes.find((process) => process.pid === pid)).toMatchObject({ deletedMappings: 1 });
}, 60_000);

// Review 59, L1: capture-strace.sh (or capture-bpftrace.sh) run on its own,
// as the README allows on a broker without Node, started in the background
// by a script: a non-interactive shell starts its background jobs with
// SIGINT ignored, bash cannot trap a signal ignored at its entry, and the
// capture went on after `kill -INT`, its target traced, until a SIGTERM.
// The script now runs itself again with SIGINT at its default (the same
// process); a command it launches still starts with SIGINT ignored, as it
// would have run.
// Truth: the kernel's word, /proc/PID/status (SigIgn, TracerPid, State).
//
// Needs strace and python3.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { captureScriptPath } from '../src/capture/index.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killPids, killStillRunning, procStatus } from './support/proc.js';
import { requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCRIPT = captureScriptPath('strace');
const SIGINT_BIT = 1n << 1n;
const started: ChildProcess[] = [];
const pids: number[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterAll(() => {
  killPids(pids);
  killStillRunning(started);
});

/** SIGINT among the signals `pid` ignores (its SigIgn mask). */
function ignoresInt(pid: number): boolean {
  const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return (BigInt(`0x${mask}`) & SIGINT_BIT) !== 0n;
}

/** `pid` has exited: gone, or a zombie its new parent (init, once the shell that started it exited) has not reaped yet. */
function ended(pid: number): boolean {
  const status = procStatus(pid);
  return status === null || status.state.startsWith('Z');
}

/** `bash -c 'SCRIPT ARGS… & echo $!'`: the script as a shell script's background job; its pid. */
function inTheBackground(args: string[], log: string): number {
  const run = spawnSync('bash', ['-c', `"$0" "$@" > ${JSON.stringify(log)} 2>&1 & echo $!`, SCRIPT, ...args], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const pid = Number(run.stdout.trim());
  pids.push(pid);
  return pid;
}

it('capture-strace.sh -p, a background job of a script: SIGINT stops it, and its target is left untraced', async () => {
  const work = workspace('review59-background-int');
  const target = spawn('sleep', ['300'], { stdio: 'ignore' });
  started.push(target);
  const bundle = join(work, 'bundle');
  const capture = inTheBackground(['-p', String(target.pid), '-o', bundle], join(work, 'capture.log'));
  await waitFor('strace to attach', () => existsSync(join(bundle, 'fds-start.txt')), 60_000);
  // The same process, running itself again with SIGINT at its default.
  expect(ignoresInt(capture)).toBe(false);
  expect(procStatus(target.pid!)?.tracerPid).not.toBe(0);
  process.kill(capture, 'SIGINT');
  await waitFor('the capture to stop', () => ended(capture), 20_000);
  const status = procStatus(target.pid!);
  expect([status?.tracerPid, status?.state.startsWith('t') || status?.state.startsWith('T')]).toEqual([0, false]);
  expect((JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { exitReason: string }).exitReason).toBe('interrupted');
}, 90_000);

it('capture-strace.sh -- CMD, a background job of a script: the command still starts with SIGINT ignored', async () => {
  const work = workspace('review59-background-int-cmd');
  const bundle = join(work, 'bundle');
  const said = join(work, 'said.txt');
  const program = `import re; open(${JSON.stringify(said)}, "w").write(re.search(r"SigIgn:\\s*(\\w+)", open("/proc/self/status").read()).group(1))`;
  const capture = inTheBackground(['-o', bundle, '--', PYTHON, '-c', program], join(work, 'capture.log'));
  await waitFor('the capture to end with its command', () => ended(capture), 60_000);
  expect((BigInt(`0x${readFileSync(said, 'utf8')}`) & SIGINT_BIT) !== 0n).toBe(true);
}, 90_000);

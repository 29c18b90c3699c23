// Review 5, finding 1: nothing watched the watchdog. `kill -9` of the capture
// script and its watchdog (as `pkill -9 -f capture-strace.sh` does) left
// strace reparented to init and attached to the target for good, --duration
// lost, while orphanmap said only "was killed by SIGKILL"; and with the
// watchdog killed first, orphanmap's own death no longer stopped anything.
// With real strace, as root, against a target of another user (nobody): the
// truth is /proc's TracerPid and State, and the target's own heartbeat.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureMeta } from '../src/capture/index.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { NOBODY } from './support/nobody.js';
import { childrenOf, cmdlineHas, exeOf, killPids, killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];
/** Processes a failed test may leave behind that are not our children (a strace reparented to init). */
const strays: number[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review5-killed-capture.test.ts must run as root (it traces with strace a process of nobody)');
  requireTool('strace');
  requireTool('setpriv');
});
afterEach(() => {
  killPids(strays);
  killStillRunning(children);
});

/** A process of nobody that counts on its stdout, as long as it is not stopped; `beats()` reads how far it got. */
async function heartbeat(): Promise<{ pid: number; beats: () => number }> {
  const program = 'import time\ni = 0\nwhile True:\n    i += 1\n    print(i, flush=True)\n    time.sleep(0.01)\n';
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', PYTHON, '-c', program], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let last = 0;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = chunk.trim().split('\n');
    last = Number(lines[lines.length - 1]);
  });
  await waitFor('the target to beat', () => last > 0, 10_000);
  return { pid: child.pid!, beats: () => last };
}

function capture(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return { child, done: exited(child) };
}

const isScript = (pid: number): boolean => cmdlineHas(pid, 'capture-strace.sh');

/** The capture script orphanmap started, its watchdog (a fork of it) and strace. */
function captureProcesses(orphanmap: number): { script: number; watchdog: number; strace: number } {
  const script = childrenOf(orphanmap).find(isScript)!;
  const kids = childrenOf(script);
  const strace = kids.find((pid) => exeOf(pid).endsWith('/strace'))!;
  const watchdog = kids.find((pid) => pid !== strace && isScript(pid))!;
  strays.push(strace);
  return { script, watchdog, strace };
}

const gone = (pid: number): boolean => {
  const status = procStatus(pid);
  return status === null || status.state === 'Z';
};

function readMeta(bundle: string): CaptureMeta {
  return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as CaptureMeta;
}

describe('review 5, finding 1: a capture whose processes are killed never leaves its target traced', () => {
  it('kill -9 of the script and its watchdog at once: strace dies with them, the target runs on untraced, and orphanmap says so', async () => {
    const target = await heartbeat();
    const bundle = join(workspace('r5-both'), 'bundle');
    const run = capture(['--pid', String(target.pid), '--duration', '30', '--out', bundle]);
    await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 20_000);
    const { script, watchdog, strace } = captureProcesses(run.child.pid!);
    expect(procStatus(target.pid)?.tracerPid).toBe(strace);

    // At once, as `pkill -9 -f capture-strace.sh` means it: two kill calls are not, and under load the
    // watchdog could see the script die between them and log it (then orphanmap quotes that line as the
    // reason, seen once in a loaded run). Stopped first, it sees nothing before its own SIGKILL.
    process.kill(watchdog, 'SIGSTOP');
    process.kill(script, 'SIGKILL');
    process.kill(watchdog, 'SIGKILL');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(2);
    // orphanmap waited for the kernel to detach the target, then said so.
    expect(result.stderr).toContain(`error: capture with strace was killed by SIGKILL; pid ${target.pid} is not traced (TracerPid 0)\n`);
    expect(procStatus(target.pid)).toMatchObject({ tracerPid: 0 });
    await waitFor('strace to be gone', () => gone(strace), 5_000);
    expect(procStatus(target.pid)?.state).toMatch(/^[RS]$/);
    const before = target.beats();
    await waitFor('the target to go on beating', () => target.beats() >= before + 20, 5_000);
  }, 40_000);

  it('kill -9 of the watchdog, then of orphanmap, without --duration: the script sees orphanmap gone and detaches', async () => {
    const target = await heartbeat();
    const bundle = join(workspace('r5-watchdog'), 'bundle');
    const run = capture(['--pid', String(target.pid), '--out', bundle]);
    await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 20_000);
    const { script, watchdog, strace } = captureProcesses(run.child.pid!);
    process.kill(watchdog, 'SIGKILL');
    await waitFor('the watchdog to be gone', () => gone(watchdog), 5_000);
    expect(procStatus(target.pid)?.tracerPid).toBe(strace);
    process.kill(run.child.pid!, 'SIGKILL');

    // Before, 10 s later the target was still traced and trace.txt grew.
    await waitFor('the target to be detached (TracerPid 0)', () => procStatus(target.pid)?.tracerPid === 0, 5_000);
    await waitFor('the script to finish', () => gone(script), 10_000);
    expect(gone(strace)).toBe(true);
    expect(readMeta(bundle)).toMatchObject({ pid: target.pid, exitReason: 'parent-died', complete: true });
    expect(procStatus(target.pid)?.state).toMatch(/^[RS]$/);
  }, 40_000);

  it('kill -9 of the script alone, with a launched command: strace dies with it, and the watchdog ends the command and finishes the bundle', async () => {
    const dir = workspace('r5-launched');
    const bundle = join(dir, 'bundle');
    const run = capture(['--out', bundle, '--', PYTHON, '-c', 'import time\nwhile True: time.sleep(0.01)']);
    await waitFor('the command to run traced (meta.json)', () => existsSync(join(bundle, 'meta.json')), 20_000);
    const command = readMeta(bundle).pid!;
    const { script, watchdog, strace } = captureProcesses(run.child.pid!);
    strays.push(command, watchdog);
    expect(procStatus(command)?.tracerPid).toBe(strace);

    process.kill(script, 'SIGKILL');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(2);
    await waitFor('strace to be gone', () => gone(strace), 5_000);
    // The kernel let the command go when strace died; the watchdog then ends it, as a capture stopped otherwise would.
    await waitFor('the command to be ended', () => gone(command), 10_000);
    await waitFor('the watchdog’s final meta.json', () => readMeta(bundle).endTime !== null, 10_000);
    // strace was killed, not stopped: what it had not written yet is lost, so the bundle is not complete.
    expect(readMeta(bundle)).toMatchObject({ pid: command, mode: 'launched', exitReason: 'tracer-died', complete: false });
  }, 40_000);
});

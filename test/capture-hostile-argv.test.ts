// Review 2, F8: a target's own argv (four arguments of 100,000 backslashes)
// made `capture --pid` overrun --duration 1 by a minute, the target traced
// all along, and a SIGKILLed orphanmap left it traced 21 s: meta.json's JSON
// escaping was quadratic in bash and ran where no stop could cut it short.
// The target here is a real process of the unprivileged user nobody, traced
// by the real strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOBODY } from './support/nobody.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

// Each under Linux's 128 KiB per argument; every kind of character that JSON escapes.
const HOSTILE_ARGV = ['\\'.repeat(100_000), '"'.repeat(100_000), '\n\x01\t'.repeat(33_000), `a\\"\x1f`.repeat(25_000)];

const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('strace');
  requireTool('setpriv');
});
afterEach(() => killStillRunning(children));

/** A sleeping python of nobody's whose argv ends with HOSTILE_ARGV; resolves once it runs. */
async function startTarget(): Promise<ChildProcess> {
  const code = 'import sys, time\nprint("ready", flush=True)\ntime.sleep(600)';
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '/usr/bin/python3', '-c', code, ...HOSTILE_ARGV], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the target to start', () => out.includes('ready'), 20_000);
  return child;
}

function capture(args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'capture', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, stderr: () => stderr, done: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

function untraced(pid: number): boolean {
  const status = procStatus(pid);
  return status !== null && status.tracerPid === 0 && status.state !== 'T' && status.state !== 't';
}

describe('capture --pid of a target whose argv is hostile to escaping', () => {
  it('--duration 1 is honoured within seconds, the target is left untraced, and meta.json holds its argv exactly', async () => {
    const target = await startTarget();
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-argv-')), 'bundle');
    const started = Date.now();
    const run = capture(['--pid', String(target.pid), '--duration', '1', '--out', out]);
    const code = await run.done;
    const seconds = (Date.now() - started) / 1000;
    expect(code, run.stderr()).toBe(0);
    // Before the fix: 57 s. Attach, snapshots and meta.json take about 2 s here.
    expect(seconds).toBeLessThan(10);
    expect(untraced(target.pid!)).toBe(true);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.cmdline.slice(-HOSTILE_ARGV.length)).toEqual(HOSTILE_ARGV);
    expect(meta.exitReason).toBe('duration');
    expect(meta.complete).toBe(true);
  }, 60_000);

  it('orphanmap SIGKILLed while it captures: the target is untraced within seconds (the watchdog is not held up)', async () => {
    const target = await startTarget();
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-argv-kill-')), 'bundle');
    const run = capture(['--pid', String(target.pid), '--duration', '60', '--out', out]);
    await waitFor('the tracer to attach', () => procStatus(target.pid!)?.tracerPid !== 0, 20_000);
    // Past the snapshots, into the first meta.json (where the escaping ran before the fix).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(run.child.exitCode, run.stderr()).toBeNull();
    run.child.kill('SIGKILL');
    const killed = Date.now();
    // Before the fix the script was busy escaping meta.json's argv for tens of seconds.
    await waitFor('the target to be untraced', () => untraced(target.pid!), 8_000);
    expect(Date.now() - killed).toBeLessThan(8_000);
  }, 60_000);
});

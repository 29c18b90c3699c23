// Review 10, R10-1: the capture script could not hear a stop while it ran a
// long step on what the target controls, and the target (or its child)
// stayed traced long after orphanmap died. bash runs a trap only once the
// step in the foreground ends, and neither orphanmap's death nor the
// watchdog's SIGUSR1 nor --duration was looked at meanwhile.
// - At the target's exit, the lookup of the files of maps-start.txt
//   (maps-start-gone.txt) ran while strace still traced the child the
//   target left: orphanmap SIGKILLed 0.7 s after the exit, the child stayed
//   traced 15.6 s (40,000 files of ~3.9 KB paths). Now a stop cuts the
//   lookup short, and it runs again once strace has let go.
// - At the start, the copy of /proc/PID/maps (maps-start.txt): 262,000
//   mappings took 25 s to read; orphanmap SIGKILLed 2 s after the attach,
//   the target stayed traced 25.3 s more. Now a stop ends the copy, and
//   maps-start.txt is left out.
//
// Real strace, a real C target (test/scenarios/review10-target.c): files
// under a ~3.9 KB path, so that each lookup and each line of maps is slow, as
// the reviewer made them. The truth is /proc: TracerPid of the child, of the
// target, from orphanmap's SIGKILL on.
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from './scenarios/review7-kids.js';
import { compileTarget, startTarget } from './scenarios/review10-target.js';
import { killPids, killStillRunning, procStatus, processesWith, tracerPid } from './support/proc.js';
import { requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const started: ChildProcess[] = [];
const pids: number[] = [];
let work = '';
let binary = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review10-stop-while-slow.test.ts must run as root (capture --pid)');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'om-review10-stop-'));
  binary = compileTarget(work);
});
afterEach(() => {
  killPids(pids);
  killStillRunning(started);
});
afterAll(() => {
  // rm, not rmSync: the target's directories nest ~1,950 deep, past rmSync's recursion.
  spawnSync('rm', ['-rf', '--', work]);
});

/** Milliseconds from now until `pid` is no longer traced (TracerPid 0, or gone), polled every 20 ms. */
async function untracedAfter(pid: number, timeoutMs: number): Promise<number> {
  const from = Date.now();
  await waitFor(`pid ${pid} to be let go`, () => (procStatus(pid)?.tracerPid ?? 0) === 0, timeoutMs, 20);
  return Date.now() - from;
}

/** Waits until no capture script of `dir` runs (orphanmap dead, the script finishes the bundle on its own). */
async function scriptDone(dir: string): Promise<void> {
  await waitFor('the capture script to finish', () => processesWith(dir).every((proc) => !proc.argv.some((arg) => arg.endsWith('capture-strace.sh'))), 60_000);
}

describe('review 10, R10-1: a stop is heard while the capture reads what the target controls', () => {
  it('orphanmap SIGKILLed while the files are looked up at the exit: the child the target left is let go at once', async () => {
    const dir = mkdtempSync(join(work, 'exit-'));
    // 4,000 files of ~3.9 KB paths: their lookup takes some seconds.
    const target = await startTarget(binary, dir, 4000, 0, started);
    pids.push(target.pid);
    const bundle = join(dir, 'bundle');
    const capture = startCapture(['--backend', 'strace', '--pid', String(target.pid), '--out', bundle], started);
    await waitFor('the capture to attach and write meta.json', () => tracerPid(target.pid) !== 0 && existsSync(join(bundle, 'meta.json')), 30_000);
    const child = await target.fork();
    pids.push(child);
    await waitFor(`the child ${child} to be traced`, () => tracerPid(child) !== 0, 10_000);
    target.exit();
    // The lookup under way: its first list is in the bundle.
    await waitFor('the lookup of the files to start', () => existsSync(join(bundle, '.maps-start-gone.names')), 20_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(join(bundle, 'maps-start-gone.txt'))).toBe(false);
    capture.child.kill('SIGKILL');
    const ms = await untracedAfter(child, 30_000);
    expect(ms, `the child was traced ${ms} ms after orphanmap's SIGKILL`).toBeLessThan(1000);
    await scriptDone(dir);
    // The lookup made once strace let go: nothing gone (no file was removed), and the stop's reason.
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { exitReason: string; complete: boolean };
    expect(meta).toMatchObject({ exitReason: 'parent-died', complete: true });
    expect(existsSync(join(bundle, 'maps-start-gone.txt'))).toBe(false);
  }, 60_000);

  it('orphanmap SIGKILLed while maps-start.txt is copied: the target is let go at once, and maps-start.txt left out', async () => {
    const dir = mkdtempSync(join(work, 'start-'));
    // 40,000 mappings of a ~3.9 KB path: ~160 MB of maps, seconds to read.
    const target = await startTarget(binary, dir, 1000, 40_000, started);
    pids.push(target.pid);
    const bundle = join(dir, 'bundle');
    const capture = startCapture(['--backend', 'strace', '--pid', String(target.pid), '--duration', '5', '--out', bundle], started);
    await waitFor('the capture to attach', () => tracerPid(target.pid) !== 0, 30_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Still copying.
    expect(existsSync(join(bundle, 'maps-start.txt.tmp'))).toBe(true);
    capture.child.kill('SIGKILL');
    const ms = await untracedAfter(target.pid, 60_000);
    expect(ms, `the target was traced ${ms} ms after orphanmap's SIGKILL`).toBeLessThan(1000);
    await scriptDone(dir);
    expect(existsSync(join(bundle, 'maps-start.txt'))).toBe(false);
    expect(existsSync(join(bundle, 'maps-start.txt.tmp'))).toBe(false);
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { exitReason: string };
    expect(meta.exitReason).toBe('parent-died');
  }, 60_000);
});

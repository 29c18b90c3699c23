// `orphanmap live` and a remap of a mapping made before the attach. Such a
// remap early in the trace is held back (a late maps-start.txt may hold
// mappings the trace then makes; test/capture-seeded-remap.test.ts), and was
// decided by the next event 5 s later, or at the end: a target that went
// quiet after a real resize showed its warning only once the user stopped
// the capture. Now the reader's own clock decides it once the trace has been
// quiet that long.
//
// A real python3 program (test/scenarios/seeded-remap.py) resizes a file it
// mapped before `live --pid` attached, records both addresses, and sleeps
// with no call orphanmap follows. The truth is the program's record and
// /proc/PID/maps read while it sleeps. Both backends.
//
// Needs root, strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning, tracerPid } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'seeded-remap.py');

const started: ChildProcess[] = [];
let work = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/live-seeded-remap.test.ts must run as root (live --pid)');
  requireTool('strace');
  requireTool('bpftrace');
  work = workspace('live-seeded-remap');
});
afterAll(() => killStillRunning(started));

describe.each(['strace', 'bpftrace'] as const)('live --backend %s, a file mapped before the attach resized after it, then quiet', (backend) => {
  it('prints the remapped-without-unmap warning while the target sleeps, at the address it recorded and /proc still shows', async () => {
    const dir = join(work, backend);
    mkdirSync(dir);
    const program = spawn(PYTHON, [PROGRAM, dir, 'keep'], { stdio: 'ignore' });
    started.push(program);
    await waitFor('the first mapping', () => existsSync(join(dir, 'ready')), 10_000);
    const bundle = join(dir, 'bundle');
    const live = spawn(process.execPath, [CLI, 'live', '--pid', String(program.pid), '--backend', backend, '--save', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(live);
    const ended = exited(live);
    let stdout = '';
    live.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const remaps = () =>
      stdout
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Finding)
        .filter((finding) => finding.kind === 'remapped-without-unmap');
    // Attached: maps-start.txt is written, and the tracer is on the target.
    await waitFor('the attach', () => existsSync(join(bundle, 'maps-start.txt')) && existsSync(join(bundle, 'meta.json')), 60_000);
    writeFileSync(join(dir, 'go'), '');
    await waitFor('the resize', () => existsSync(join(dir, 'done')), 10_000);
    const [old] = readFileSync(join(dir, 'done'), 'utf8').split(' ') as [string, string];
    // The trace's first event (the resize's ftruncate, or a call just before it) is under a second old
    // here: the warning comes 5 s of trace plus the reader's 1 s allowance later, with nothing traced since.
    await waitFor('the warning in the NDJSON output', () => remaps().length > 0, 20_000);
    const maps = readFileSync(`/proc/${program.pid}/maps`, 'utf8');
    expect(maps).toMatch(new RegExp(`^${old}-\\S+ \\S+ \\S+ \\S+ \\S+\\s+\\S+/idx$`, 'm'));
    // Still capturing: the warning did not wait for the end.
    expect(live.exitCode).toBeNull();
    if (backend === 'strace') expect(tracerPid(program.pid!)).not.toBe(0);
    expect(remaps().map((finding) => [finding.address, finding.length, finding.resolution, finding.mappedAt?.file.endsWith('maps-start.txt')])).toEqual([[`0x${old}`, 8192, null, true]]);
    live.kill('SIGINT');
    const run = await ended;
    expect(run.code, run.stderr).toBe(130);
    expect(tracerPid(program.pid!)).toBe(0);
    // Once: the end resolves it (still mapped), and no second warning is decided then.
    const ids = new Set(remaps().map((finding) => finding.id));
    expect([...ids]).toHaveLength(1);
    expect(remaps().at(-1)?.resolution).toBe('still-mapped');
    program.kill('SIGKILL');
  }, 120_000);
});

// A remap of a mapping made before the attach (maps-start.txt's) is held back
// until the trace shows the mapping was there: a snapshot read late (a busy
// target, the first milliseconds) holds mappings the trace then makes, and one
// of them "remapped" before the trace made it was no resize (review 9's late
// snapshot; its fixture's test checks that side). This is the other side: a
// real resize of a file mapped before the attach is still reported, whether the
// old mapping lives to the end or is unmapped later.
//
// A real python3 program under `capture-strace.sh -p`: it maps a file before
// the attach, then grows it and maps it again while the old mapping lives. The
// truth is the program's own record of its mappings' addresses and
// /proc/PID/maps read by the test at the end.
//
// Needs root and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** The program: test/scenarios/seeded-remap.py says what it does. */
const PROGRAM = join(import.meta.dirname, 'scenarios', 'seeded-remap.py');

const started: ChildProcess[] = [];
let work = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-seeded-remap.test.ts must run as root (strace --pid)');
  requireTool('strace');
  work = workspace('seeded-remap');
});
afterAll(() => killStillRunning(started));

async function resizedUnderCapture(name: string, unmapOld: boolean): Promise<{ remaps: Finding[]; old: string; maps: string }> {
  const dir = join(work, name);
  mkdirSync(dir);
  const program = spawn(PYTHON, [PROGRAM, dir, unmapOld ? 'unmap' : 'keep'], { stdio: 'ignore' });
  started.push(program);
  await waitFor('the first mapping', () => existsSync(join(dir, 'ready')), 10_000);
  const bundle = join(dir, 'bundle');
  const capture = spawn(join(REPO, 'scripts', 'capture-strace.sh'), ['-p', String(program.pid), '-o', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(capture);
  const ended = exited(capture);
  // Mapped before the attach: in maps-start.txt, not in the trace.
  await waitFor('maps-start.txt', () => existsSync(join(bundle, 'maps-start.txt')) && existsSync(join(bundle, 'meta.json')), 20_000);
  writeFileSync(join(dir, 'go'), '');
  await waitFor('the resize', () => existsSync(join(dir, 'done')), 10_000);
  const [old, fresh] = readFileSync(join(dir, 'done'), 'utf8').split(' ') as [string, string];
  const maps = readFileSync(`/proc/${program.pid}/maps`, 'utf8');
  capture.kill('SIGTERM');
  const run = await ended;
  expect(run.code, run.stderr).toBe(130);
  program.kill('SIGKILL');
  // The precondition: the old mapping is maps-start.txt's, and the new one is the trace's.
  expect(readFileSync(join(bundle, 'maps-start.txt'), 'utf8')).toContain(`${old}-`);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toContain(`= 0x${fresh}`);
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  return { remaps: report.findings.filter((finding) => finding.kind === 'remapped-without-unmap'), old, maps };
}

describe('a file mapped before the attach, resized and mapped again after it', () => {
  it('the old mapping living on: one remapped-without-unmap warning, still mapped, as /proc shows', async () => {
    const { remaps, old, maps } = await resizedUnderCapture('keep', false);
    expect(maps).toMatch(new RegExp(`^${old}-\\S+ \\S+ \\S+ \\S+ \\S+\\s+\\S+/idx$`, 'm'));
    expect(remaps.map((finding) => [finding.address, finding.length, finding.resolution, finding.mappedAt?.file.endsWith('maps-start.txt')])).toEqual([[`0x${old}`, 8192, 'still-mapped', true]]);
  }, 60_000);

  it('the old mapping unmapped after: the warning, resolved as unmapped, as /proc shows', async () => {
    const { remaps, old, maps } = await resizedUnderCapture('unmap', true);
    expect(maps).not.toContain(`${old}-`);
    expect(remaps.map((finding) => [finding.address, finding.length, finding.resolution])).toEqual([[`0x${old}`, 8192, 'unmapped']]);
  }, 60_000);
});

// Review 7, item 4: the live view counts the target's mappings every second
// (its header's "maps N / vm.max_map_count"). It read the whole of
// /proc/PID/maps as one string, and a new read began every second whether
// the last had ended or not: against a target whose maps are hundreds of MB
// (10^5 mappings of a long name), reads piled up and orphanmap grew by
// 60 MB/s. mapCount now counts newlines as the file streams by, and the view
// starts no read while one runs.
//
// A real process with many mappings of a long name (test/scenarios/many-maps.c).
// Truth: the lines of its /proc/PID/maps read here. Needs cc.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { mapCount } from '../src/commands/live-run.js';
import { workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool } from './support/tools.js';

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));

/** A directory path of `length` bytes less 20 (room for a file's name) under `root`, made: as long whatever the root's length (the test run's own directory: test/global-setup.ts). */
function longDir(root: string, length: number): string {
  let dir = root;
  while (length - 20 - dir.length > 251) dir = join(dir, 'd'.repeat(250));
  dir = join(dir, 'e'.repeat(length - 20 - dir.length - 1));
  mkdirSync(dir, { recursive: true });
  return dir;
}

it('counts the mappings of a process with maps of about 100 MB, in a bounded amount of memory', async () => {
  requireTool('cc');
  const dir = workspace('map-count');
  const program = join(dir, 'many-maps');
  execFileSync('cc', ['-O2', '-o', program, join(REPO, 'test', 'scenarios', 'many-maps.c')]);
  const file = join(longDir(dir, 3800), 'segment.index');
  const COUNT = 25_000;
  const target = spawn(program, [file, String(COUNT)], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(target);
  await new Promise<void>((resolve) => target.stdout!.once('data', () => resolve()));
  const maps = readFileSync(`/proc/${target.pid}/maps`, 'latin1');
  expect(maps.length).toBeGreaterThan(90 * 1024 * 1024);
  const lines = maps.split('\n').length - 1;
  expect(lines).toBeGreaterThanOrEqual(COUNT);
  expect(await mapCount(target.pid!)).toBe(lines);
  // In a process of its own, its peak RSS: the whole text held (and split) took about three times the file.
  const measured = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, '--input-type=module', '-e', `const { mapCount } = await import('${join(REPO, 'dist', 'commands', 'live-run.js')}'); console.log(await mapCount(${target.pid}));`],
    { encoding: 'utf8' },
  );
  expect(measured.status, measured.stderr).toBe(0);
  expect(Number(measured.stdout.trim())).toBe(lines);
  const peakKiB = Number(measured.stderr.trim().split('\n').pop());
  expect(peakKiB / 1024).toBeLessThan(120);
  target.stdin!.end();
  expect(await mapCount(2 ** 22 + 1)).toBeNull();
}, 60_000);

// Review 7 (/tmp/review7 REPRO 2): at most 1,000 maps-end.N.txt files did not
// bound the disk a capture fills: one /proc/PID/maps can be 1 GB, and
// `capture --pid` of a parent of 50 children with 20,000 mappings of a
// 3,783-character path each wrote a 3.8 GB bundle. The files now take
// 256 MiB together at most: once the next one would pass that, it and the
// rest are left out, and the log says how many.
//
// Real strace, real processes (test/scenarios/review7-kids.c): 4 children
// whose maps are some 77 MB each, 308 MB together. The truth is each child's
// /proc/PID/maps.
// Needs root, strace and cc.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { childrenOf, compileKids, endFiles, killProgram, startCapture, tracedOrStopped } from './scenarios/review7-kids.js';
import { requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const BUDGET = 256 * 1024 * 1024;
let work: string;
let parent: number | undefined;
const started: ChildProcess[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review7-end-bytes.test.ts must run as root: strace attaches to a process that is not its child');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-review7-bytes-'));
});

afterAll(() => {
  // The program's children first: once it is gone they are init's, and no longer found under it.
  killProgram(parent);
  for (const child of started) child.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

it('capture --pid of a parent whose 4 children have 77 MB of maps each: the maps-end.N.txt files stay within 256 MiB, whole, and the log says how many were left out', async () => {
  const kids = compileKids(work);
  const dir = join(work, 'big');
  mkdirSync(dir);
  writeFileSync(join(dir, 'go'), '');
  // 15 directories of 250 characters: each line of a child's maps some 3,850 bytes.
  const program = spawn(kids, ['4', '20000', '15', dir], { stdio: 'ignore' });
  started.push(program);
  parent = program.pid!;
  await waitFor('the 4 children', () => existsSync(join(dir, 'ready')), 20_000);
  const children = childrenOf(parent);
  expect(children).toHaveLength(4);
  const sizes = new Map(children.map((pid) => [pid, readFileSync(`/proc/${pid}/maps`).length]));
  const truth = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  expect(truth).toBeGreaterThan(BUDGET);

  const bundle = join(work, 'big.bundle');
  const capture = startCapture(['--pid', String(parent), '--backend', 'strace', '--duration', '1', '--out', bundle], started);
  const result = await capture.done;
  expect(result.code, capture.stderr()).toBe(0);

  const files = endFiles(bundle);
  const taken = files.reduce((sum, pid) => sum + statSync(join(bundle, `maps-end.${pid}.txt`)).size, 0);
  expect(taken).toBeLessThanOrEqual(BUDGET);
  expect(files.length).toBeGreaterThan(0);
  const left = children.filter((pid) => !files.includes(pid));
  expect(left.length).toBeGreaterThan(0);
  // Left out only because the next one would not fit.
  expect(taken + Math.min(...left.map((pid) => sizes.get(pid)!))).toBeGreaterThan(BUDGET);
  expect(capture.stderr()).toContain(`maps at the end: ${left.length} more traced process(es) alive left out: their maps-end.N.txt files would have passed 256 MiB together (${taken} bytes taken)`);
  // Each one taken is whole (the children map nothing more).
  for (const pid of files) {
    expect(children).toContain(pid);
    expect(readFileSync(join(bundle, `maps-end.${pid}.txt`)).equals(readFileSync(`/proc/${pid}/maps`))).toBe(true);
  }
  // Nothing else of that size in the bundle: no staged or temporary copy left behind.
  expect(readdirSync(bundle).filter((name) => name.startsWith('.'))).toEqual([]);
  const all = readdirSync(bundle).reduce((sum, name) => sum + statSync(join(bundle, name)).size, 0);
  expect(all).toBeLessThan(BUDGET + 1024 * 1024);
  expect(tracedOrStopped([parent, ...children])).toEqual([]);
}, 55_000);

// Review 7 (/tmp/review7 REPRO 1): the end of a capture listed the target's
// descendants with a queue that copied itself at each step, quadratic in
// their number: `capture --pid P --duration 1` of a parent with 3,000 paused
// children took 13.7 s, with 9,000 103 s, and a SIGINT meanwhile went
// unheard (a stop under way made the script ignore further ones). The walk
// is now linear and bounded (2,000 listed for the end snapshots), and a stop
// asked for while the end snapshots are taken cuts them short.
//
// Real strace, real processes (test/scenarios/review7-kids.c); the truth is
// /proc: each child's parent, maps, TracerPid and state.
// Needs root, strace and cc.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, compileKids, endFiles, killProgram, parentOf, startCapture, tracedOrStopped } from './scenarios/review7-kids.js';
import { procStatus } from './support/proc.js';
import { requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

let work: string;
let kids: string;
const started: ChildProcess[] = [];
const programs: number[] = [];

/** review7-kids KIDS MAPS 0 DIR, its children forked once DIR/go exists. */
function startProgram(dir: string, count: number, maps: number): number {
  mkdirSync(dir);
  const program = spawn(kids, [String(count), String(maps), '0', dir], { stdio: 'ignore' });
  started.push(program);
  programs.push(program.pid!);
  return program.pid!;
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review7-end-walk.test.ts must run as root: strace attaches to a process that is not its child');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-review7-walk-'));
  kids = compileKids(work);
});

afterAll(() => {
  // The programs' children first: once a program is gone they are init's, and no longer found under it.
  for (const pid of programs) killProgram(pid);
  for (const child of started) child.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the end of a capture of a target with thousands of children', () => {
  it('capture --pid of a parent that forks 3,000 children under the trace: stopped in seconds, 1,000 maps-end.N.txt of its children, the cut said, nothing left traced or stopped', async () => {
    const dir = join(work, 'many');
    const parent = startProgram(dir, 3000, 0);
    const bundle = join(work, 'many.bundle');
    const capture = startCapture(['--pid', String(parent), '--backend', 'strace', '--out', bundle], started);
    await waitFor('strace to attach', () => procStatus(parent)?.tracerPid !== 0 && existsSync(join(bundle, 'fds-start.txt')), 20_000);
    // Forked under strace -f: each child is traced until the capture ends.
    writeFileSync(join(dir, 'go'), '');
    await waitFor('the 3,000 children', () => existsSync(join(dir, 'ready')), 40_000);
    const children = childrenOf(parent);
    expect(children).toHaveLength(3000);
    expect(children.slice(0, 5).map((pid) => procStatus(pid)?.tracerPid)).not.toContain(0);
    const asked = Date.now();
    capture.child.kill('SIGINT');
    const result = await capture.done;
    expect(result.code, capture.stderr()).toBe(130);
    // The quadratic walk alone took over 6 s for 3,000 on this machine, and the end 13.7 s+ in all.
    expect(result.at - asked).toBeLessThan(20_000);
    expect(capture.stderr()).toContain(`maps at the end: pid ${parent}'s descendants were listed only in part (it has over 2000 processes)`);
    expect(capture.stderr()).toContain('maps at the end: 999 more traced process(es) alive beyond the first 1000 left out');
    const files = endFiles(bundle);
    expect(files).toHaveLength(1000);
    for (const pid of files) {
      expect(parentOf(pid)).toBe(parent);
      expect(readFileSync(join(bundle, `maps-end.${pid}.txt`), 'utf8')).toBe(readFileSync(`/proc/${pid}/maps`, 'utf8'));
    }
    expect(readdirSync(bundle).filter((name) => name.startsWith('.'))).toEqual([]);
    // strace let go of all of them, and none is left stopped.
    expect(tracedOrStopped([parent, ...childrenOf(parent)])).toEqual([]);
    expect(childrenOf(parent)).toHaveLength(3000);
  }, 58_000);

  it('a SIGINT while the maps of 300 children are taken (--duration ended the capture) cuts them short at once and says how many were left out', async () => {
    const dir = join(work, 'cut');
    // 1,100 mappings each: a copy takes a few ms, so the 300 take seconds.
    const parent = startProgram(dir, 300, 1100);
    writeFileSync(join(dir, 'go'), '');
    await waitFor('the 300 children', () => existsSync(join(dir, 'ready')), 20_000);
    const bundle = join(work, 'cut.bundle');
    const capture = startCapture(['--pid', String(parent), '--backend', 'strace', '--duration', '1', '--out', bundle], started);
    // Taken so far: in the directory where the capture writes them before it renames them all into the bundle at once, or in the bundle.
    const stage = join(bundle, '.maps-end');
    const taken = (): number => (existsSync(stage) ? readdirSync(stage).filter((name) => name.endsWith('.txt')).length : 0) + (existsSync(bundle) ? endFiles(bundle).length : 0);
    await waitFor('the end snapshots to be under way', () => taken() >= 10, 30_000, 5);
    const asked = Date.now();
    capture.child.kill('SIGINT');
    const result = await capture.done;
    // orphanmap was interrupted; the script's own record says --duration ended the capture.
    expect(result.code, capture.stderr()).toBe(130);
    expect(result.at - asked).toBeLessThan(5000);
    const files = endFiles(bundle);
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(files.length).toBeLessThan(300);
    expect(capture.stderr()).toContain(`maps at the end: a stop was asked for (SIGINT, SIGTERM or SIGHUP) while they were taken: ${300 - files.length} more listed process(es) left out`);
    // Each file taken is whole: the children's maps have not changed since.
    for (const pid of files) {
      expect(parentOf(pid)).toBe(parent);
      expect(readFileSync(join(bundle, `maps-end.${pid}.txt`), 'utf8')).toBe(readFileSync(`/proc/${pid}/maps`, 'utf8'));
    }
    expect(readdirSync(bundle).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'))).toMatchObject({ exitReason: 'duration', attached: true });
    expect(tracedOrStopped([parent, ...childrenOf(parent)])).toEqual([]);
  }, 40_000);
});

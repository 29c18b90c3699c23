// strace -ff on threads that hand fd numbers to each other (review 1, D-A).
// Each file of an -ff set holds one thread's lines, stamped at each call's
// entry. Thread B's openat may be stamped before thread A's mmap and close of
// fd 5, and still return 5: the kernel gave B the number only after A's
// close. Merged by entry time alone, B's open came first, and A's mmap of fd
// 5 was bound to B's file: findings named the wrong files, leaks went
// missing, and files mapped once were said remapped. The truth is the
// program's own record of what it did with each file and its /proc/self/maps
// before exit; the captures are real strace -ff runs, with -y and -T, with
// either alone (each gives the merge what it needs: the kernel's name for the
// fd, or when the open returned).
//
// Left to the scheduler, the race happens a few times in a thousand opens,
// and not in every run. strace's own -e inject=openat:delay_enter=… holds each
// openat at its entry (after its stamp) for 60 ms, and the program
// (test/scenarios/ff-fd-race.c) closes the number in another thread in that
// time: every round hands the number over, and the program says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { REPO, requireTool } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-ff-race-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let program: string;

beforeAll(() => {
  requireTool('strace');
  requireTool('gcc');
  program = join(scratch, 'ff-fd-race');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', program, join(REPO, 'test', 'scenarios', 'ff-fd-race.c')], { stdio: 'pipe' });
});

interface Truth {
  /** "PATH ADDRESS RESOLUTION" of each file that outlived its name while mapped. */
  leaks: string[];
  /** "ADDRESS PATH" of the (deleted) mappings /proc/self/maps showed at exit. */
  live: string[];
  /** In how many rounds the other thread's openat returned the number the holder had just closed. */
  handed: number;
}

function readTruth(path: string): Truth {
  const leaks: string[] = [];
  const live: string[] = [];
  let handed = -1;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[0] === 'file' && fields[3] === 'kept') leaks.push(`${fields[1]} ${fields[2]} process-exited`);
    if (fields[0] === 'file' && fields[3] === 'unmapped') leaks.push(`${fields[1]} ${fields[2]} unmapped`);
    if (fields[0] === 'live') live.push(`${fields[1]} ${fields[2]}`);
    if (fields[0] === 'handed') handed = Number(fields[1]);
  }
  return { leaks: leaks.sort(), live: live.sort(), handed };
}

/** Runs the program under `strace -ff FLAGS`, every openat held 60 ms at its entry (55 ms for the holder to map and close, even on a loaded machine); the set's files and the program's truth. */
function capture(name: string, flags: string[]): { files: string[]; truth: Truth } {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const traced = spawnSync('strace', ['-ff', ...flags, '-e', 'inject=openat:delay_enter=60000', '-o', join(dir, 'trace'), program, join(dir, 'd'), join(dir, 'truth')], { encoding: 'utf8' });
  expect(traced.status, traced.stderr).toBe(0);
  const files = readdirSync(dir)
    .filter((entry) => entry.startsWith('trace.'))
    .map((entry) => join(dir, entry));
  // The leader and its 2 threads.
  expect(files).toHaveLength(3);
  return { files, truth: readTruth(join(dir, 'truth')) };
}

/** What the analysis got wrong against the program's record: empty lists when it is exact. */
async function misses(files: string[], truth: Truth) {
  const analysis = await analyze(files);
  const findings = analysis.engine.findings();
  const reported = findings.filter((f) => f.kind === 'unlinked-while-mapped').map((f) => `${f.path} ${f.address} ${f.resolution}`);
  const stillMapped = findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.resolution === 'process-exited').map((f) => `${f.address} ${f.path}`);
  return {
    missing: truth.leaks.filter((leak) => !reported.includes(leak)),
    wrong: reported.filter((leak) => !truth.leaks.includes(leak)),
    notLiveAtExit: stillMapped.filter((mapping) => !truth.live.includes(mapping)),
    // Each file is mapped once: any other kind of finding is made up.
    otherKinds: findings.filter((f) => f.kind !== 'unlinked-while-mapped').map((f) => `${f.kind} ${f.path}`),
  };
}

const exact = { missing: [], wrong: [], notLiveAtExit: [], otherKinds: [] };

describe('strace -ff set of threads reusing fd numbers', () => {
  // 24 rounds of 2 files: 16 kept leaks, live (deleted) at exit, and 16 unmapped after the unlink.
  for (const [name, flags] of [
    ['ttt-T-y', ['-ttt', '-T', '-y']],
    ['ttt-T', ['-ttt', '-T']],
    ['ttt-y', ['-ttt', '-y']],
  ] as const) {
    it(`-ff ${flags.join(' ')}: every leak under its own file and address, as the program recorded`, async () => {
      const { files, truth } = capture(name, [...flags]);
      expect(truth.handed).toBe(24);
      expect(truth.leaks).toHaveLength(32);
      expect(truth.live).toHaveLength(16);
      expect(await misses(files, truth)).toEqual(exact);
    });
  }

  it('-ff -ttt (neither -y nor -T): the numbers handed between threads are said, as the set cannot tell which file a call meant', async () => {
    const { files, truth } = capture('ttt', ['-ttt']);
    expect(truth.handed).toBe(24);
    const analysis = await analyze(files);
    const said = analysis.warnings.filter((warning) => warning.includes('while another thread'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^.*trace\.\d+:\d+: an open returned fd \d+ of process \d+ .* \(and \d+ more times\): .*capture with -ff -ttt -T -y/);
  });

  it('-ff -ttt -T -y: no such warning, as the merge and the annotations settle it', async () => {
    const { files } = capture('ttt-T-y-quiet', ['-ttt', '-T', '-y']);
    const analysis = await analyze(files);
    expect(analysis.warnings.filter((warning) => warning.includes('while another thread'))).toEqual([]);
  });
});

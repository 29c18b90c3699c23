// Review 28 (exactness): three ways a mapped file keeps or loses its last
// name that the analysis got wrong, under every tracer that showed it.
// - rename(a, b) of two hard links of one file does nothing (rename(2)): the
//   old name was dropped, and the unlink of b made up a leak (strace and
//   bpftrace).
// - linkat(s, L, AT_SYMLINK_FOLLOW) through a symlink to the mapped file
//   (`ln -L`) gives the file a name: it was not followed, and the unlink of
//   the first name made up a leak (strace; bpftrace prints no symlink call,
//   so there it stays).
// - A leader that calls pthread_exit leaves its threads running: bpftrace's
//   exit record says so (group_dead=0), and was taken for the process's end,
//   so a thread's later unlink of the mapped file read clean.
//
// A real C program (test/scenarios/review28-names.c), one mode each. The
// truth is its own: the lines of its /proc/TID/maps that print " (deleted)"
// after the last step, and the links left to their files (map_files).
//
// Needs root, cc, strace and bpftrace.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const MODES = ['rename-links', 'link-follow', 'leader-exit'] as const;
type Mode = (typeof MODES)[number];

interface Report {
  findings: Finding[];
  summary: { mappingsInDoubt: number };
}

let program = '';
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/engine-review28-names.test.ts must run as root (bpftrace, map_files)');
  for (const tool of ['cc', 'strace', 'bpftrace']) requireTool(tool);
  program = join(workspace('review28-names'), 'review28-names');
  execFileSync('cc', ['-O2', '-pthread', '-o', program, join(REPO, 'test', 'scenarios', 'review28-names.c')], { stdio: 'pipe' });
});

/** What the program wrote of its own maps after the last step: mappings of its directory that print " (deleted)", their bytes, and the links their files have left. */
function truthOf(dir: string): { deleted: number; bytes: number; links: number } {
  const match = /^deleted (\d+) (\d+) (\d+)\n$/.exec(readFileSync(`${dir}.truth`, 'utf8'));
  expect(match).not.toBeNull();
  return { deleted: Number(match![1]), bytes: Number(match![2]), links: Number(match![3]) };
}

/** The report's findings of files in `dir` against the truth: a leak is a mapping printed deleted whose file has no link left. */
function expectTruth(report: Report, mode: Mode, dir: string): void {
  const truth = truthOf(dir);
  // The program's word for each mode, so that the test cannot pass on a run that went another way.
  expect(truth).toEqual(
    {
      'rename-links': { deleted: 0, bytes: 0, links: 0 },
      // /proc prints it deleted (the name it was mapped by went), but L keeps the file.
      'link-follow': { deleted: 1, bytes: 16_384, links: 1 },
      'leader-exit': { deleted: 1, bytes: 16_384, links: 0 },
    }[mode],
  );
  const leaked = truth.links === 0 ? truth.bytes : 0;
  const findings = report.findings.filter((finding) => finding.path.startsWith(`${dir}/`));
  expect(findings.every((finding) => finding.kind === 'unlinked-while-mapped')).toBe(true);
  expect(findings.reduce((sum, finding) => sum + finding.length, 0)).toBe(leaked);
}

function analyze(input: string): Report {
  return JSON.parse(runCli(['analyze', input, '--format', 'json']).stdout) as Report;
}

describe("a file's names kept or lost as the kernel keeps them (review 28, exactness)", () => {
  it.each(MODES)('strace -f -ttt -yy, by hand: %s', (mode) => {
    const work = workspace(`review28-${mode}`);
    const dir = join(work, 'w');
    const trace = join(work, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-o', trace, program, mode, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const report = analyze(trace);
    expectTruth(report, mode, dir);
    expect(report.summary.mappingsInDoubt).toBe(0);
  });

  // bpftrace: link-follow is left out, as orphanmap.bt prints no symlink call, so the trace cannot tell where s leads.
  const BPFTRACE_MODES = ['rename-links', 'leader-exit'] as const;
  it('capture --backend bpftrace -- rename-links and leader-exit in turn (one attach)', () => {
    const work = workspace('review28-bpftrace');
    const dirs = BPFTRACE_MODES.map((mode) => join(work, mode));
    for (const dir of dirs) mkdirSync(dir);
    const script = BPFTRACE_MODES.map((mode, i) => `"${program}" ${mode} "${dirs[i]}"`).join(' && ');
    const bundle = join(work, 'bundle');
    const capture = runCli(['capture', '--backend', 'bpftrace', '--out', bundle, '--', '/bin/sh', '-c', script]);
    expect(capture.status, capture.stderr).toBe(0);
    const report = analyze(bundle);
    for (const [i, mode] of BPFTRACE_MODES.entries()) expectTruth(report, mode, dirs[i]!);
    expect(report.summary.mappingsInDoubt).toBe(0);
  }, 180_000);
});

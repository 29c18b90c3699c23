// Review 46, L1: `strace -p PID -f` by hand (no bundle, so no maps snapshot)
// of a Lucene JVM missed 80 leaks of files it had mapped before the attach
// (their fds closed at once, as FileChannel.map does) and unlinked in the
// trace; the only hint was a generic warning at the end of a 36,000-line
// report. A removal of a file the trace holds no mapping of (never opened, or
// opened and let go), by a process that ran before the trace, now gets a
// warning with their count and the first one's name and place (not a doubt:
// most such files were never mapped). `capture --pid` reads the maps at its
// start, and reports the leak itself.
// Truth: the program's own /proc/self/maps line, read after its unlink.
//
// Needs strace.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { attachStrace, PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli, underStraceAttached } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

interface Report {
  findings: { path: string; address: string }[];
  summary: { mappingsInDoubt: number; undecided: string | null };
  warnings: string[];
}

async function started(name: string): Promise<{ directory: string; program: ChildProcess; pid: number; output: () => string; work: string }> {
  const work = workspace(name);
  const directory = join(work, 'w');
  writeFileSync(join(directory, 'seg.idx'), Buffer.alloc(8192, 'i'));
  for (const other of ['other1', 'other2']) writeFileSync(join(directory, other), 'o');
  return { directory, work, ...(await startScenario('mapped-then-closed.py', [directory], children)) };
}

it('strace -p by hand: the removals of files the trace never saw opened are counted and named in a warning', async () => {
  const { directory, program, pid, output, work } = await started('review46-unseen');
  const trace = join(work, 'trace.txt');
  await underStraceAttached(pid, ['-y'], trace, children, async () => {
    program.stdin!.write('go\n');
    await waitFor("the program's maps line", () => output().split('\n').length > 2, 10_000);
  });
  program.stdin!.end();
  // The kernel's word: the mapping outlived the file's name.
  expect(output().split('\n')[1]).toMatch(new RegExp(` ${join(directory, 'seg.idx')} \\(deleted\\)$`));

  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as Report;
  // The trace alone cannot tell the leak: no finding, and no doubt for the removal of a file never seen mapped.
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  const told = report.warnings.filter((warning) => warning.includes('the trace holds no mapping of'));
  expect(told).toHaveLength(1);
  expect(told[0]).toMatch(new RegExp(`^3 names of files the trace holds no mapping of went \\(the first, ${join(directory, 'seg.idx')}, at ${trace}:\\d+ \\(by process ${pid}\\)\\)`));
  expect(told[0]).toContain('orphanmap capture --pid');
  // A warning, not an undecided verdict: most such files were never mapped (review 53: pid and lock files, sockets).
  expect(report.summary.undecided).toBeNull();
  // In the text report, above the findings' blocks.
  expect(runCli(['analyze', trace]).stdout).toContain(`  - ${told[0]}`);
}, 60_000);

it('capture --pid: the maps at its start show the mapping, and its removal is a finding, with no such warning', async () => {
  const { directory, program, pid, output, work } = await started('review46-unseen-capture');
  const bundle = join(work, 'bundle');
  const capture = await attachStrace(pid, bundle);
  program.stdin!.write('go\n');
  await waitFor("the program's maps line", () => output().split('\n').length > 2, 10_000);
  const run = await capture.stop();
  program.stdin!.end();
  // Stopped as a user's Ctrl-C stops it.
  expect(run.code, run.stderr).toBe(130);
  const line = output().split('\n')[1]!;
  expect(line).toMatch(new RegExp(` ${join(directory, 'seg.idx')} \\(deleted\\)$`));

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
  expect(report.findings.map((f) => [f.path, f.address])).toEqual([[join(directory, 'seg.idx'), `0x${line.split('-')[0]}`]]);
  expect(report.warnings.filter((warning) => warning.includes('the trace holds no mapping of'))).toEqual([]);
  expect(report.summary.undecided).toBeNull();
}, 60_000);

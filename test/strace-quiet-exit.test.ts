// strace -qq (--quiet=exit) prints no "+++ exited with N +++": a process
// that ended through exit_group left only its `exit_group(N) = ?` line, and
// its unlinked mappings were reported "still mapped at the end", as if it
// still held them. The call is the exit: every mapping of the process goes
// with it. (A process killed by a signal still prints "+++ killed by +++"
// under -qq.)
// Truth: the program's own record (test/scenarios/quiet-exits.py): the
// deleted mappings each process had in /proc/self/maps just before it ended,
// and how each child ended, from waitpid.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'quiet-exits.py');

interface Seen {
  address: string;
  bytes: number;
  path: string;
}

interface ProgramRecord {
  parent: { pid: number; deleted: Seen[] };
  exited: { pid: number; deleted: Seen[]; status: string };
  killed: { pid: number; deleted: Seen[]; signal: number | null };
}

interface Capture<Record> {
  record: Record;
  findings: Finding[];
  warnings: string[];
}

/** The program under strace with these flags (its `mode`, if any, after its arguments), its record and the analysis. */
function captured<Record>(name: string, flags: string[], output: string, mode: string[] = []): Capture<Record> {
  const dir = workspace(`quiet-exit-${name}`);
  const recordFile = join(dir, 'record.json');
  const out = join(dir, output);
  mkdirSync(dirname(out), { recursive: true });
  const run = spawnSync('strace', [...flags, '-o', out, PYTHON, PROGRAM, recordFile, join(dir, 'w'), ...mode], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as Record;
  const result = runCli(['analyze', flags.includes('-ff') ? dirname(out) : out, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  return { record, findings: report.findings, warnings: report.warnings };
}

const FORMS: [string, string, string[], string][] = [
  ['strace -f -qq -ttt -T -y, every call', 'f-qq', ['-f', '-qq', '-ttt', '-T', '-y'], 'trace.txt'],
  ['strace -f -qq -ttt -y, filtered', 'f-qq-filtered', ['-f', '-qq', '-ttt', '-y', '-e', `trace=${STRACE_FILTER}`], 'trace.txt'],
  ['strace -ff -qq -ttt -T -y', 'ff-qq', ['-ff', '-qq', '-ttt', '-T', '-y'], 'ff/trace'],
  // The same program without -qq: the verdicts the quiet forms must agree with.
  ['strace -f -ttt -T -y, every call', 'f', ['-f', '-ttt', '-T', '-y'], 'trace.txt'],
];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** "pid address" of every deleted mapping the program's processes had when they ended. */
function truth(record: ProgramRecord): string[] {
  return [record.parent, record.exited, record.killed].flatMap((process) => process.deleted.map((seen) => `${process.pid} ${seen.address}`)).sort();
}

describe.each(FORMS)('processes that end with unlinked files mapped, under %s', (_form, name, flags, output) => {
  let capture: Capture<ProgramRecord>;

  beforeAll(() => {
    capture = captured<ProgramRecord>(name, flags, output);
  });

  it('the program did what the test needs: a leak in each process, one child exited, one killed', () => {
    const { record } = capture;
    expect(record.parent.deleted.length).toBe(1);
    expect(record.exited.status).toBe('exited with 0');
    expect(record.killed.signal).toBe(9);
    // Each child holds its own file and its copy of the parent's.
    expect(record.exited.deleted.length).toBe(2);
    expect(record.killed.deleted.length).toBe(2);
  });

  it('finds every deleted mapping the processes had, and no other', () => {
    expect(capture.findings.map((finding) => `${finding.pid} ${finding.address}`).sort()).toEqual(truth(capture.record));
  });

  it('says each was released when its process ended, not still mapped', () => {
    for (const finding of capture.findings)
      expect({ pid: finding.pid, address: finding.address, resolution: finding.resolution }).toEqual({ pid: finding.pid, address: finding.address, resolution: 'process-exited' });
  });
});

/**
 * A child maps a file and exits; its parent reaps it, then unlinks the file.
 * The child's exit_group is the last the trace shows of it: applied later
 * than its own line, the unlink would find the child's mapping still live.
 */
describe.each(FORMS)('a child that maps a file and exits before its parent unlinks it, under %s', (_form, name, flags, output) => {
  interface Reaped {
    parent: number;
    child: number;
    childMapped: string[];
    parentDeleted: unknown[];
  }
  let record: Reaped;
  let findings: Finding[];

  beforeAll(() => {
    ({ record, findings } = captured<Reaped>(`reaped-${name}`, flags, output, ['reaped']));
  });

  it('the child had the file mapped, and the parent no deleted mapping at its end', () => {
    expect(record.childMapped.length).toBe(1);
    expect(record.parentDeleted).toEqual([]);
  });

  it('finds no mapping that outlived its file', () => {
    expect(findings.map((finding) => `${finding.pid} ${finding.address} ${finding.kind}`)).toEqual([]);
  });
});

// strace -f writing to stderr prints a line's "[pid N]" prefix only while
// more than one tracee lives. A program that never ran beside another
// tracee (one process, or a parent that made no call while its child lived)
// printed no prefix at all, and its findings were reported under "process 0".
// glibc's set_tid_address at the start of every program returns the
// caller's thread id, its pid: the trace names the process after all.
// One process alone always shows it; a parent and a child show it when the
// parent's fork returns before the child prints (most runs, not every one).
// Truth: the program's own record (test/scenarios/stderr-root.py): its pid,
// its child's, and the deleted mappings each had in /proc/self/maps.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'stderr-root.py');

interface Seen {
  address: string;
  path: string;
}

interface ProgramRecord {
  pid: number;
  deleted: Seen[];
  child: { pid: number; deleted: Seen[] } | null;
}

interface Capture {
  record: ProgramRecord;
  /** Where the program made its files. */
  workdir: string;
  trace: string;
  findings: Finding[];
  warnings: string[];
  headline: string;
}

/** Runs the program under `strace -f -ttt -T -y` with its output on stderr, as a user captures by hand (`2> trace.txt`). */
function captured(name: string, args: string[]): Capture {
  const dir = workspace(`stderr-root-${name}`);
  const recordFile = join(dir, 'record.json');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-y', PYTHON, PROGRAM, recordFile, join(dir, 'w'), ...args], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const trace = join(dir, 'trace.txt');
  writeFileSync(trace, run.stderr);
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ProgramRecord;
  const json = runCli(['analyze', trace, '--format', 'json']);
  expect(json.status, json.stderr).toBe(0);
  const report = JSON.parse(json.stdout) as { findings: Finding[]; warnings: string[] };
  const text = runCli(['analyze', trace]);
  return { record, workdir: join(dir, 'w'), trace: run.stderr, findings: report.findings, warnings: report.warnings, headline: text.stdout.split('\n')[0] ?? '' };
}

/** "pid address" of the mappings of the program's own files it had deleted (not the /dev/zero of its shared flag). */
function truth(record: ProgramRecord, workdir: string): string[] {
  const processes = record.child === null ? [record] : [record, record.child];
  return processes.flatMap((process) => process.deleted.filter((seen) => seen.path.startsWith(workdir)).map((seen) => `${process.pid} ${seen.address}`)).sort();
}

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

describe.each([
  ['one process', 'alone', []],
  ['a parent that makes no call while its child lives', 'fork', ['fork']],
])('strace -f to stderr, %s', (_what, name, args) => {
  let capture: Capture;

  beforeAll(() => {
    capture = captured(name, args);
  });

  it('the program printed set_tid_address without a prefix, and (alone) no line with one', () => {
    // With a child, whether the parent prints a prefixed line depends on how the two run: its fork's return may be
    // printed after the child's first line. The verdicts below must hold either way.
    if (capture.record.child === null) expect(capture.trace).not.toContain(`[pid ${capture.record.pid}]`);
    expect(capture.trace).toMatch(new RegExp(`^[\\d.]+ set_tid_address\\(0x[0-9a-f]+\\) += ${capture.record.pid} <`, 'm'));
  });

  it('reports each deleted mapping under the pid of the process that had it, none under 0', () => {
    expect(capture.findings.map((finding) => `${finding.pid} ${finding.address}`).sort()).toEqual(truth(capture.record, capture.workdir));
  });

  it('names the process in the headline and gives no warning that its pid is unknown', () => {
    expect(capture.headline).toContain(capture.record.child === null ? `in process ${capture.record.pid} ` : 'in 2 processes');
    expect(capture.headline).not.toContain('process 0 ');
    expect(capture.warnings.join('\n')).not.toContain("the first process's pid is not in the trace");
  });
});

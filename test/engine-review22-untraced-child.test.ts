// Review 22, F4: a child made with clone(CLONE_UNTRACED) is never attached by
// strace -f (the kernel attaches no tracer to it). Its leak was missed with
// no word: "no mapping outlived its file", --fail-on error exit 0, though the
// trace shows the clone and its flag. Now a warning names the clone and the
// child, --fail-on refuses a verdict with no failing finding (exit 2, after
// the report), and bpftrace, which the warning advises, finds the leak.
// Truth: the child's own /proc/self/maps and TracerPid (test/scenarios/untraced-child.py).
//
// Needs strace, bpftrace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { captureProgram, PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'untraced-child.py');

interface Truth {
  pid: number;
  tracerPid: number;
  deleted: { address: string; bytes: number; path: string }[];
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

it('strace -f by hand: a warning names the clone and the child, and --fail-on error refuses a clean verdict', () => {
  const dir = workspace('untraced-child');
  const trace = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, join(dir, 'truth.json')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  // The child leaked, and no tracer was attached to it.
  expect(truth.tracerPid).toBe(0);
  expect(truth.deleted.map((line) => `${line.bytes} ${line.path}`)).toEqual([`1048576 ${join(dir, 'w', 'seg.index')}`]);
  const lines = readFileSync(trace, 'utf8').split('\n');
  const cloneAt = lines.findIndex((line) => /clone\(.*CLONE_UNTRACED/.test(line) && line.includes(`= ${truth.pid}`)) + 1;
  expect(cloneAt).toBeGreaterThan(0);

  const out = join(dir, 'report.json');
  const result = runCli(['analyze', trace, '--format', 'json', '--out', out, '--fail-on', 'error']);
  expect(result.status, result.stderr).toBe(2);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { findings: Finding[]; warnings: string[] };
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
  const reason = `made process ${truth.pid} with clone(CLONE_UNTRACED) at ${trace}:${cloneAt}, which strace does not follow`;
  const warning = report.warnings.find((text) => text.includes(reason));
  expect(warning, report.warnings.join('\n')).toMatch(/^process \d+ made process/);
  expect(warning).toContain('Capture with --backend bpftrace');
  expect(result.stderr).toMatch(new RegExp(`^orphanmap: error: process \\d+ ${reason.replace(/[.()]/g, '\\$&')}, so --fail-on error cannot tell that nothing leaked\\n$`));
});

it('capture --backend bpftrace: the leak /proc showed in the child', () => {
  const { truth, bundle } = captureProgram<Truth>(workspace('untraced-child-bpftrace'), 'bpftrace', PROGRAM);
  expect(truth.deleted).toHaveLength(1);
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(findings.map((finding) => `${finding.severity} ${finding.pid} ${finding.address} ${finding.length} ${finding.path}`)).toEqual([
    `error ${truth.pid} ${truth.deleted[0]!.address} 1048576 ${truth.deleted[0]!.path}`,
  ]);
}, 150_000);

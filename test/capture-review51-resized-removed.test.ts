// Review 51, A1: `capture --pid` of a JVM running Kafka's index code. An
// index mapped, resized (ftruncate, mapped again, the old 10 MiB mapping
// left live) and then removed where the trace does not show it (an
// operator's rm, or in the moments bpftrace takes its probes off): /proc's
// maps at the end showed both mappings "(deleted)", and the report had only
// the one-page new mapping as a leak, the resized old one a warning ("the
// file has not (yet) been unlinked"), and --fail-on exited 0 where that was
// the only leak. A resize finding says nothing of the file's name: each
// "(deleted)" line it was taken to explain is now a finding.
// Truth: the program's own /proc/self/maps lines after the removal.
//
// Needs strace.
import type { ChildProcess } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('an index resized, then removed out of sight: both live mappings /proc shows deleted are findings', async () => {
  const work = workspace('review51-resized');
  const index = join(work, 'w', '00000000000000015360.index');
  writeFileSync(index, Buffer.alloc(8192, 'x'));
  const { program, pid, output } = await startScenario('resized-then-removed.py', [index], children);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', pid, bundle, children, ['--duration', '3'], 'snapshots');
  program.stdin!.write('attached\n');
  await waitFor('the resize', () => output().includes('resized\n'), 10_000);
  // The operator's rm, by a process the capture does not trace.
  unlinkSync(index);
  program.stdin!.write('removed\n');
  await waitFor("the program's maps lines", () => output().includes('end\n'), 10_000);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  // The kernel's word: both mappings outlived the file's name.
  const lines = output()
    .split('\n')
    .filter((line) => line.endsWith(`${index} (deleted)`));
  expect(lines).toHaveLength(2);
  const starts = lines.map((line) => `0x${line.split('-')[0]}`).sort();

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  const leaks = report.findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(leaks.map((f) => f.address).sort()).toEqual(starts);
  for (const leak of leaks) expect([leak.pid, leak.resolution, leak.confirmedByMaps]).toEqual([pid, 'still-mapped', true]);
  // The resize is told too, of the old mapping.
  expect(report.findings.filter((f) => f.kind === 'remapped-without-unmap').map((f) => f.address)).toHaveLength(1);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
  // NDJSON's last line of each finding is the JSON report's finding, confirmedByMaps included (review 56, F1: null).
  const lastLines = new Map<string, Finding>();
  for (const line of runCli(['analyze', bundle, '--format', 'ndjson']).stdout.split('\n').filter(Boolean)) {
    const finding = JSON.parse(line) as Finding;
    lastLines.set(finding.id, finding);
  }
  expect([...lastLines.values()]).toEqual(report.findings);
  // The ticket's story of the resize places no unlink before the trace: the name went where the trace does not show it
  // (review 52, R10).
  const ticket = runCli(['analyze', bundle, '--format', 'markdown']).stdout;
  expect(ticket).toContain("the file lost its last name where the trace does not show it (see the finding's note) while the old mapping was still live");
  expect(ticket).not.toContain('unlinked (before the trace)');
  program.stdin!.end();
}, 90_000);

// Review 47, P2: `strace -p PID -f` of a PostgreSQL postmaster whose first
// fork child, after the attach, had a lower pid than it (pids wrapped). The
// child made only calls orphanmap does not follow and exited; the process
// the trace shows without a clone was named by the lowest thread id among
// all lines, the dead child's, and so were its findings: `--pid` of the
// real process, as the report's note advises, dropped its leak (exit 0).
// A child the trace saw cloned is never the attached process's leader.
//
// A real python3 program under a real `strace -p -f`; its child is given a
// low pid by clone3's set_tid (as root), as a wrap gives it. Truth: the
// program's own pids and its /proc/self/maps line of the leak.
//
// Needs root (set_tid) and strace.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli, underStraceAttached } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('test/engine-review47-low-child.test.ts must run as root (set_tid of clone3)');
});

afterEach(() => killStillRunning(children));

it('an attached process whose fork child has a lower pid is named by its own pid, and --pid keeps its leak', async () => {
  const work = workspace('review47-low-child');
  const file = join(work, 'w', 'probe.dat');
  const { program, pid, output } = await startScenario('fork-low-child.py', [file], children);
  const trace = join(work, 'trace.txt');
  await underStraceAttached(pid, ['-y'], trace, children, async () => {
    program.stdin!.write('go\n');
    await waitFor("the program's maps line", () => output().split('\n').length > 3, 10_000);
  });
  program.stdin!.end();
  const [, childText, line] = output().split('\n');
  const child = Number(childText);
  // The precondition: the child's pid is below the program's.
  expect(child).toBeLessThan(pid);
  const address = `0x${line!.split('-')[0]!.replace(/^0+/, '')}`;

  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[] };
  expect(report.findings.map((finding) => [finding.kind, finding.pid, finding.address, finding.path])).toEqual([['unlinked-while-mapped', pid, address, file]]);
  expect(report.warnings.join('\n')).toContain(`taken as one process, pid ${pid};`);
  expect(runCli(['analyze', trace, '--pid', String(pid), '--fail-on', 'error']).status).toBe(3);
}, 60_000);

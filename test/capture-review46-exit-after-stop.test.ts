// Review 46, L4: `capture --pid --backend bpftrace` of a JVM that exited
// while bpftrace took its probes off (seconds, after its stop record): the
// trace, which ends at the stop, shows no exit, and the capture, right after
// the exit, found the JVM's hsperfdata file gone, its directory changed
// more than a second before it saw the exit. The report made an error of it,
// "another process, which the trace does not follow, removed or replaced the
// file", where the JVM had removed it itself as it exited, after the trace.
// A file found gone by a process that exited after the trace ended is in
// doubt: the removal, and an munmap before it, may have come after the trace.
//
// A real python3 program removes a file it maps and exits, as a JVM does its
// hsperfdata file, once the trace holds bpftrace's stop record. bpftrace's
// own slow stop is what leaves that window; the test holds bpftrace stopped
// (SIGSTOP) for 1.5 s after the program's exit, so that the capture sees the
// exit late, as it did on the loaded host of the review. The truth is the
// program's own /proc/self/maps line, read after its unlink: the mapping
// live, its file deleted, after the trace's end.
//
// Needs root and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { killStillRunning, processesWith } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];
/** bpftrace processes this test stopped: resumed whatever happens, or their probes would stay attached. */
const stopped = new Set<number>();

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
  stopped.clear();
  killStillRunning(children);
});

it('a file the process removed as it exited, after the trace ended: in doubt, not an error; its own hsperfdata file: neither', async () => {
  const work = workspace('review46-exit-after-stop');
  const file = join(work, 'perfdata');
  writeFileSync(file, Buffer.alloc(32768));
  // A JVM's own /tmp/hsperfdata_<user>/<pid>, which it removes as it exits (review 51, A6: a fixed broker in doubt for it alone).
  const perfDir = join(work, 'hsperfdata_root');
  mkdirSync(perfDir);
  const { program, pid, output, done: programDone } = await startScenario('removed-as-it-exits.py', [file, perfDir], children);
  const perfData = join(perfDir, String(pid));

  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--pid', String(pid), '--duration', '2', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(capture);
  const captured = exited(capture);
  const trace = join(bundle, 'trace.txt');
  await waitFor('the stop record', () => existsSync(trace) && / stop$/m.test(readFileSync(trace, 'utf8')), 90_000);
  const tracer = processesWith('orphanmap.bt').filter((proc) => proc.argv.includes(String(pid)));
  expect(tracer).toHaveLength(1);
  process.kill(tracer[0]!.pid, 'SIGSTOP');
  stopped.add(tracer[0]!.pid);
  program.stdin!.end('go\n');
  expect((await programDone).code).toBe(0);
  // The program's own word: its mappings lived on after their unlinks, as it exited.
  expect(output().split('\n')[1]).toMatch(new RegExp(` ${file} \\(deleted\\)$`));
  expect(output().split('\n')[2]).toMatch(new RegExp(` ${perfData} \\(deleted\\)$`));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  process.kill(tracer[0]!.pid, 'SIGCONT');
  stopped.delete(tracer[0]!.pid);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  // The precondition: the capture found the file gone at the exit, a second or more after its directory changed.
  expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(false);
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(` ${file}\n`);
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(` ${perfData}\n`);

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings.filter((finding) => finding.path === file || finding.path === perfData)).toEqual([]);
  expect(report.warnings.filter((warning) => warning.includes(perfData))).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings).toContainEqual(
    expect.stringMatching(new RegExp(`^process ${pid} exited after the trace ended \\(while the tracer let go of it\\), and right after, the capture found ${file} gone from its name `)),
  );
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
}, 150_000);

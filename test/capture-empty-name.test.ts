// A process that names its main thread "" (prctl(PR_SET_NAME, "")) has no
// <comm> in strace -Y's lines: "889   1796584452.290934 +++ exited with 0 +++".
// The capture looked for its exit only in the "PID<comm> " form, took the
// trace for one the tracer had stopped writing early, and failed (exit 1,
// "the tracer ended (exit status 0) before the trace showed pid N's exit"),
// launched or attached, though the trace was whole. The same words ended a
// CI run's `capture -- CMD` of the ground-truth driver once; that trace was
// not kept, so the message now quotes the trace's last line of the process.
// A real program (test/scenarios/empty-name.py) under the real strace; its
// truth is its own /proc/self/maps line of the mapping it left "(deleted)".
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'empty-name.py');
const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

/** `capture --backend strace` of empty-name.py, launched (`-- CMD`) or attached (`--pid`) before it maps its file. */
async function capture(how: 'launched' | 'attached'): Promise<{ work: string; bundle: string; code: number | null; stderr: string }> {
  const work = workspace(`empty-name-${how}`);
  const bundle = join(work, 'bundle');
  if (how === 'launched') {
    const run = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, PROGRAM, work], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(run);
    const done = await exited(run);
    return { work, bundle, code: done.code, stderr: done.stderr };
  }
  const program = spawn(PYTHON, [PROGRAM, work, '--wait-go'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to name itself and print its pid', () => out.includes('\n'), 20_000);
  const run = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', out.trim(), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(run);
  const done = exited(run);
  // meta.json is first written once strace has attached and the start snapshots are taken.
  await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 20_000);
  writeFileSync(join(work, 'go'), '');
  const ended = await done;
  return { work, bundle, code: ended.code, stderr: ended.stderr };
}

it.each(['launched', 'attached'] as const)(
  'capture (%s) of a process named "": the capture is whole, and its leak is found',
  async (how) => {
    const run = await capture(how);
    const record = readFileSync(join(run.work, 'record.txt'), 'utf8').split('\n');
    const held = join(run.work, 'segment.index');
    const pid = Number(/^pid=(\d+)$/.exec(record[0]!)![1]);
    // The kernel's word: the name is empty, and the mapping outlived the file's name.
    expect(record[1]).toBe("comm=''");
    expect(record.filter((line) => line.endsWith(`${held} (deleted)`))).toHaveLength(1);
    // strace's word: the exit line carries no <comm>.
    expect(readFileSync(join(run.bundle, 'trace.txt'), 'utf8')).toMatch(new RegExp(`^${pid} +[0-9.]+ \\+\\+\\+ exited with 0 \\+\\+\\+$`, 'm'));

    expect(run.code, run.stderr).toBe(0);
    const meta = JSON.parse(readFileSync(join(run.bundle, 'meta.json'), 'utf8')) as { complete: boolean; exitReason: string };
    expect(meta.complete).toBe(true);
    expect(meta.exitReason).toBe('target-exited');
    const analysis = runCli(['analyze', run.bundle, '--format', 'json']);
    const findings = (JSON.parse(analysis.stdout) as { findings: { kind: string; pid: number; path: string }[] }).findings;
    expect(findings.map((finding) => [finding.kind, finding.pid, finding.path])).toEqual([['unlinked-while-mapped', pid, held]]);
    expect(runCli(['analyze', run.bundle, '--fail-on', 'error']).status).toBe(3);
  },
  60_000,
);

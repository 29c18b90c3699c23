// Review 22 (InfluxDB, then a 10-line Python program): `strace -f -p` of a
// process whose main thread only waits (a JVM's, a Go program's) shows that
// thread only in calls orphanmap does not follow, which it skips; the
// process was named by the lowest thread id it saw, a worker's, and every
// finding named that worker's tid as its pid. The lowest thread id on any
// line now names it, read by the reader or by the reading thread's filter.
// Truth: the process's own pid and /proc/self/maps (test/scenarios/idle-leader.py).
//
// Needs strace and /usr/bin/python3.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { STRACE_FILTER } from './tools.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli, underStraceAttached } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'idle-leader.py');
const started: ChildProcess[] = [];

/**
 * Until strace has written the exit of `pid` to `file`: the program's exit
 * reaches this process as soon as it reaches strace, and a SIGINT sent then
 * could stop strace before it wrote that line (a trace with no line of the
 * leader at all, not the shape these tests are about).
 */
async function exitWritten(file: string, pid: number): Promise<void> {
  const exit = new RegExp(`^(${pid} +)?\\S+ \\+\\+\\+ exited with \\d+ \\+\\+\\+$`, 'm');
  await waitFor(`strace to write the exit of ${pid}`, () => exit.test(readFileSync(file, 'utf8')), 20_000);
}

interface Truth {
  pid: number;
  deleted: { address: string; bytes: number; path: string }[];
}

let trace = '';
let truth: Truth;

beforeAll(async () => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
  const dir = workspace('idle-leader');
  trace = join(dir, 'trace.txt');
  const child = spawn(PYTHON, [PROGRAM, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const done = exited(child);
  expect((await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value).toBe('ready');
  await underStraceAttached(child.pid!, ['-yy'], trace, started, async () => {
    writeFileSync(join(dir, 'go'), '');
    expect((await done).code).toBe(0);
    await exitWritten(trace, child.pid!);
  });
  truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
}, 60_000);

afterAll(() => killStillRunning(started));

it.each(['auto', 'never', 'always'])('names the process by its own pid, though its main thread made no call orphanmap follows (reading thread: %s)', (readThread) => {
  expect(truth.deleted.map((line) => line.bytes)).toEqual([1 << 20]);
  const lines = readFileSync(trace, 'utf8').split('\n');
  // The leader is in the trace, and never in a followed call.
  const leaderCalls = lines.filter((line) => line.startsWith(`${truth.pid} `));
  expect(leaderCalls.length).toBeGreaterThan(0);
  expect(leaderCalls.some((line) => /^\d+ [\d.]+ (openat|mmap|munmap|unlink|close)\(/.test(line))).toBe(false);
  const result = runCli(['analyze', trace, '--format', 'json'], undefined, { ORPHANMAP_READ_THREAD: readThread });
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(orphans.map((finding) => `${finding.pid} ${finding.address} ${finding.length}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} ${1 << 20}`]);
  expect(report.warnings.join('\n')).toContain(
    `taken as one process, pid ${truth.pid}; nothing in the trace shows which thread is its leader, so the lowest thread id names it, thread ${truth.pid}, whose lines are only calls orphanmap does not follow`,
  );
});

it.each(['never', 'always'])('names it so when the leader first shows after 30,000 lines the line filter skips (reading thread: %s)', (readThread) => {
  // The real trace without the leader's lines before the end of the worker's getppid calls: as a trace shows a leader
  // that was running in user space at the attach. Its lines after them reach the reader through the filter's record.
  // (Up to their end, not their start: strace -p may print the leader's first line, its futex as it reaches it, after
  // the worker's first calls, and a machine under load made that line the 14th.)
  const lines = readFileSync(trace, 'utf8').split('\n');
  const lastGetppid = lines.findLastIndex((line) => line.includes(' getppid()'));
  expect(lastGetppid).toBeGreaterThan(0);
  const late = `${trace}.late`;
  writeFileSync(late, lines.filter((line, index) => index > lastGetppid || !line.startsWith(`${truth.pid} `)).join('\n'));
  expect(
    readFileSync(late, 'utf8')
      .split('\n')
      .findIndex((line) => line.startsWith(`${truth.pid} `)),
  ).toBeGreaterThan(30_000);
  const result = runCli(['analyze', late, '--format', 'json'], undefined, { ORPHANMAP_READ_THREAD: readThread });
  expect(result.status, result.stderr).toBe(0);
  const orphans = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(orphans.map((finding) => finding.pid)).toEqual([truth.pid]);
});

it('strace -ff -p: the set is named by the leader too, and says it does not start at an execve', async () => {
  const dir = workspace('idle-leader-ff');
  const set = join(dir, 'ff');
  mkdirSync(set);
  const child = spawn(PYTHON, [PROGRAM, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const done = exited(child);
  expect((await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value).toBe('ready');
  await underStraceAttached(child.pid!, ['-ff', '-yy'], join(set, 'trace'), started, async () => {
    writeFileSync(join(dir, 'go'), '');
    expect((await done).code).toBe(0);
    await exitWritten(join(set, `trace.${child.pid}`), child.pid!);
  });
  const ffTruth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  // strace wrote the leader's own file: the set shows it.
  expect(readdirSync(set)).toContain(`trace.${ffTruth.pid}`);
  const result = runCli(['analyze', set, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(orphans.map((finding) => `${finding.pid} ${finding.address}`)).toEqual([`${ffTruth.pid} ${ffTruth.deleted[0]!.address}`]);
  expect(
    report.warnings.some((text) => /-ff set: the trace does not start at an execve \(attached to a running process/.test(text)),
    report.warnings.join('\n'),
  ).toBe(true);
}, 60_000);

it('strace -f -p with the recommended filter: the leader whose only line is its exit names the process (review 50, item 6)', async () => {
  const dir = workspace('idle-leader-filtered');
  const filtered = join(dir, 'trace.txt');
  const child = spawn(PYTHON, [PROGRAM, dir, 'worker-exits'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const done = exited(child);
  expect((await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value).toBe('ready');
  await underStraceAttached(child.pid!, ['-yy', '-e', `trace=${STRACE_FILTER}`], filtered, started, async () => {
    writeFileSync(join(dir, 'go'), '');
    expect((await done).code).toBe(0);
    await exitWritten(filtered, child.pid!);
  });
  const filteredTruth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  // The leader's only line: its exit, once the worker's exit_group ended the process.
  const leaderLines = readFileSync(filtered, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${filteredTruth.pid} `));
  expect(leaderLines).toHaveLength(1);
  expect(leaderLines[0]).toMatch(/\+\+\+ exited with 0 \+\+\+$/);
  const result = runCli(['analyze', filtered, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(orphans.map((finding) => `${finding.pid} ${finding.address}`)).toEqual([`${filteredTruth.pid} ${filteredTruth.deleted[0]!.address}`]);
  expect(report.warnings.join('\n')).toContain(`its leader is thread ${filteredTruth.pid}, which made no call orphanmap follows and exited last of its threads`);
}, 60_000);

// `strace -p PID -f` of a process that only sleeps while another process
// removes a file it maps (review 9: Berkeley DB's db_recover removing the
// region files a db_checkpoint had mapped). The trace holds no call orphanmap
// follows, so it can say nothing of the mapping /proc shows deleted: the
// report must give no verdict (it said "no mapping outlived its file", and
// --fail-on error passed), and must not say -f was missing when it was given
// (a process with one thread gets no pid prefix under -f either).
// Real python3 and strace; truth: the program's /proc/PID/maps while it lives.
//
// Review 20: the same under `orphanmap capture --pid`. The trace is empty
// (strace -p of a sleeper may print nothing at all), but the bundle's
// /proc/PID/maps snapshots are the verdict: --fail-on refused it with exit 2
// ("empty input"), though its report listed the leak maps-end.txt shows.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Finding } from '../src/engine/findings.js';
import { exited } from './scenarios/harness.js';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PYTHON = '/usr/bin/python3';
const children: ChildProcess[] = [];

// Maps FILE, says "ready", then sleeps: one thread, no call but the sleep once traced.
const SLEEPER = `
import ctypes, mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 65536)
m = mmap.mmap(fd, 65536)
os.close(fd)
print("ready %x" % ctypes.addressof(ctypes.c_char.from_buffer(m)), flush=True)
time.sleep(600)
`;

beforeAll(() => {
  requireTool('strace');
  if (!existsSync(PYTHON)) throw new Error(`this test needs ${PYTHON} (apt-get install -y python3)`);
});

afterEach(() => killStillRunning(children));

it('gives no verdict for a trace with no event, and does not say -f was missing', async () => {
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-idle-attach-'));
  const file = join(work, 'region.db');
  const program = spawn(PYTHON, ['-c', SLEEPER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to map its file', () => out.includes('ready'), 10_000);

  const trace = join(work, 'trace.txt');
  // To stderr, as `strace -p PID -f 2>trace.txt` writes it: with -o, strace -f prefixes every line with its pid.
  const traceFd = openSync(trace, 'w');
  const strace = spawn('strace', ['-p', String(program.pid), '-f'], { stdio: ['ignore', 'ignore', traceFd] });
  closeSync(traceFd);
  children.push(strace);
  await waitFor('strace to attach', () => procStatus(program.pid!)?.tracerPid === strace.pid, 10_000);
  // Removed by this process, which strace does not trace.
  rmSync(file);
  const maps = readFileSync(`/proc/${program.pid}/maps`, 'utf8');
  expect(maps, 'the mapping outlived its file').toContain(`${file} (deleted)`);
  strace.kill('SIGINT');
  await new Promise((resolve) => strace.once('exit', resolve));
  expect(procStatus(program.pid!)?.tracerPid, 'strace let go').toBe(0);

  const text = runCli(['analyze', trace]);
  expect(text.status, text.stderr).toBe(0);
  expect(text.stdout).toMatch(/^orphanmap: no verdict: the trace holds none of the calls orphanmap follows on files and mappings \(\d+ lines?, 0 such events\)/);
  expect(text.stdout).not.toContain('no mapping outlived its file');
  expect(text.stdout).not.toContain('no -f:');
  expect(text.stdout).toContain('no pid prefix on any line and no clone: strace ran without -f, or with -f on a process with one thread');
  const gate = runCli(['analyze', trace, '--fail-on', 'error']);
  expect(gate.status).toBe(2);
  expect(gate.stderr).toContain(`${trace}: error: the trace holds none of the calls orphanmap follows`);
});

it('capture --pid of the sleeper: an empty trace, and --fail-on error judges by the maps snapshots (exit 3, the leak at the address the program mapped)', async () => {
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-idle-capture-'));
  const file = join(work, 'region.db');
  const program = spawn(PYTHON, ['-c', SLEEPER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to map its file', () => /ready [0-9a-f]+\n/.test(out), 10_000);
  const address = `0x${/ready ([0-9a-f]+)/.exec(out)![1]!}`;

  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(capture);
  const ended = exited(capture);
  // meta.json is written once strace is attached.
  await waitFor('the capture to attach', () => existsSync(join(bundle, 'meta.json')), 30_000);
  // Removed by this process, which strace does not trace.
  rmSync(file);
  expect(readFileSync(`/proc/${program.pid}/maps`, 'utf8'), 'the mapping outlived its file').toContain(`${file} (deleted)`);
  capture.kill('SIGINT');
  const run = await ended;
  expect(run.code, run.stderr).toBe(130);
  expect(procStatus(program.pid!)?.tracerPid, 'strace let go').toBe(0);

  const gate = runCli(['analyze', bundle, '--fail-on', 'error', '--format', 'json']);
  expect(gate.status, gate.stderr).toBe(3);
  const report = JSON.parse(gate.stdout) as { findings: Finding[] };
  expect(report.findings.map((finding) => [finding.kind, finding.pid, finding.address, finding.length, finding.path])).toEqual([['unlinked-while-mapped', program.pid, address, 65536, file]]);
  // Said as an idle process, not as a failed capture (review 91, 4: "empty input: no trace lines").
  expect((report as unknown as { warnings: string[] }).warnings).toContain(
    `${join(bundle, 'trace.txt')}: empty: the process made none of the calls the capture traces while it was attached; what the report says of its mappings comes from its /proc/PID/maps, read at the start and at the end (maps-start.txt, maps-end.txt)`,
  );
});

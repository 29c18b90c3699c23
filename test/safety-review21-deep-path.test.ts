// A mapping of a deleted file under a deep directory tree (review 21's safety
// review, F4 and F5). The kernel prints the path whole in /proc/PID/maps,
// however long: any user can make it tens of kilobytes, or a megabyte, with
// directories made one below the other. scan took a line over 16 KiB for no
// line the kernel prints and counted nothing; a bundle's snapshots took one
// over 1 MiB for an unreadable line, and `analyze --fail-on error` passed a
// capture of the leak. Such a line is now read as its start and end.
//
// A real python3 program (test/scenarios/deep-path.py); the truth is its own
// record of the address, and its /proc/PID/maps read while it lives.
//
// Needs root and strace (capture --pid).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'deep-path.py');
const started: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/safety-review21-deep-path.test.ts must run as root (capture --pid)');
  requireTool('strace');
});
afterAll(() => {
  killStillRunning(started);
  // rm walks the tree by descriptors: a path past PATH_MAX is no obstacle.
  for (const dir of dirs) spawnSync('rm', ['-rf', '--', dir]);
});

/** The program, running with its leak in place: its pid, the address it recorded, and the /proc/PID/maps line of that address. */
async function deepLeak(depth: number): Promise<{ pid: number; address: string; line: string }> {
  const dir = workspace(`deep-path-${depth}`);
  dirs.push(dir);
  const program = spawn(PYTHON, [PROGRAM, dir, String(depth)], { stdio: 'ignore' });
  started.push(program);
  await waitFor('the leak', () => existsSync(join(dir, 'ready')), 60_000);
  const address = readFileSync(join(dir, 'ready'), 'utf8');
  const line = readFileSync(`/proc/${program.pid}/maps`, 'utf8')
    .split('\n')
    .find((text) => text.startsWith(`${address}-`));
  if (line === undefined) throw new Error(`/proc/${program.pid}/maps has no line at ${address}`);
  return { pid: program.pid!, address, line };
}

it('scan counts a deleted mapping whose maps line is over 16 KiB', async () => {
  const { pid, line } = await deepLeak(100);
  // The truth: the kernel's line, 25 KB long, ends " (deleted)".
  expect(line.length).toBeGreaterThan(16 * 1024);
  expect(line.endsWith('/seg.index (deleted)')).toBe(true);
  const result = runCli(['scan', '--pid', String(pid), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const scan = JSON.parse(result.stdout) as { processes: { pid: number; deletedMappings: number; deletedBytes: number; badLines: number }[] };
  expect(scan.processes.map((p) => [p.pid, p.deletedMappings, p.deletedBytes, p.badLines])).toEqual([[pid, 1, 1 << 20, 0]]);
  const prom = runCli(['scan', '--pid', String(pid), '--format', 'prom']);
  expect(prom.stdout).toMatch(/^orphanmap_process_deleted_mappings\{[^}]*\} 1$/m);
}, 120_000);

it('a capture of a process whose deleted mapping has a 1 MB maps line: the finding, at the address the program recorded, and --fail-on error fails', async () => {
  const { pid, address, line } = await deepLeak(4300);
  expect(line.length).toBeGreaterThan(1024 * 1024);
  const bundle = join(dirs.at(-1)!, 'bundle');
  const capture = runCli(['capture', '--pid', String(pid), '--duration', '1', '--out', bundle]);
  expect(capture.status, capture.stderr).toBe(0);
  const result = runCli(['analyze', bundle, '--format', 'json', '--fail-on', 'error']);
  expect(result.status, result.stderr).toBe(3);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  expect(report.findings.filter((finding) => finding.severity === 'error').map((finding) => [finding.pid, finding.address, finding.length])).toEqual([[pid, `0x${address}`, 1 << 20]]);
  expect(report.warnings.some((warning) => warning.includes('read as its start and end'))).toBe(true);
}, 240_000);

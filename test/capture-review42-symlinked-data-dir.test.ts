// Review 42, G3: `capture --pid --backend strace` of a program whose data
// directory is a symlink made before the capture (link -> real). It maps
// link/f in the trace (strace -yy prints real/f for the fd); the file is
// removed from outside the trace while the mapping lives. The finding was
// made from maps-end.txt alone: the maps line's page-rounded length, "mapped"
// at maps-end.txt, and a note saying the trace does not show the mapping
// made. maps-end.txt names the file by the kernel's path, which the file
// had as a name, not in its history of the program's spellings.
// Truth: the program's own /proc/self/maps line, and the bytes it mapped.
//
// Needs root and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const BYTES = 50519;
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('ties the out-of-sight removal to the mmap the trace shows, by the kernel path maps-end.txt prints', async () => {
  const work = workspace('review42-symlinked');
  mkdirSync(join(work, 'real'));
  writeFileSync(join(work, 'real', 'f'), Buffer.alloc(BYTES, 'f'));
  symlinkSync('real', join(work, 'link'));
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'symlinked-data-dir.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to start', () => out.includes('\n'), 10_000);
  const pid = Number(out.split('\n')[0]);

  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(pid), '--duration', '4', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(capture);
  const captured = new Promise<number | null>((resolve) => capture.once('exit', (code) => resolve(code)));
  await waitFor('strace to attach', () => (procStatus(pid)?.tracerPid ?? 0) !== 0, 30_000);
  // After the capture's start snapshots: an fd of the file in fds-start.txt would name it by the kernel's path.
  await waitFor('fds-start.txt', () => existsSync(join(bundle, 'fds-start.txt')), 30_000);
  program.stdin!.write('go\n');
  await waitFor("the program's maps line", () => out.split('\n').length > 2, 10_000);
  const line = out.split('\n')[1]!;
  const address = `0x${line.split('-')[0]!.replace(/^0+/, '')}`;
  // Removed by this process, which the capture does not trace, while the program maps it.
  unlinkSync(join(work, 'real', 'f'));
  expect(await captured).toBe(0);
  program.stdin!.end();

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  expect(report.findings.map((finding) => [finding.kind, finding.pid, finding.address, finding.length, finding.resolution])).toEqual([['unlinked-while-mapped', pid, address, BYTES, 'still-mapped']]);
  expect(report.findings[0]!.mappedAt?.file).toBe(join(bundle, 'trace.txt'));
}, 60_000);

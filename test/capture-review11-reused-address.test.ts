// A finding's /proc/PID/maps line at the end of the capture is evidence only
// of a mapping still there: review 11 found the ticket of a finding whose
// mapping had been unmapped quoting the maps line of another file the kernel
// had placed at the same address since. A real program under `capture --pid`
// (strace); truth: its own /proc/self/maps lines of both files.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PYTHON = '/usr/bin/python3';
const children: ChildProcess[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review11-reused-address.test.ts must run as root (it traces with strace)');
  requireTool('strace');
  if (!existsSync(PYTHON)) throw new Error(`this test needs ${PYTHON} (apt-get install -y python3)`);
});

afterEach(() => killStillRunning(children));

interface Finding {
  id: string;
  kind: string;
  path: string;
  address: string;
  resolution: string;
}

it("shows a finding's maps line at the end only if its mapping is still there, not another file's at its address", async () => {
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-reused-address-'));
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'reused-address.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to start', () => out.includes('\n'), 10_000);
  const pid = Number(out.split('\n')[0]);

  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(pid), '--duration', '4', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(capture);
  const captured = new Promise<number | null>((resolve) => capture.once('exit', (code) => resolve(code)));
  await waitFor('strace to attach', () => (procStatus(pid)?.tracerPid ?? 0) !== 0, 30_000);
  program.stdin.write('go\n');
  await waitFor("the program's record", () => out.split('\n').length > 2, 10_000);
  const record = JSON.parse(out.split('\n')[1]!) as { a: string; b: string };
  const addressOf = (line: string) => `0x${line.split('-')[0]!.replace(/^0+/, '')}`;
  // The precondition: the kernel put B where A was.
  expect(addressOf(record.b), `${record.a}\n${record.b}`).toBe(addressOf(record.a));
  expect(await captured).toBe(0);

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; mapsLines: Record<string, string> };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  const a = orphans.find((finding) => finding.path === join(work, 'a.index'));
  const b = orphans.find((finding) => finding.path === join(work, 'b.index'));
  expect(a?.resolution).toBe('unmapped');
  expect(b?.resolution).toBe('still-mapped');
  expect(a?.address).toBe(addressOf(record.a));
  expect(report.mapsLines[a!.id], 'no maps line for the unmapped finding').toBeUndefined();
  expect(report.mapsLines[b!.id]).toContain(`${join(work, 'b.index')} (deleted)`);
  // The ticket (Markdown) quotes B's line once, under B's finding only.
  const markdown = runCli(['analyze', bundle, '--format', 'markdown']).stdout;
  expect(markdown.split(`${join(work, 'b.index')} (deleted)`).length - 1).toBe(1);
});

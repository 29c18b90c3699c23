// Review 15 (R4, 4): a mapped file removed by a process the trace does not
// follow (PostgreSQL's /dev/shm segments under systemd's RemoveIPC, a /tmp
// cleaner) leaves no unlink in the trace, and no finding can be made; the
// program may then trip over the missing name (an open or unlink that fails
// with ENOENT), and that line was thrown away. Now such a failure, of a name
// the trace still gives to a file mapped at that moment, gives a warning
// naming the call, the name and the process that maps it. A program that
// removed the name itself (the unlink is in the trace) gets no such warning.
// Under -y, a later call whose fd annotation says "(deleted)" (here the close
// of the dup Python's mmap keeps) does make the finding (review 22).
//
// A real program (test/scenarios/removed-under-it.py) under real strace; the
// test removes its file while it waits, out of the trace. The truth is the
// program's own /proc/self/maps after the failed open.
// Needs strace and /usr/bin/python3.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'removed-under-it.py');

interface Truth {
  pid: number;
  deleted: { address: string; bytes: number; path: string }[];
}

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => killStillRunning(children));

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The program under `strace -f -ttt [flags]` in `mode`; with `removeIt`, the test removes its file while it waits. */
async function run(mode: 'open' | 'own' | 'recreate', removeIt: boolean, flags: string[]): Promise<{ input: string; file: string; truth: Truth; findings: Finding[]; warnings: string[] }> {
  const dir = workspace('out-of-sight');
  const input = join(dir, 'trace.txt');
  const file = join(dir, 'seg.shm');
  const traced = spawn('strace', ['-f', '-ttt', ...flags, '-o', input, PYTHON, PROGRAM, file, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(traced);
  const done = exited(traced);
  const lines = createInterface({ input: traced.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  if (removeIt) rmSync(file);
  traced.stdin!.write('go\n');
  const truth = JSON.parse((await lines.next()).value as string) as Truth;
  expect((await done).code).toBe(0);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  return { input, file, truth, findings: report.findings, warnings: report.warnings.filter((warning) => warning.includes('failed with ENOENT')) };
}

function expectWarning(warnings: string[], file: string, input: string, truth: Truth): void {
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(new RegExp(`^open(at)? of ${file.replace(/[.]/g, '\\.')} at ${input.replace(/[.]/g, '\\.')}:\\d+ \\(process ${truth.pid}\\) failed with ENOENT: `));
  expect(warnings[0]).toContain(`the file the trace knows by it was mapped in that process. A process the trace does not follow removed it`);
  expect(warnings[0]).toContain(`look for "(deleted)" in /proc/${truth.pid}/maps`);
}

describe('R4-4: a mapped file removed out of the trace, and the program finding its name gone', () => {
  it('strace without -y: no finding can be made, and a warning names the failed open, the name and the process that maps it', async () => {
    const { input, file, truth, findings, warnings } = await run('open', true, []);
    // /proc: the mapping outlived its file.
    expect(truth.deleted.map((mapping) => [mapping.path, mapping.bytes])).toEqual([[file, 8192]]);
    expect(findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expectWarning(warnings, file, input, truth);
  }, 40_000);

  // Review 22: Python's mmap keeps a dup of the fd, and its close at the exit shows the file "(deleted)" under -y: the kernel's word.
  it.each([
    ['-y', ['-y']],
    ['filtered as capture does', ['-y', '-e', 'trace=%file,%memory,%process,%desc']],
  ])(
    'strace %s: the close of its fd that -y shows "(deleted)" makes the finding /proc shows, and the warning names the failed open',
    async (_, flags) => {
      const { input, file, truth, findings, warnings } = await run('open', true, flags);
      expect(truth.deleted.map((mapping) => [mapping.path, mapping.bytes])).toEqual([[file, 8192]]);
      const orphans = findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
      expect(orphans.map((finding) => `${finding.severity} ${finding.pid} ${finding.address} ${finding.path}`)).toEqual([`error ${truth.pid} ${truth.deleted[0]!.address} ${file}`]);
      expect(orphans[0]!.unlinkedAt).toBeNull();
      expect(orphans[0]!.note).toMatch(new RegExp(`^The -y annotation of fd \\d+ at ${input.replace(/[.]/g, '\\.')}:\\d+ shows it "\\(deleted\\)"`));
      expectWarning(warnings, file, input, truth);
    },
    40_000,
  );

  it('the program removed it itself: the unlink is in the trace, the finding is made, and no such warning', async () => {
    const { file, truth, findings, warnings } = await run('own', false, ['-y']);
    expect(truth.deleted.map((mapping) => mapping.path)).toEqual([file]);
    expect(findings.filter((finding) => finding.kind === 'unlinked-while-mapped').map((finding) => `${finding.pid} ${finding.address} ${finding.path}`)).toEqual([
      `${truth.pid} ${truth.deleted[0]!.address} ${file}`,
    ]);
    expect(warnings).toEqual([]);
  }, 40_000);

  it('a new file made at the name and unlinked: no finding blames that unlink for the mapping, and the warning stays', async () => {
    // Found by the session's review: the name still led to the mapped file, and the unlink of the new one
    // was taken for its removal (a finding dated there), and the warning went with it.
    const { file, truth, findings, warnings } = await run('recreate', true, ['-y']);
    expect(truth.deleted.map((mapping) => mapping.path)).toEqual([file]);
    expect(findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(warnings).toHaveLength(1);
  }, 40_000);

  it('the file left in place: the second open succeeds, and no such warning', async () => {
    const { truth, warnings } = await run('open', false, ['-y']);
    expect(truth.deleted).toEqual([]);
    expect(warnings).toEqual([]);
  }, 40_000);
});

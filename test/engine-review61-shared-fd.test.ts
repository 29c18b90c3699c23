// Review 61, F-5 (varnishd with a named storage file): the manager opens the
// file, each cache child maps it through that fd; an operator removed the
// file while the first child mapped it, and once that child had exited the
// next child's mmap showed the fd "(deleted)". Under strace the report read
// clean, exit 0: only a mapping live at that line was looked at, while a
// close showing the same put the mappings no longer live in doubt. An mmap
// (or any call) whose -y annotation shows its fd's file "(deleted)" does the
// same now, and so does bpftrace's link count of 0 on the mmap: when a new
// file takes the name, the capture's lookup at the end finds it there, and
// that was all a bundle had. Truth: the first child's own /proc/self/maps
// line, read after the removal (test/scenarios/shared-fd-removed.py).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli, STRACE_FILTER } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'shared-fd-removed.py');
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/** How the trace is taken: strace by hand (all calls, or the README's filter), or `orphanmap capture`; and what analyze reads. */
function tracer(how: string, work: string, directory: string): { command: string; args: string[]; input: string } {
  const program = [PYTHON, SCENARIO, directory];
  const trace = join(work, 'trace.txt');
  const bundle = join(work, 'bundle');
  if (how === 'strace') return { command: 'strace', args: ['-f', '-ttt', '-T', '-yy', '-o', trace, ...program], input: trace };
  if (how === 'strace-filtered') return { command: 'strace', args: ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, ...program], input: trace };
  const backend = how === 'capture-strace' ? 'strace' : 'bpftrace';
  return { command: process.execPath, args: [CLI, 'capture', '--backend', backend, '--out', bundle, '--', ...program], input: bundle };
}

it.each([
  ['strace', ''],
  ['strace-filtered', ''],
  ['capture-strace', ''],
  ['capture-bpftrace', ''],
  ['capture-strace', ', a new file made at its name'],
  ['capture-bpftrace', ', a new file made at its name'],
])(
  '%s: a file a fork child mapped through its parent’s fd, removed out of sight%s, then shown "(deleted)" by the next child’s mmap, is in doubt',
  async (how, renewed) => {
    const work = workspace(`review61-shared-fd-${how}${renewed === '' ? '' : '-renewed'}`);
    const directory = join(work, 'w');
    const storage = join(directory, 'storage.bin');
    writeFileSync(storage, Buffer.alloc(8192, 's'));
    const { command, args, input } = tracer(how, work, directory);
    const run = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(run);
    const done = exited(run);
    await waitFor('the first child to map the file', () => existsSync(join(directory, 'mapped')), 120_000);
    // The removal by a process the trace does not follow: this one.
    unlinkSync(storage);
    if (renewed !== '') writeFileSync(storage, Buffer.alloc(4096, 'n'));
    writeFileSync(join(directory, 'removed'), '');
    const ran = await done;
    expect(ran.code, ran.stderr).toBe(0);
    // The kernel's word: the first child's mapping outlived the file's name.
    const [pid, line] = readFileSync(join(directory, 'record.txt'), 'utf8').split('\n');
    expect(line).toMatch(new RegExp(` ${storage} \\(deleted\\)$`));

    const report = JSON.parse(runCli(['analyze', input, '--format', 'json']).stdout) as {
      findings: { benign?: string }[];
      summary: { mappingsInDoubt: number };
      warnings: string[];
    };
    // The second child's mapping, made with no name left: benign. The first child's: in doubt, named by its process.
    expect(report.findings.map((finding) => finding.benign !== undefined)).toEqual([true]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(
      report.warnings.some((warning) => warning.includes(storage) && warning.includes(`process ${pid}`)),
      report.warnings.join('\n'),
    ).toBe(true);
    expect(runCli(['analyze', input, '--fail-on', 'error']).status).toBe(2);
  },
  180_000,
);

// Review 61, F-6: a varnishlog reader maps a segment in varnishd's
// _.vsm_child; varnishd (not traced: the reader is what one traces) removes
// the directory with `rm -rf` as its child restarts, and the reader unmaps
// the segment milliseconds later. The reader's trace shows its fd of the
// directory "(deleted)" (strace -y) or with a link count of 0 (bpftrace)
// before the munmap, yet the report read clean, exit 0. A directory shown
// gone was emptied first: a mapping of a file known only by a name in it is
// in doubt. Truth: the program's own /proc/self/maps line, read after the
// removal (test/scenarios/directory-removed.py).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli, STRACE_FILTER } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'directory-removed.py');
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

it.each(['strace', 'strace-filtered', 'capture-strace', 'capture-bpftrace'])(
  '%s: a mapped file whose directory another process removed with everything in it is in doubt',
  async (how) => {
    const work = workspace(`review61-directory-removed-${how}`);
    const directory = join(work, 'w');
    const segments = join(directory, 'seg');
    mkdirSync(segments, { recursive: true });
    writeFileSync(join(segments, '_.Log'), Buffer.alloc(8192, 'l'));
    writeFileSync(join(segments, '_.index'), 'index\n');
    const { command, args, input } = tracer(how, work, directory);
    const run = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(run);
    const done = exited(run);
    await waitFor('the program to map the file', () => existsSync(join(directory, 'mapped')), 120_000);
    // `rm -rf` by a process the trace does not follow: this one.
    rmSync(segments, { recursive: true });
    const ran = await done;
    expect(ran.code, ran.stderr).toBe(0);
    // The kernel's word: the mapping outlived the file's name.
    expect(readFileSync(join(directory, 'record.txt'), 'utf8')).toMatch(new RegExp(` ${join(segments, '_.Log')} \\(deleted\\)\\n$`));

    const report = JSON.parse(runCli(['analyze', input, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(
      report.warnings.some((warning) => warning.includes(`shows its directory ${segments} removed, which held ${join(segments, '_.Log')}`)),
      report.warnings.join('\n'),
    ).toBe(true);
    expect(runCli(['analyze', input, '--fail-on', 'error']).status).toBe(2);
  },
  180_000,
);

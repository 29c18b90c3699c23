// Review 22, F3: a file opened by its real directory and unlinked through a
// symlink to it made before the trace. strace -y prints the real path of an
// fd, but an unlink's name as given, so the two spellings never met and the
// check for them was off in every -y trace: "no mapping outlived its file",
// exit 0, no warning. Now a later call whose fd annotation says "(deleted)"
// makes the finding (the kernel's word), and with no such call the warning
// names the unlink and the mapping.
// Truth: the program's own /proc/self/maps (test/scenarios/symlinked-dir-mixed.py).
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'symlinked-dir-mixed.py');

interface Truth {
  pid: number;
  deleted: { address: string; bytes: number; path: string }[];
}

interface Report {
  findings: Finding[];
  warnings: string[];
}

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The program under `strace -f -ttt -yy -e trace=…`, its data directory reached by a symlink made before. */
function traced(mode: 'close' | 'exit'): { truth: Truth; trace: string; real: string; link: string; report: Report; failOn: number } {
  const dir = workspace(`symlinked-dir-${mode}`);
  const real = join(dir, 'data');
  const link = join(dir, 'kafka');
  mkdirSync(real);
  symlinkSync('data', link);
  const trace = join(dir, 'trace.txt');
  const truthFile = join(dir, 'truth.json');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, truthFile, real, link, mode], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const failOn = runCli(['analyze', trace, '--fail-on', 'error']).status;
  return { truth: JSON.parse(readFileSync(truthFile, 'utf8')) as Truth, trace, real, link, report: JSON.parse(result.stdout) as Report, failOn };
}

describe('a mapped file unlinked through a symlink to its directory, under strace -yy', () => {
  it('with a later close of its fd, which -y shows "(deleted)": the finding /proc shows, and --fail-on error fails', () => {
    const { truth, trace, real, report, failOn } = traced('close');
    const index = join(real, 't-0', '00000000000000000000.index');
    expect(truth.deleted.map((line) => `${line.address} ${line.bytes} ${line.path}`)).toEqual([expect.stringMatching(new RegExp(` 1048576 ${index}$`))]);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const closeAt = lines.findIndex((line) => line.includes('close(') && line.includes(`${index}>(deleted))`)) + 1;
    expect(closeAt).toBeGreaterThan(0);
    const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
    expect(orphans.map((finding) => `${finding.severity} ${finding.pid} ${finding.address} ${finding.length} ${finding.path}`)).toEqual([
      `error ${truth.pid} ${truth.deleted[0]!.address} 1048576 ${index}`,
    ]);
    expect(orphans[0]!.note).toContain(`The -y annotation of fd`);
    expect(orphans[0]!.note).toContain(`${trace}:${closeAt} shows it "(deleted)"`);
    expect(orphans[0]!.resolution).toBe('unmapped');
    expect(failOn).toBe(3);
  });

  it('with no later call naming it: a warning names the unlink by the other spelling and the mapped file', () => {
    const { truth, trace, real, link, report } = traced('exit');
    const index = join(real, 't-0', '00000000000000000000.index');
    expect(truth.deleted.map((line) => line.path)).toEqual([index]);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const unlinkAt = lines.findIndex((line) => line.includes(`unlink("${join(link, 't-0', '00000000000000000000.index')}")`)) + 1;
    expect(unlinkAt).toBeGreaterThan(0);
    const warning = report.warnings.find((text) => text.startsWith(`unlink of ${join(link, 't-0', '00000000000000000000.index')} at ${trace}:${unlinkAt}`));
    expect(warning, report.warnings.join('\n')).toBeDefined();
    expect(warning).toContain(`while ${index}, which ends in the same directory and name, was mapped in that process`);
    expect(warning).toContain('Capture with --backend bpftrace');
  });
});

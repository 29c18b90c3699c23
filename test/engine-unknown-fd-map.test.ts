// An mmap of an fd that no call in the trace made, with nothing to name its
// file (no -y annotation): the file is followed as one "opened before the
// trace", whose unlink no name can match, so its leak went unreported without
// a word (exactness review: a dup left out by `-e trace=%file,%memory`, an fd
// received with SCM_RIGHTS). Now a warning says so. Truth: the program's own
// record of the fd it mapped and of its /proc/self/maps.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'dup-then-map.py');

interface Record {
  fd: number;
  deleted: { address: string; path: string }[];
}

function traced(name: string, filter: string): { record: Record; trace: string } {
  requireTool('strace');
  const dir = workspace(`unknown-fd-${name}`);
  const trace = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-o', trace, '-e', `trace=${filter}`, PYTHON, PROGRAM, join(dir, 'd'), join(dir, 'record.json')], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(import.meta.dirname, 'scenarios') },
  });
  expect(run.status, run.stderr).toBe(0);
  return { record: JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as Record, trace };
}

function analyzed(trace: string): { findings: { address: string; path: string }[]; warnings: string[] } {
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { findings: { address: string; path: string }[]; warnings: string[] };
}

describe('a mapping of an fd the trace never showed made', () => {
  it('with the dups filtered out: no finding can be made, and a warning names the process, the fd and the line', () => {
    const { record, trace } = traced('no-dup', STRACE_FILTER.replace('dup,dup2,dup3,fcntl,', ''));
    expect(record.deleted).toHaveLength(1);
    const report = analyzed(trace);
    expect(report.findings).toEqual([]);
    const line = readFileSync(trace, 'utf8')
      .split('\n')
      .findIndex((text) => text.includes(`MAP_SHARED, ${record.fd}, 0) = ${record.deleted[0]!.address}`));
    expect(line).toBeGreaterThanOrEqual(0);
    const said = report.warnings.filter((warning) => warning.includes('which no call in the trace had opened'));
    expect(said).toEqual([expect.stringMatching(new RegExp(`^process \\d+ mapped fd ${record.fd} at ${trace.replaceAll('.', '\\.')}:${line + 1}, `))]);
  });

  it('with the dups in the trace: the leak is a finding, as the program saw it, and no such warning', () => {
    const { record, trace } = traced('dup', STRACE_FILTER);
    const report = analyzed(trace);
    expect(report.findings.map((finding) => `${finding.address} ${finding.path}`)).toEqual(record.deleted.map((mapping) => `${mapping.address} ${mapping.path}`));
    expect(report.warnings.filter((warning) => warning.includes('which no call in the trace had opened'))).toEqual([]);
  });
});

// Review 27, F6: a munmap that fails, printed by strace as <unfinished ...>,
// was applied anyway. strace prints a thread's call in two when another
// thread's line comes between, and the reader applies a munmap at its entry
// (another thread's mmap printed before its resume may reuse the range); the
// resume that said it failed was dropped. A C program
// (test/scenarios/failed-munmaps.c) maps a file, makes munmaps the kernel
// refuses while a thread opens and closes /dev/null, unlinks the file and
// keeps the mapping: 3,000 munmaps of unaligned addresses (EINVAL) left
// "1 B held" of its 8 KiB; munmaps of the middle page when its own map count
// is full (ENOMEM, as at a host near vm.max_map_count: the program fills its
// own count, and changes no setting) left 8 KiB of 12 KiB, in 2 pieces;
// munmaps of a whole sealed mapping (mseal: EPERM) left it unmapped, the
// verdict clean, exit 0. What such a munmap took whole cannot be put back
// (the engine settled it as unmapped): the mapping is in doubt, exit 2.
// The truth: how many of its munmaps failed, and its /proc/self/maps after
// the unlink, both the program's own record.
//
// Needs strace and cc.
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Finding, findingStart } from '../src/engine/findings.js';
import { workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

let program = '';
beforeAll(() => {
  requireTool('strace');
  requireTool('cc');
  program = join(realpathSync(workspace('failed-munmaps')), 'failed-munmaps');
  execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', program, join(REPO, 'test', 'scenarios', 'failed-munmaps.c')], { stdio: 'pipe' });
});

interface Truth {
  failed: Record<string, number>;
  other: number;
  /** "START-END" of the (deleted) lines of /proc/self/maps naming the file after the unlink. */
  live: string[];
}

/** The program under `orphanmap capture` (strace), then `analyze --fail-on error --format json`: its truth, the trace, the report and exit. */
function scenario(
  mode: 'einval' | 'enomem' | 'eperm',
  rounds: number,
): { truth: Truth; path: string; trace: string; findings: Finding[]; warnings: string[]; mappingsInDoubt: number; status: number } {
  const dir = realpathSync(workspace(`failed-munmap-${mode}`));
  const path = join(dir, 'w', `${mode}.map`);
  const bundle = join(dir, 'bundle');
  const capture = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', program, path, join(dir, 'truth'), String(rounds), ...(mode === 'einval' ? [] : [mode])]);
  expect(capture.status, capture.stderr).toBe(0);
  const truth: Truth = { failed: {}, other: -1, live: [] };
  for (const line of readFileSync(join(dir, 'truth'), 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key === 'einval' || key === 'enomem' || key === 'eperm') truth.failed[key] = Number(value);
    if (key === 'other') truth.other = Number(value);
    if (key === 'live' && line.endsWith(' (deleted)')) truth.live.push(value!);
  }
  const analyzed = runCli(['analyze', bundle, '--fail-on', 'error', '--format', 'json']);
  const report = JSON.parse(analyzed.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  return {
    truth,
    path,
    trace: readFileSync(join(bundle, 'trace.txt'), 'utf8'),
    findings: report.findings,
    warnings: report.warnings,
    mappingsInDoubt: report.summary.mappingsInDoubt,
    status: analyzed.status,
  };
}

/** "START-END" of a finding's mapping, as /proc prints it. */
function range(finding: Finding): string {
  const start = findingStart(finding);
  return `${start.toString(16)}-${(start + finding.length).toString(16)}`;
}

describe('munmaps that fail while strace prints them unfinished', () => {
  it('unaligned (EINVAL): the whole 8 KiB /proc showed is reported', () => {
    const { truth, path, trace, findings, mappingsInDoubt, status } = scenario('einval', 500);
    expect(truth.failed.einval).toBe(1000);
    expect(truth.other).toBe(0);
    expect(truth.live).toHaveLength(1);
    // The case under test: strace printed some of them in two.
    expect(trace).toMatch(/<\.\.\. munmap resumed>\) = -1 EINVAL/);
    const leaks = findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
    expect(leaks.map((finding) => `${finding.path} ${range(finding)} ${finding.length} ${finding.ranges === undefined ? 'whole' : 'cut'}`)).toEqual([`${path} ${truth.live[0]} 8192 whole`]);
    expect(mappingsInDoubt).toBe(0);
    expect(status).toBe(3);
  });

  it('aligned, past the map count (ENOMEM): the whole 12 KiB /proc showed is reported', () => {
    const { truth, path, trace, findings, mappingsInDoubt, status } = scenario('enomem', 300);
    expect(truth.failed.enomem).toBe(300);
    expect(truth.other).toBe(0);
    expect(truth.live).toHaveLength(1);
    expect(trace).toMatch(/<\.\.\. munmap resumed>\) = -1 ENOMEM/);
    const leaks = findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
    expect(leaks.map((finding) => `${finding.path} ${range(finding)} ${finding.length} ${finding.ranges === undefined ? 'whole' : 'cut'}`)).toEqual([`${path} ${truth.live[0]} 12288 whole`]);
    expect(mappingsInDoubt).toBe(0);
    expect(status).toBe(3);
  });

  it('a sealed mapping, whole (EPERM): in doubt, not clean', () => {
    const { truth, path, trace, findings, warnings, mappingsInDoubt, status } = scenario('eperm', 300);
    expect(truth.failed.eperm).toBe(300);
    expect(truth.other).toBe(0);
    expect(truth.live).toHaveLength(1);
    expect(trace).toMatch(/<\.\.\. munmap resumed>\) = -1 EPERM/);
    expect(findings).toEqual([]);
    expect(mappingsInDoubt).toBe(1);
    expect(warnings.filter((warning) => warning.includes('called munmap at ') && warning.includes('(EPERM)') && warning.includes(path))).toHaveLength(1);
    expect(status).toBe(2);
  });
});

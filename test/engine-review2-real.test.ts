// Review 1 of 2026-12, findings 2 to 5 (the correlation engine), each on a
// real program (test/scenarios/review2-cases.py) under real strace, with the
// truth the program read from its own /proc/self/maps before it exited.
// orphanmap must report exactly the mappings whose file had no name left:
// address and bytes; and, where the trace shows it, the unlink that took it.
//
// Needs root (linkat with AT_EMPTY_PATH), strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const CLIENT = join(REPO, 'test', 'scenarios', 'review2-cases.py');
const PAGE = 4096;

interface OwnTruth {
  pid: number;
  leaks: { address: string; bytes: number; path: string }[];
}

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('these tests need root: linkat(…, AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH');
});

/** The client in `mode` under `strace -f -ttt -yy [-e trace=FILTER]`: its truth, the trace and what orphanmap reports. */
function underStrace(mode: string, filter: string | null): { truth: OwnTruth; trace: string; findings: Finding[]; warnings: string[] } {
  const dir = workspace(`review2-${mode}`);
  const trace = join(dir, 'trace.txt');
  const args = ['-f', '-ttt', '-yy', ...(filter === null ? [] : ['-e', `trace=${filter}`]), '-o', trace, PYTHON, CLIENT, join(dir, 'w'), mode];
  const run = spawnSync('strace', args, { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(dir, 'w', 'truth.json'), 'utf8')) as OwnTruth;
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  return { truth, trace, findings: report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped'), warnings: report.warnings };
}

function truthKeys(truth: OwnTruth): string[] {
  return truth.leaks.map((leak) => `pid ${truth.pid} ${leak.address} ${leak.bytes}`).sort();
}

function findingKeys(findings: readonly Finding[]): string[] {
  return findings.map((finding) => `pid ${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE}`).sort();
}

/** The line of the trace that holds `text` (1-based), the first one after the program's execve. */
function lineOf(trace: string, text: string): number {
  const lines = readFileSync(trace, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes(text) && !line.includes('execve('));
  expect(index, text).toBeGreaterThanOrEqual(0);
  return index + 1;
}

describe('finding 2: a filter that keeps close but leaves dup2 out', () => {
  it('the mapping is charged to the file its annotation names, and the rebinding is said', () => {
    const { truth, trace, findings, warnings } = underStrace('dup2-hidden', 'openat,close,mmap,munmap,unlink');
    expect(truth.leaks.map((leak) => leak.path.slice(leak.path.lastIndexOf('/') + 1))).toEqual(['B']);
    expect(findingKeys(findings)).toEqual(truthKeys(truth));
    expect(findings[0]!.unlinkedAt?.line).toBe(lineOf(trace, '/w/B") = 0'));
    expect(warnings.join('\n')).toMatch(/fd 3 of process \d+ was \S+\/w\/C as far as the trace showed, but its -y annotation at \S+ names \S+\/w\/B/);
  });

  it('an unfiltered trace of the same program shows the dup2 and needs no annotation', () => {
    const { truth, findings, warnings } = underStrace('dup2-hidden', null);
    expect(findingKeys(findings)).toEqual(truthKeys(truth));
    expect(warnings.join('\n')).not.toMatch(/annotation/);
  });
});

describe('finding 3: "(deleted)" after an annotation (strace 6) names the file that lost that name', () => {
  it('the old file mapped through its fd is not the new file created under its name', () => {
    const { truth, trace, findings } = underStrace('deleted-reopen', 'mmap,munmap,unlink');
    expect(readFileSync(trace, 'utf8')).toMatch(/\/w\/A>\(deleted\)/);
    expect(findingKeys(findings)).toEqual(truthKeys(truth));
    // The new A's unlink, the only one the engine could place, took no mapping.
    expect(findings[0]!.unlinkedAt).toBeNull();
  });
});

describe('finding 4: a file mapped after its last name was unlinked (open, unlink, mmap)', () => {
  it.each([
    ['unfiltered', null],
    ['the recommended filter', STRACE_FILTER],
  ])('%s: reported, with the unlink that came before the mapping', (_, filter) => {
    const { truth, trace, findings } = underStrace('open-unlink-map', filter);
    expect(truth.leaks).toHaveLength(1);
    expect(findingKeys(findings)).toEqual(truthKeys(truth));
    const [finding] = findings;
    expect(finding!.unlinkedAt?.line).toBe(lineOf(trace, '/w/A") = 0'));
    expect(finding!.mappedAt!.line).toBeGreaterThan(finding!.unlinkedAt!.line);
    expect(finding!.note).toMatch(/mapped after its last name was unlinked/i);
    expect(finding!.resolution).toBe('process-exited');
    // Review 3, finding E: the idiom for shared memory, not a leak.
    expect(finding).toMatchObject({ severity: 'info', benign: 'mapped with no name left' });
  });
});

describe('finding 5: an O_TMPFILE file named by a link through its fd, then unlinked', () => {
  it('linkat of /proc/self/fd/N (AT_SYMLINK_FOLLOW) and of an empty path (AT_EMPTY_PATH); the file never linked is a benign finding (review 3, finding E)', () => {
    const { truth, trace, findings: all } = underStrace('tmpfile', null);
    expect(truth.leaks).toHaveLength(2);
    const findings = all.filter((finding) => finding.severity === 'error');
    expect(findingKeys(findings)).toEqual(truthKeys(truth));
    expect(all.filter((finding) => finding.severity === 'info').map((finding) => finding.benign)).toEqual(['mapped with no name left']);
    expect(findings.map((finding) => [finding.path.slice(finding.path.lastIndexOf('/') + 1), finding.unlinkedAt?.line]).sort()).toEqual([
      ['E', lineOf(trace, '/w/E") = 0')],
      ['T', lineOf(trace, '/w/T") = 0')],
    ]);
  });
});

// Review 30 (exactness), M1: under bpftrace, a file with a hard link made
// before the trace (`cp -al`, rsnapshot, `git clone --local`) was a leak when
// its one known name was unlinked, though bpftrace's own mmap record counted
// two links, the program's fstat said one was left, and `scan` of the same
// process said nothing leaked. A name the kernel counts and the trace does not
// know is kept: only a removal the trace ties to no file may have taken it,
// and then the mappings are in doubt; a later link count settles it. Real
// bundles; the truth is the program's own fstat and /proc/self/maps
// (test/fixtures/review30-hard-links-bpftrace/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review30-hard-links-bpftrace');
const DIR = '/tmp/review30h/w';

interface Truth {
  [name: string]: { nlink: number; maps: string[] };
}
interface Report {
  findings: { kind: string; path: string; address: string }[];
  summary: { mappingsInDoubt: number };
  warnings: string[];
}

function truthOf(mode: string): Truth {
  return JSON.parse(readFileSync(join(FIXTURE, `${mode}-truth.json`), 'utf8')) as Truth;
}

function analyzed(mode: string): { report: Report; status: number } {
  const json = runCli(['analyze', join(FIXTURE, mode), '--format', 'json']);
  expect(json.status, json.stderr).toBe(0);
  return { report: JSON.parse(json.stdout) as Report, status: runCli(['analyze', join(FIXTURE, mode), '--fail-on', 'error']).status };
}

describe('a mapped file with a hard link made before the trace (review 30, M1)', () => {
  it('its one known name unlinked: the link the kernel counted keeps it, as fstat said: clean, exit 0', () => {
    const trace = readFileSync(join(FIXTURE, 'kept', 'trace.txt'), 'utf8');
    expect(trace).toMatch(/ mmap ret=0x[0-9a-f]+ .* len=8192 .* nlink=2\n/);
    expect(trace).toContain(` unlink sys=unlink ret=0 dfd=-100 flags=0x0 `);
    expect(truthOf('kept').kept!.nlink).toBe(1);
    const { report, status } = analyzed('kept');
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
    expect(status).toBe(0);
  });

  it('both names unlinked: a finding where a later link count shows it, in doubt where none does; never clean', () => {
    const truth = truthOf('removed');
    // The program's word: every file lost its last name while mapped.
    for (const name of ['first', 'after', 'counted']) {
      expect(truth[name]!.nlink).toBe(0);
      expect(truth[name]!.maps).toHaveLength(1);
    }
    const lines = readFileSync(join(FIXTURE, 'removed', 'trace.txt'), 'utf8').split('\n');
    expect(lines[218]).toMatch(/ ftruncate fd=7 len=8192 ret=0 ino=\d+ dev=\d+ nlink=1$/);
    const { report, status } = analyzed('removed');
    const [range] = truth.counted!.maps[0]!.split(' ') as [string];
    expect(report.findings.map((finding) => [finding.kind, finding.path, Number.parseInt(finding.address, 16)])).toEqual([
      ['unlinked-while-mapped', `${DIR}/data/counted.seg`, Number.parseInt(range.split('-')[0]!, 16)],
    ]);
    // first and after: a snap/ name the trace ties to no file was removed; it may have been theirs.
    expect(report.summary.mappingsInDoubt).toBe(2);
    expect(report.warnings.some((warning) => warning.startsWith(`${DIR}/data/first.seg had 2 links at `) && warning.includes('in doubt'))).toBe(true);
    expect(status).toBe(3);
  });

  it('the known name unlinked, the file mapped again, the hidden name unlinked: both mappings are findings when the link count shows 0', () => {
    const truth = truthOf('remapped').remapped!;
    expect(truth.nlink).toBe(0);
    expect(truth.maps).toHaveLength(2);
    const lines = readFileSync(join(FIXTURE, 'remapped', 'trace.txt'), 'utf8').split('\n');
    expect(lines[211]).toMatch(/ ftruncate fd=3 len=8192 ret=0 ino=\d+ dev=\d+ nlink=0$/);
    const { report, status } = analyzed('remapped');
    const starts = truth.maps.map((line) => Number.parseInt(line.split('-')[0]!, 16)).sort((a, b) => a - b);
    expect(
      report.findings
        .filter((finding) => finding.kind === 'unlinked-while-mapped')
        .map((finding) => Number.parseInt(finding.address, 16))
        .sort((a, b) => a - b),
    ).toEqual(starts);
    expect(report.summary.mappingsInDoubt).toBe(0);
    expect(status).toBe(3);
  });
});

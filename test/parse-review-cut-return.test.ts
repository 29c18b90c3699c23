// A trace cut inside a return value (review 1, finding 6): the last line ends
// `unlink("…/A") = -1` or `= -`, or `mmap(…) = 0x7f5`, with no newline. It
// must be counted as unreadable, named by file and line, and never read as a
// success. The trace is a real capture of test/scenarios/cut-return.py, whose
// unlink of the mapped file really fails (EPERM); the truth is its own
// /proc/self/maps after the failure: A mapped, not deleted.
//
// Needs root, strace and /usr/bin/python3, and /tmp on a filesystem with chattr (ext4).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'cut-return.py');

interface Report {
  findings: Finding[];
  summary: { unparsedLines: number };
  unparsedSamples: { file: string; line: number; reason: string }[];
}

let dir = '';
let lines: string[] = [];
/** Indexes of the mmap of A and of the failed unlink of A in `lines`. */
let mmapAt = -1;
let unlinkAt = -1;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
  dir = mkdtempSync(join(tmpdir(), 'orphanmap-cut-return-'));
  const work = join(dir, 'w');
  const run = spawnSync('strace', ['-f', '-ttt', '-y', '-o', join(dir, 'trace.txt'), PYTHON, PROGRAM, work], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // "28018 7f535f3a5000-7f535f3a7000 rw-s 00000000 fe:00 2171434   /tmp/…/w/A": mapped, its file not deleted.
  const truth = readFileSync(join(work, 'truth.txt'), 'utf8').trim();
  expect(truth).toMatch(/ rw-s .*\/w\/A$/);
  lines = readFileSync(join(dir, 'trace.txt'), 'utf8').split('\n');
  mmapAt = lines.findIndex((line) => / mmap\(NULL, 8192, .*MAP_SHARED, \d+<[^>]*\/w\/A>, 0\) = 0x/.test(line));
  unlinkAt = lines.findIndex((line) => line.includes(`unlink("${work}/A") = -1 EPERM`));
  expect(mmapAt).toBeGreaterThan(0);
  expect(unlinkAt).toBeGreaterThan(mmapAt);
});

/** The trace's lines before `at`, then line `at` cut right after `keep` (its return value's first characters), no newline. */
function cutAfter(name: string, at: number, keep: string, rest = ''): string {
  const line = lines[at]!;
  const ret = line.lastIndexOf(' = ');
  const path = join(dir, name);
  writeFileSync(path, [...lines.slice(0, at), `${line.slice(0, ret + 3)}${keep}`].join('\n') + rest);
  return path;
}

function analyze(path: string): Report {
  const result = runCli(['analyze', path, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

function orphans(report: Report): Finding[] {
  return report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
}

describe('a trace cut inside the return value of its last line', () => {
  it('whole, the failed unlink is a failure: nothing outlived its file', () => {
    const path = join(dir, 'whole.txt');
    // The last line whole, but without its newline: still read.
    writeFileSync(path, lines.slice(0, unlinkAt + 1).join('\n'));
    const report = analyze(path);
    expect(report.summary.unparsedLines).toBe(0);
    expect(orphans(report)).toEqual([]);
  });

  for (const keep of ['-1', '-']) {
    it(`"= ${keep}": unreadable, named by file and line, not an unlink`, () => {
      const path = cutAfter(`unlink${keep}.txt`, unlinkAt, keep);
      const report = analyze(path);
      expect(orphans(report)).toEqual([]);
      expect(report.summary.unparsedLines).toBe(1);
      expect(report.unparsedSamples[0]).toMatchObject({ file: path, line: unlinkAt + 1, reason: expect.stringMatching(/cut/) });
    });
  }

  it('"= -1" in the middle of a trace (a cut line followed by more): unreadable, not an unlink', () => {
    const path = cutAfter('middle.txt', unlinkAt, '-1', `\n${lines.slice(unlinkAt + 1).join('\n')}`);
    const report = analyze(path);
    expect(orphans(report)).toEqual([]);
    expect(report.summary.unparsedLines).toBe(1);
    expect(report.unparsedSamples[0]).toMatchObject({ file: path, line: unlinkAt + 1, reason: expect.stringMatching(/cut/) });
  });

  it('an mmap cut inside its address is unreadable, not a mapping at the cut address', () => {
    const address = lines[mmapAt]!.slice(lines[mmapAt]!.lastIndexOf(' = ') + 3);
    const path = cutAfter('mmap.txt', mmapAt, address.slice(0, 7));
    const report = analyze(path);
    expect(report.summary.unparsedLines).toBe(1);
    expect(report.unparsedSamples[0]).toMatchObject({ file: path, line: mmapAt + 1, reason: expect.stringMatching(/cut/) });
  });
});

// Review 43: the names of files the trace saw and let go (Files.forgottenNames,
// review 40's F2 and review 42's G1) must not make a real leak read as clean,
// nor miss the cases they were made for.
//
// Real programs under strace -f -yy, truth from their own /proc/self/maps
// (test/scenarios/spellings-made-before.py): a symlinked directory made before
// the trace hides which names are one file, so the report must not be clean.
//  F1: a file made by a link of a name the trace did not know was taken for
//      one the kernel had named (strace -y was seen elsewhere in the trace):
//      its replacement through the alias read as clean.
//  F2: a symlink renamed over another (a deploy's swap, both made before the
//      trace) left names under it "forgotten": the removal of the mapped
//      file through the swapped symlink read as clean.
// Hand-written traces (the trace's own calls are the truth):
//  F7: a directory held open (an fd of it, for fsync) and renamed kept none
//      of its forgotten names: a needless doubt.
//  F8: RENAME_EXCHANGE of two forgotten files forgot both: a needless doubt.
//
// Needs strace and /usr/bin/python3 for the first two.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, tracePython, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'spellings-made-before.py');

interface Report {
  findings: Finding[];
  warnings: string[];
  summary: { mappingsInDoubt: number };
}

function analyze(input: string): Report {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/** The program under strace -f -yy, filtered; what /proc said it left deleted, and the report. */
function traced(mode: 'backup' | 'swap', dir: string): { deleted: { path: string }[]; report: Report } {
  const trace = tracePython(dir, 'strace', PROGRAM, [mode, dir]);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { deleted: { path: string }[] };
  return { deleted: truth.deleted, report: analyze(trace) };
}

describe('a mapped file reached through a symlinked directory made before the trace', () => {
  beforeAll(() => {
    for (const tool of ['strace', PYTHON]) requireTool(tool);
  });

  it('F1: replaced through the alias after a backup link: /proc shows it deleted, and the report is not clean', () => {
    const dir = workspace('review43-backup');
    mkdirSync(join(dir, 'real', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'real', 'sub', 'lib.so'), Buffer.alloc(65536, 'l'));
    symlinkSync('real', join(dir, 'alias'));
    const { deleted, report } = traced('backup', dir);
    expect(deleted.map((mapping) => mapping.path)).toEqual([join(dir, 'real', 'sub', 'lib.so')]);
    expect(report.findings.length + report.summary.mappingsInDoubt).toBeGreaterThan(0);
  });

  it('F2: removed through a symlink swapped by a rename: /proc shows it deleted, and the report is not clean', () => {
    const dir = workspace('review43-swap');
    for (const release of ['rel1', 'rel2']) mkdirSync(join(dir, release, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'rel2', 'sub', 'data.bin'), Buffer.alloc(65536, 'd'));
    symlinkSync('rel1', join(dir, 'cur'));
    symlinkSync('rel2', join(dir, 'cur.new'));
    const { deleted, report } = traced('swap', dir);
    expect(deleted.map((mapping) => mapping.path)).toEqual([join(dir, 'rel2', 'sub', 'data.bin')]);
    expect(report.findings.length + report.summary.mappingsInDoubt).toBeGreaterThan(0);
  });
});

describe('forgotten names follow the calls that move them', () => {
  const head = [
    '100 1796150310.000001 openat(AT_FDCWD</w>, "/m/a", O_RDONLY|O_CLOEXEC) = 3</m/a>',
    '100 1796150310.000002 mmap(NULL, 65536, PROT_READ, MAP_SHARED, 3</m/a>, 0) = 0x7f0000000000',
    '100 1796150310.000003 close(3</m/a>) = 0',
  ];

  it('F7: a directory renamed while an fd of it is open carries them: the removal by the new name is no doubt', () => {
    const dir = workspace('review43-held');
    const trace = join(dir, 'trace.txt');
    const lines = [
      '100 1796150310.000001 openat(AT_FDCWD</w>, "/p/01A/chunks/000001", O_RDONLY|O_CLOEXEC) = 3</p/01A/chunks/000001>',
      '100 1796150310.000002 mmap(NULL, 65536, PROT_READ, MAP_SHARED, 3</p/01A/chunks/000001>, 0) = 0x7f0000000000',
      '100 1796150310.000003 close(3</p/01A/chunks/000001>) = 0',
      '100 1796150310.000004 openat(AT_FDCWD</w>, "/p/01B.tmp/chunks/000001", O_WRONLY|O_CREAT|O_CLOEXEC, 0644) = 3</p/01B.tmp/chunks/000001>',
      '100 1796150310.000005 close(3</p/01B.tmp/chunks/000001>) = 0',
      '100 1796150310.000006 openat(AT_FDCWD</w>, "/p/01B.tmp", O_RDONLY|O_DIRECTORY|O_CLOEXEC) = 4</p/01B.tmp>',
      '100 1796150310.000007 rename("/p/01B.tmp", "/p/01B") = 0',
      '100 1796150310.000008 close(4</p/01B>) = 0',
      '100 1796150310.000009 unlink("/p/01B/chunks/000001") = 0',
      '',
    ];
    writeFileSync(trace, lines.join('\n'));
    const report = analyze(trace);
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
  });

  it('F8: an exchange of two keeps both: the removal of either is no doubt', () => {
    const dir = workspace('review43-exchange');
    const trace = join(dir, 'trace.txt');
    const lines = [
      ...head,
      '100 1796150310.000004 openat(AT_FDCWD</w>, "a", O_WRONLY|O_CREAT|O_CLOEXEC, 0644) = 3</w/a>',
      '100 1796150310.000005 close(3</w/a>) = 0',
      '100 1796150310.000006 openat(AT_FDCWD</w>, "b", O_WRONLY|O_CREAT|O_CLOEXEC, 0644) = 3</w/b>',
      '100 1796150310.000007 close(3</w/b>) = 0',
      '100 1796150310.000008 renameat2(AT_FDCWD</w>, "a", AT_FDCWD</w>, "b", RENAME_EXCHANGE) = 0',
      '100 1796150310.000009 unlink("a") = 0',
      '100 1796150310.000010 unlink("b") = 0',
      '',
    ];
    writeFileSync(trace, lines.join('\n'));
    const report = analyze(trace);
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
  });
});

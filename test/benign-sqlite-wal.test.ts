// SQLite in WAL mode maps its shared-memory index DB-shm in 32 KiB regions;
// the last connection to close unlinks DB-shm, unmaps each region, then
// deletes DB-wal (sqlite3WalClose). Every normal close of a WAL database was
// reported as an error. It is benign (info), but only as that sequence: a
// DB-shm removed by another process (rm), or by the program itself while the
// connection is open, stays mapped "(deleted)" for as long as the connection
// lives, and stays an error.
// Truth: the program's own /proc/self/maps, read while each connection is open
// and after it closed (test/scenarios/sqlite-wal-close.py).
//
// Needs strace and /usr/bin/python3 (its sqlite3 module is the real SQLite).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'sqlite-wal-close.py');

interface Seen {
  address: string;
  bytes: number;
  deleted: boolean;
}

interface ProgramRecord {
  pid: number;
  closed: { shm: string; open: Seen[]; afterClose: Seen[]; deletedAfterClose: unknown[] };
  cleaned: { shm: string; rmPid: number; open: Seen[]; afterClose: Seen[] };
  deleted: { shm: string; open: Seen[]; afterClose: Seen[] };
}

interface Capture {
  record: ProgramRecord;
  findings: Finding[];
}

/**
 * Runs the program under strace with these flags, writing to `output` in a
 * workspace of its own, and analyzes what strace wrote: the file, or for
 * -ff the directory of one file per thread.
 */
function captured(name: string, flags: string[], output: string): Capture {
  const dir = workspace(`sqlite-wal-${name}`);
  const recordFile = join(dir, 'record.json');
  const out = join(dir, output);
  mkdirSync(dirname(out), { recursive: true });
  const run = spawnSync('strace', [...flags, '-o', out, PYTHON, PROGRAM, recordFile, join(dir, 'w')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ProgramRecord;
  const result = runCli(['analyze', flags.includes('-ff') ? dirname(out) : out, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return { record, findings: (JSON.parse(result.stdout) as { findings: Finding[] }).findings };
}

const FORMS: [string, string, string[], string][] = [
  ['strace -f -ttt -y, filtered', 'f', ['-f', '-ttt', '-y', '-e', `trace=${STRACE_FILTER}`], 'trace.txt'],
  // One file per thread, no fd paths, every call: the sequence is read from the merged files.
  ['strace -ff -ttt, every call', 'ff', ['-ff', '-ttt'], 'ff/trace'],
];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

function bySeen(seen: Seen[]): string[] {
  return seen.map((region) => `${region.address} ${region.bytes}`).sort();
}

function byFinding(findings: Finding[]): string[] {
  return findings.map((finding) => `${finding.address} ${finding.length}`).sort();
}

describe.each(FORMS)('a WAL database under %s', (_form, name, flags, output) => {
  let capture: Capture;

  beforeAll(() => {
    capture = captured(name, flags, output);
  }, 120_000);

  it('closed as usual: each region of DB-shm is benign, unlinked and unmapped by its own process, as its maps showed', () => {
    const { record, findings } = capture;
    // Mapped, not deleted, while open; two regions, so that each munmap of the close is seen.
    expect(record.closed.open.map((region) => region.deleted)).toEqual([false, false]);
    expect(record.closed.afterClose).toEqual([]);
    expect(record.closed.deletedAfterClose).toEqual([]);
    const mine = findings.filter((finding) => finding.path === record.closed.shm);
    expect(byFinding(mine)).toEqual(bySeen(record.closed.open));
    for (const finding of mine) {
      expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', pid: record.pid, severity: 'info', benign: 'SQLite WAL index at close', resolution: 'unmapped' });
      expect(finding.unlinkedAt?.tid).toBe(record.pid);
    }
  });

  it('removed by another process while the connection is open: an error, as its maps showed it deleted', () => {
    const { record, findings } = capture;
    expect(record.cleaned.open.length).toBeGreaterThan(0);
    expect(record.cleaned.open.every((region) => region.deleted)).toBe(true);
    expect(record.cleaned.afterClose).toEqual([]);
    const mine = findings.filter((finding) => finding.path === record.cleaned.shm);
    expect(byFinding(mine)).toEqual(bySeen(record.cleaned.open));
    for (const finding of mine) {
      expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', pid: record.pid, severity: 'error', resolution: 'unmapped' });
      expect(finding.benign).toBeUndefined();
      expect(finding.unlinkedAt?.tid).toBe(record.cleaned.rmPid);
    }
  });

  it('removed by the program itself while the connection is open: an error, as its maps showed it deleted', () => {
    const { record, findings } = capture;
    expect(record.deleted.open.length).toBeGreaterThan(0);
    expect(record.deleted.open.every((region) => region.deleted)).toBe(true);
    expect(record.deleted.afterClose).toEqual([]);
    const mine = findings.filter((finding) => finding.path === record.deleted.shm);
    expect(byFinding(mine)).toEqual(bySeen(record.deleted.open));
    for (const finding of mine) {
      expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', pid: record.pid, severity: 'error', resolution: 'unmapped' });
      expect(finding.benign).toBeUndefined();
      expect(finding.unlinkedAt?.tid).toBe(record.pid);
    }
  });
});

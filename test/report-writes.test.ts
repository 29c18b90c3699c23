// Reports are never lost silently (issue #11, item 7): every failed or short
// write of a report exits 2 naming where it went, on stdout and with --out,
// for analyze (whole reports and NDJSON) and diff; --out is replaced whole or
// not at all (temporary file, fsync, rename), so a failed run leaves the
// previous report as it was. A full disk is a real one: a small tmpfs (root).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, runCli } from './support/tools.js';

const LEAKY = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
const FIXED = join(REPO, 'traces', 'fixed', 'trace.txt');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-writes-'));
const mounts: string[] = [];

/** A 1 MiB file system, filled so that `room` bytes are left (0: none). */
function smallDisk(name: string, room: number): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`this test mounts a tmpfs and needs root: ${mounted.stderr}`);
  mounts.push(dir);
  // tmpfs counts whole pages: fill all but `room` bytes' worth of them.
  const free = 1024 * 1024 - Math.ceil(room / 4096) * 4096;
  writeFileSync(join(dir, 'filler'), Buffer.alloc(free));
  return dir;
}

let jsonReport: string;

beforeAll(() => {
  const result = runCli(['analyze', LEAKY, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  jsonReport = result.stdout;
  // The report must not fit in the room the disks leave.
  expect(jsonReport.length).toBeGreaterThan(64 * 1024);
});

afterAll(() => {
  for (const dir of mounts) spawnSync('umount', [dir]);
  rmSync(scratch, { recursive: true, force: true });
});

/** The CLI with stdout sent to a file by the shell, as `orphanmap … > FILE` does. */
function cliToFile(args: string[], file: string): { status: number; stderr: string } {
  const quoted = [process.execPath, CLI, ...args].map((arg) => `'${arg}'`).join(' ');
  const result = spawnSync('sh', ['-c', `${quoted} > '${file}'`], { encoding: 'utf8' });
  return { status: result.status ?? -1, stderr: result.stderr };
}

function names(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name !== 'filler')
    .sort();
}

describe('stdout', () => {
  it('redirected to a full disk: exit 2 and "stdout" with the reason, not exit 0 with a cut report', () => {
    const disk = smallDisk('stdout-full', 16 * 1024);
    const result = cliToFile(['analyze', LEAKY, '--format', 'json'], join(disk, 'report.json'));
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('orphanmap: stdout: error: cannot write the report: no space left on the device\n');
  });

  it('the same for NDJSON, written as findings are decided', () => {
    const disk = smallDisk('stdout-ndjson', 4 * 1024);
    const result = cliToFile(['analyze', LEAKY, '--format', 'ndjson'], join(disk, 'findings.ndjson'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('orphanmap: stdout: error: cannot write the report: no space left on the device');
  });

  it('and for diff', () => {
    const disk = smallDisk('stdout-diff', 0);
    const result = cliToFile(['diff', LEAKY, FIXED, '--format', 'json'], join(disk, 'diff.json'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('orphanmap: stdout: error: cannot write the report: no space left on the device');
  });

  it('written whole when there is room', () => {
    const file = join(scratch, 'whole.json');
    expect(cliToFile(['analyze', LEAKY, '--format', 'json'], file).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(jsonReport);
  });
});

describe('--out', () => {
  it('on a full disk: exit 2 naming the path, no stack trace, and no file, partial or temporary, left behind', () => {
    const disk = smallDisk('out-full', 16 * 1024);
    const out = join(disk, 'report.json');
    const result = runCli(['analyze', LEAKY, '--format', 'json', '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${out}: error: cannot write the report: no space left on the device\n`);
    expect(names(disk)).toEqual([]);
  });

  it('on a full disk, over an earlier report: the earlier report stays as it was', () => {
    const disk = smallDisk('out-keep', 16 * 1024);
    const out = join(disk, 'report.txt');
    writeFileSync(out, 'the report of yesterday\n');
    const result = runCli(['analyze', LEAKY, '--format', 'json', '--out', out]);
    expect(result.status).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('the report of yesterday\n');
    expect(names(disk)).toEqual(['report.txt']);
  });

  it('diff --out on a full disk: exit 2 naming the path', () => {
    const disk = smallDisk('diff-out', 0);
    const out = join(disk, 'diff.json');
    const result = runCli(['diff', LEAKY, FIXED, '--format', 'json', '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${out}: error: cannot write the report: no space left on the device\n`);
    expect(names(disk)).toEqual([]);
  });

  it('/proc/version: exit 2 naming it, without a Node stack trace', () => {
    const result = runCli(['analyze', LEAKY, '--out', '/proc/version']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^orphanmap: \/proc\/version: error: cannot write the report: .+\n$/);
    expect(result.stderr).not.toMatch(/Unhandled|node:events|at /);
  });

  it('in a directory that does not exist: exit 2 before anything is read', () => {
    const out = join(scratch, 'no-such-dir', 'r.txt');
    const result = runCli(['analyze', join(scratch, 'also-missing.txt'), '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${out}: error: cannot write the report: no such directory\n`);
  });

  it('a run whose input is missing leaves the previous report as it was', () => {
    const dir = join(scratch, 'keep');
    mkdirSync(dir);
    const out = join(dir, 'report.txt');
    writeFileSync(out, 'the previous report\n');
    const result = runCli(['analyze', join(scratch, 'missing.txt'), '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${join(scratch, 'missing.txt')}: error: no such file\n`);
    expect(readFileSync(out, 'utf8')).toBe('the previous report\n');
    expect(readdirSync(dir)).toEqual(['report.txt']);
  });

  it('a diff whose input is not a trace leaves the previous report as it was', () => {
    const dir = join(scratch, 'keep-diff');
    mkdirSync(dir);
    const out = join(dir, 'diff.txt');
    writeFileSync(out, 'the previous diff\n');
    expect(runCli(['diff', LEAKY, '/etc/passwd', '--out', out]).status).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('the previous diff\n');
    expect(readdirSync(dir)).toEqual(['diff.txt']);
  });

  it('replaces the file whole, keeping its permissions', () => {
    const out = join(scratch, 'replaced.json');
    writeFileSync(out, 'old');
    chmodSync(out, 0o640);
    const result = runCli(['analyze', LEAKY, '--format', 'json', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(jsonReport);
    expect(statSync(out).mode & 0o777).toBe(0o640);
  });

  it('/dev/null is written to, not replaced', () => {
    const before = statSync('/dev/null');
    expect(runCli(['analyze', LEAKY, '--out', '/dev/null']).status).toBe(0);
    const after = statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.ino).toBe(before.ino);
  });
});

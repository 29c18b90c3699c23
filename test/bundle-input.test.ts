// Bundles are input too (issue #11, items 5-6): one received from another host
// is analysed as root, so its meta.json and its files are untrusted. Each case
// starts from a real bundle (traces/launched-late-snapshot) and breaks one thing.
import { cpSync, mkdtempSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');

function bundleCopy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-bundle-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  return dir;
}

function withMeta(change: (meta: Record<string, unknown>) => unknown): string {
  const dir = bundleCopy();
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  const replaced = change(meta);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(replaced === undefined ? meta : replaced));
  return dir;
}

describe('meta.json that does not hold what it should', () => {
  const cases: [string, (meta: Record<string, unknown>) => unknown, string][] = [
    ['null', () => null, '(top level)'],
    ['threads: 5', (meta) => void (meta.threads = 5), 'threads'],
    ['threads: [null]', (meta) => void (meta.threads = [null]), 'threads[0]'],
    ['traceFiles: "x"', (meta) => void (meta.traceFiles = 'x'), 'traceFiles'],
    ['traceFiles: [5]', (meta) => void (meta.traceFiles = [5]), 'traceFiles[0]'],
    ['pid: "1"', (meta) => void (meta.pid = '1'), 'pid'],
    ['lostEvents: -3', (meta) => void (meta.lostEvents = -3), 'lostEvents'],
  ];

  it.each(cases)('%s: exit 2 naming the field, through analyze and diff', (_, change, field) => {
    const dir = withMeta(change);
    for (const args of [
      ['analyze', dir],
      ['diff', dir, REAL],
    ]) {
      const result = runCli(args);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(join(dir, 'meta.json'));
      expect(result.stderr).toContain(`"${field}"`);
      expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    }
  });
});

describe('files outside the bundle are never read', () => {
  it.each([['/etc/passwd'], ['../../../../etc/passwd'], ['sub/trace.txt']])('traceFiles naming %s: exit 2, nothing quoted', (name) => {
    const dir = withMeta((meta) => void (meta.traceFiles = [name]));
    const result = runCli(['analyze', dir, '--format', 'json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('traceFiles[0]');
    expect(result.stdout + result.stderr).not.toContain('root:x:0:0');
  });

  it('a trace.txt that is a symbolic link to /etc/passwd: exit 2, nothing quoted', () => {
    const dir = bundleCopy();
    unlinkSync(join(dir, 'trace.txt'));
    symlinkSync('/etc/passwd', join(dir, 'trace.txt'));
    const result = runCli(['analyze', dir, '--format', 'json']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/trace\.txt.*symbolic link/);
    expect(result.stdout + result.stderr).not.toContain('root:x:0:0');
  });

  it('a maps-start.txt that is a symbolic link: exit 2', () => {
    const dir = bundleCopy();
    unlinkSync(join(dir, 'maps-start.txt'));
    symlinkSync('/proc/self/maps', join(dir, 'maps-start.txt'));
    const result = runCli(['analyze', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/maps-start\.txt.*symbolic link/);
  });
});

describe('what a bundle does not say is said', () => {
  it('a meta.json that the capture never finished (no end time, no exit reason) is warned about', () => {
    const dir = withMeta((meta) => {
      meta.endTime = null;
      meta.exitReason = null;
    });
    const report = JSON.parse(runCli(['analyze', dir, '--format', 'json']).stdout) as { warnings: string[] };
    expect(report.warnings.join('\n')).toMatch(/did not finish/);
  });

  it('a garbage maps-end.txt is named and not used to judge findings', () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'maps-end.txt'), 'this is not\n/proc/PID/maps\nat all\n');
    const report = JSON.parse(runCli(['analyze', dir, '--format', 'json']).stdout) as { warnings: string[]; findings: { confirmedByMaps: boolean | null }[] };
    expect(report.warnings.join('\n')).toMatch(/maps-end\.txt: 3 of 3 lines are not/);
    for (const finding of report.findings) expect(finding.confirmedByMaps).toBeNull();
  });
});

describe('two bundles in one run', () => {
  it('analyze refuses the second, naming both (each bundle is one capture, with its own pids and maps)', () => {
    const second = bundleCopy();
    const result = runCli(['analyze', REAL, second]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${second}: error: is a second capture bundle (the first is ${REAL})`);
    expect(result.stdout).toBe('');
  });
});

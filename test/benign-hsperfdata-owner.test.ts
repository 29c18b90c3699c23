// A JVM's performance-data file (/tmp/hsperfdata_<user>/<pid>) is benign when
// the JVM unlinks it at its own exit. Removed by another process while the JVM
// runs (a /tmp cleaner), it is a mapping /proc shows "(deleted)" for as long
// as the JVM lives, and jstat stops seeing it: a finding like any other (a
// review found it reported as benign, with a note saying the JVM unlinked it).
// Truth: the JVM's /proc/PID/maps, read by the driver while the JVM runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const DRIVER = join(import.meta.dirname, 'scenarios', 'hsperfdata-cleaner.py');

interface Truth {
  cleaned: { javaPid: number; rmPid: number; perfPath: string; deletedWhileAlive: boolean };
  exited: { javaPid: number; perfPath: string; mappedWhileAlive: boolean; goneAfterExit: boolean };
}

let truth: Truth;
let findings: Finding[];

beforeAll(() => {
  for (const tool of ['strace', 'java', 'javac', 'python3']) requireTool(tool);
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-hsperf-'));
  writeFileSync(
    join(dir, 'WaitForLine.java'),
    'public class WaitForLine { public static void main(String[] a) throws Exception { System.out.println("ready"); System.out.flush(); System.in.read(); } }\n',
  );
  execFileSync('javac', ['-d', dir, join(dir, 'WaitForLine.java')], { stdio: 'pipe' });
  const trace = join(dir, 'trace.txt');
  execFileSync('strace', ['-f', '--seccomp-bpf', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, 'python3', DRIVER, dir, join(dir, 'truth.json')], { stdio: 'pipe' });
  truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
}, 120_000);

describe("a JVM's hsperfdata file", () => {
  it('removed by another process while the JVM runs: an error, unlinked by that process, as /proc shows it deleted', () => {
    expect(truth.cleaned.deletedWhileAlive).toBe(true);
    const mine = findings.filter((finding) => finding.path === truth.cleaned.perfPath);
    expect(mine.length).toBeGreaterThan(0);
    for (const finding of mine) {
      expect(finding.kind).toBe('unlinked-while-mapped');
      expect(finding.pid).toBe(truth.cleaned.javaPid);
      expect(finding.unlinkedAt?.tid).toBe(truth.cleaned.rmPid);
      expect(finding.severity).toBe('error');
      expect(finding.benign).toBeUndefined();
      expect(finding.note ?? '').not.toMatch(/unlinks it at exit/);
    }
  });

  it('unlinked by the JVM at its own exit: benign, as before', () => {
    expect(truth.exited.mappedWhileAlive).toBe(true);
    expect(truth.exited.goneAfterExit).toBe(true);
    const mine = findings.filter((finding) => finding.path === truth.exited.perfPath);
    expect(mine.length).toBeGreaterThan(0);
    for (const finding of mine) {
      expect(finding.pid).toBe(truth.exited.javaPid);
      expect(finding.severity).toBe('info');
      expect(finding.benign).toBe('JVM hsperfdata at exit');
    }
  });
});

// Review 1, D1: a capture attached to a process (`capture --pid`) while
// OTHER processes replace or remove files it maps (`sed -i`, a rename over
// the name, `rm`). The trace holds none of those calls; /proc/PID/maps, and
// the bundle's own maps-end.txt, show the mappings "(deleted)". The report
// said "no mapping outlived its file", 0 findings, and `--fail-on error`
// passed, with only a warning naming them. Each is now a finding, in every
// format and in `report --out`.
//
// The truth is the program's own /proc/self/maps, read while it lives
// (test/scenarios/removed-by-others.py); the capture is stopped with SIGINT
// while it lives, so maps-end.txt is read from the live process too.
//
// Needs root (strace attaches to a process that is not its child) and strace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { attachStrace, PYTHON } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'removed-by-others.py');

interface Truth {
  deleted: { address: string; bytes: number; path: string }[];
}

let work: string;
let files: string;
let bundle: string;
let pid: number;
let truth: Truth;
let holder: ChildProcess | null = null;

/** A tool run outside the trace (this test process is not traced), which must succeed. */
function outside(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: files });
  expect(result.status, `${command} ${args.join(' ')}: ${result.stderr}`).toBe(0);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('test/maps-end-removed-by-others.test.ts must run as root: strace attaches to a process that is not its child');
  requireTool('strace');
  requireTool('sed');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-removed-by-others-'));
  files = join(work, 'files');
  bundle = join(work, 'bundle');
  spawnSync('mkdir', [files]);
  holder = spawn(PYTHON, [PROGRAM, files, join(work, 'truth.json')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  pid = holder.pid!;
  const capture = await attachStrace(pid, bundle);
  holder.stdin!.write('go\n');
  expect(await next()).toBe('mapped');
  outside('sed', ['-i', 's/a/b/', 'sed.dat']);
  outside(PYTHON, ['-c', "import os; open('replaced.tmp', 'w').write('x'); os.replace('replaced.tmp', 'replaced.dat')"]);
  unlinkSync(join(files, 'removed.dat'));
  outside('rm', ['new.dat']);
  holder.stdin!.write('maps\n');
  expect(await next()).toBe('done');
  // Stopped while the program lives: maps-end.txt is its /proc/PID/maps now.
  const result = await capture.stop();
  expect(result.code, result.stderr).toBe(130);
  holder.stdin!.end();
  truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
}, 60_000);

afterAll(() => {
  holder?.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** "PATH ADDRESS" of each of the program's own deleted mappings, sorted. */
const truthKeys = () => truth.deleted.map((mapping) => `${mapping.path} ${mapping.address}`).sort();
const findingKeys = (findings: readonly Pick<Finding, 'path' | 'address'>[]) => findings.map((finding) => `${finding.path} ${finding.address}`).sort();

describe('files mapped by an attached process and removed by other processes', () => {
  it("the program's own maps show the four files deleted, the untouched one not", () => {
    expect(truth.deleted.map((mapping) => mapping.path).sort()).toEqual(['new.dat', 'removed.dat', 'replaced.dat', 'sed.dat'].map((name) => join(files, name)));
  });

  it('analyze --format json: one still-mapped error per deleted mapping, by address and path, unlink not in the trace, confirmed by maps-end.txt, and no warning left for them', () => {
    const analyzed = runCli(['analyze', bundle, '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout) as { summary: { findings: Record<string, number> }; findings: Finding[]; warnings: string[] };
    expect(findingKeys(report.findings)).toEqual(truthKeys());
    expect(report.summary.findings['unlinked-while-mapped']).toBe(4);
    for (const finding of report.findings) {
      expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', severity: 'error', pid, resolution: 'still-mapped', confirmedByMaps: true, unlinkedAt: null });
      expect(finding.note).toContain('after the trace ended');
    }
    // Where each was mapped: the trace's mmap for the one made during the capture, maps-start.txt's line for the others.
    const mappedIn = Object.fromEntries(report.findings.map((finding) => [finding.path.slice(files.length + 1), finding.mappedAt!.file]));
    expect(mappedIn).toEqual({
      'new.dat': join(bundle, 'trace.txt'),
      'removed.dat': join(bundle, 'maps-start.txt'),
      'replaced.dat': join(bundle, 'maps-start.txt'),
      'sed.dat': join(bundle, 'maps-start.txt'),
    });
    expect(report.warnings.filter((warning) => warning.includes('no finding explains'))).toEqual([]);
  });

  it('analyze --fail-on error exits 3, and the headline names the four mappings, not "no mapping outlived its file"', () => {
    const analyzed = runCli(['analyze', bundle, '--fail-on', 'error']);
    expect(analyzed.status, analyzed.stderr).toBe(3);
    const headline = analyzed.stdout.split('\n')[0]!;
    expect(headline).not.toContain('no mapping outlived its file');
    expect(headline).toMatch(new RegExp(`^orphanmap: 4 mappings outlived their files in process ${pid} \\(`));
    expect(analyzed.stdout).toContain('  findings: 4 unlinked-while-mapped (error)');
  });

  for (const format of ['markdown', 'jira'] as const) {
    it(`analyze --format ${format}: the same headline`, () => {
      const analyzed = runCli(['analyze', bundle, '--format', format]);
      expect(analyzed.status, analyzed.stderr).toBe(0);
      expect(analyzed.stdout).toContain(`4 mappings outlived their files in process ${pid}`);
      expect(analyzed.stdout).not.toContain('no mapping outlived its file');
    });
  }

  it('analyze --format ndjson: the last line per id is the same four findings, still mapped', () => {
    const analyzed = runCli(['analyze', bundle, '--format', 'ndjson']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const last = new Map<string, Finding>();
    for (const line of analyzed.stdout.split('\n').filter((text) => text !== '')) {
      const finding = JSON.parse(line) as Finding;
      last.set(finding.id, finding);
    }
    expect(findingKeys([...last.values()])).toEqual(truthKeys());
    for (const finding of last.values()) expect(finding).toMatchObject({ severity: 'error', resolution: 'still-mapped', confirmedByMaps: true });
  });

  it('report --out: report.json holds the four findings, and report.md and the run say the same headline', () => {
    const out = join(work, 'evidence');
    const written = runCli(['report', bundle, '--out', out]);
    expect(written.status, written.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { findings: Finding[] };
    expect(findingKeys(report.findings)).toEqual(truthKeys());
    for (const text of [written.stderr, readFileSync(join(out, 'report.md'), 'utf8')]) expect(text).toContain(`4 mappings outlived their files in process ${pid}`);
  });
});

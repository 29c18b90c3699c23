// Review 14, M1: a relative unlink after an fchdir that the capture's filter
// left out was resolved against the last working directory the trace knew,
// named no file, and the leak of the file it removed was missed with no word.
// Now, when an unlink or rename of a relative name resolves to a name no
// traced call named while a file with the same last component is mapped in
// that process, a warning says so, names both, and says to keep chdir,fchdir
// in -e trace=. A relative unlink that resolves to a known file says nothing.
//
// The truth is what test/scenarios/grown-remap.py (mode fchdir-unlink) read
// from its own /proc/self/maps before it exited: sub/c.dat (unlinked as
// "c.dat" after fchdir into sub), sub/d.old (renamed from "d.dat", then
// unlinked, after the fchdir) and k.dat (unlinked as "k.dat" from the
// directory the trace knows), all mapped and deleted. Under real strace,
// filtered as users do (a short list, and %file,%memory, neither with fchdir)
// and unfiltered. And mode dirfd-unlink: an unlinkat relative to a directory
// fd opened before strace -p attached, without -y (the fd names no directory
// the trace knows) and with it.
//
// Needs strace, /usr/bin/python3, and root (strace -p attaches to a process that is not its child).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, underStraceAttached } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'grown-remap.py');
const PAGE = 4096;

interface Truth {
  pid: number;
  live: { path: string; deleted: boolean }[];
  leaks: { address: string; bytes: number; path: string }[];
}

interface Report {
  findings: Finding[];
  warnings: string[];
}

/** grown-remap.py fchdir-unlink under `strace -f -ttt -y [filter]`: its truth, the trace and orphanmap's JSON report of it. */
function traced(filter: string[]): { work: string; input: string; truth: Truth; report: Report } {
  const dir = workspace('misplaced');
  const input = join(dir, 'trace.txt');
  const work = join(dir, 'w');
  const run = spawnSync('strace', ['-f', '-ttt', '-y', ...filter, '-o', input, PYTHON, PROGRAM, work, 'fchdir-unlink'], { encoding: 'utf8', timeout: 50_000 });
  expect(run.status, run.stderr).toBe(0);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return { work, input, truth: JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth, report: JSON.parse(result.stdout) as Report };
}

const seen = (findings: Finding[]) =>
  findings
    .filter((finding) => finding.kind === 'unlinked-while-mapped')
    .map((finding) => `${finding.severity} pid ${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE} ${finding.path}`)
    .sort();
const expected = (truth: Truth, leaks = truth.leaks) => leaks.map((leak) => `error pid ${truth.pid} ${leak.address} ${leak.bytes} ${leak.path}`).sort();

/** The warning about relative names that named nothing while a file with their last component was mapped. */
const misplacedWarnings = (report: Report) => report.warnings.filter((warning) => warning.includes('a file with the same last component'));

/** The number of the first line of the trace that matches `pattern`. */
function lineOf(input: string, pattern: RegExp): number {
  return (
    readFileSync(input, 'utf8')
      .split('\n')
      .findIndex((line) => pattern.test(line)) + 1
  );
}

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

describe('M1: a relative unlink and rename after an fchdir the filter left out', () => {
  it.each([
    ['openat,mmap,munmap,ftruncate,rename,unlink', 'openat,mmap,munmap,ftruncate,rename,unlink'],
    ['%file,%memory', '%file,%memory'],
  ])('strace filtered to %s: the leaks of sub/ are missed, and a warning names the call, the name and the mapped file it may be; the relative unlink of a known file is no part of it', (_, filter) => {
    const { work, input, truth, report } = traced(['-e', `trace=${filter}`]);
    const inSub = truth.leaks.filter((leak) => leak.path.startsWith(`${join(work, 'sub')}/`));
    expect(inSub.map((leak) => leak.path).sort()).toEqual([join(work, 'sub', 'c.dat'), join(work, 'sub', 'd.old')]);
    // What the trace can show: k.dat, unlinked by a relative name the trace resolves right.
    const shown = truth.leaks.filter((leak) => !inSub.includes(leak));
    expect(shown.map((leak) => leak.path)).toEqual([join(work, 'k.dat')]);
    expect(seen(report.findings)).toEqual(expected(truth, shown));
    const warnings = misplacedWarnings(report);
    expect(warnings).toHaveLength(1);
    const line = lineOf(input, /unlink\("c\.dat"\)/);
    expect(line).toBeGreaterThan(0);
    // The unlink of c.dat, and the rename of d.dat: two calls, one warning. The unlink of k.dat named a known file,
    // though sub/k.dat, mapped, has the same last component: no part of it.
    expect(truth.live.some((mapping) => mapping.path === join(work, 'sub', 'k.dat') && !mapping.deleted)).toBe(true);
    expect(warnings[0]).toBe(
      `unlink of the relative name c.dat at ${input}:${line} (process ${truth.pid}) resolved to ${join(work, 'c.dat')}, which no call in the trace named, ` +
        `while ${join(work, 'sub', 'c.dat')}, a file with the same last component, was mapped in that process (and 1 more like it): ` +
        'if the call unlinked that file, a mapping that outlived it may be missed, so the mappings live then are in doubt; the working directory the trace knows may not be the one the process was in: ' +
        'a capture filter without chdir and fchdir (-e trace=%file,%memory has no fchdir), or a working directory the trace did not show, may have hidden the real directory. ' +
        'Keep chdir,fchdir in -e trace=, or capture with orphanmap capture. ' +
        'Or the names went through a symlink or a bind mount made before the trace, which no capture shows (a file opened as b/f and unlinked as a/f, b bound to a)',
    );
  });

  it('--redact: the paths the warning names are hashed whole, none left in clear', () => {
    const { work, input } = traced(['-e', 'trace=openat,mmap,munmap,ftruncate,rename,unlink']);
    const result = runCli(['analyze', input, '--format', 'json', '--redact']);
    expect(result.status, result.stderr).toBe(0);
    const warnings = misplacedWarnings(JSON.parse(result.stdout) as Report);
    expect(warnings).toHaveLength(1);
    for (const clear of [work, 'c.dat', 'sub/']) expect(warnings[0]).not.toContain(clear);
    expect(warnings[0]).toMatch(/^unlink of the relative name \S+ at \S+ \(process \d+\) resolved to \S+, which no call/);
  });

  it('unfiltered (fchdir in the trace): every leak /proc shows is found, and no warning about relative names', () => {
    const { truth, report } = traced([]);
    expect(truth.leaks).toHaveLength(3);
    expect(seen(report.findings)).toEqual(expected(truth));
    expect(misplacedWarnings(report)).toEqual([]);
  });
});

/** The processes a test started: none outlives it. */
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * grown-remap.py dirfd-unlink, with `strace -p PID -f -ttt [flags]` attached
 * once it opened its directory fd (so the trace never shows that open), and
 * stopped while the program lives: its truth and orphanmap's report.
 */
async function attached(flags: string[]): Promise<{ work: string; input: string; truth: Truth; report: Report }> {
  const dir = workspace('misplaced-fd');
  const input = join(dir, 'trace.txt');
  const work = join(dir, 'w');
  const program = spawn(PYTHON, [PROGRAM, work, 'dirfd-unlink'], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  await underStraceAttached(program.pid!, flags, input, started, async () => {
    program.stdin!.write('go\n');
    expect(await next()).toBe('done');
  });
  program.stdin!.end();
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return { work, input, truth: JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth, report: JSON.parse(result.stdout) as Report };
}

describe('M1: unlinkat relative to a directory fd the trace never opened', () => {
  it('strace -p without -y: the leak of sub/e.dat is missed, and the warning names the fd, the name and the mapped file it may be', async () => {
    const { work, input, truth, report } = await attached([]);
    expect(truth.leaks.map((leak) => leak.path)).toEqual([join(work, 'sub', 'e.dat')]);
    expect(seen(report.findings)).toEqual([]);
    const line = lineOf(input, /unlinkat\(\d+, "e\.dat", 0\)/);
    expect(line).toBeGreaterThan(0);
    const fd = /unlinkat\((\d+),/.exec(readFileSync(input, 'utf8').split('\n')[line - 1]!)![1];
    // No cwd and no -y: the open was by the relative name sub/e.dat, and that is the name the trace knows.
    expect(misplacedWarnings(report)).toEqual([
      `unlink of the relative name e.dat at ${input}:${line} (process ${truth.pid}) resolved to e.dat, which no call in the trace named, ` +
        'while sub/e.dat, a file with the same last component, was mapped in that process: if the call unlinked that file, a mapping that outlived it may be missed, so the mappings live then are in doubt; ' +
        `it is relative to fd ${fd}, which no call in the trace opened and no -y annotation names: the real directory is not known. Capture with -y, or keep the directory's open in -e trace=`,
    ]);
  }, 40_000);

  it('strace -p with -y: the annotation names the directory, the leak is the one /proc shows, and no warning', async () => {
    const { truth, report } = await attached(['-y']);
    expect(truth.leaks).toHaveLength(1);
    expect(seen(report.findings)).toEqual(expected(truth));
    expect(misplacedWarnings(report)).toEqual([]);
  }, 40_000);
});

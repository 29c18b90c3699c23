// Review 2, D5: a program replaced while it runs (a relink: ld unlinks its
// output; a package upgrade renames over it). The kernel maps a program at
// execve and no trace shows an mmap of it, so the engine held no mapping:
// /proc showed `…/app (deleted)`, orphanmap nothing, and said nothing. Now a
// warning names the process, the program's path, its execve and the call that
// removed its last name; a capture attached to the process that runs it has
// its addresses from maps-start.txt, and makes findings of them. The truth is
// each process's /proc/PID/maps, read while it lives
// (test/scenarios/replaced-program.sh: a copy of /bin/sleep, and a copy of
// /bin/sh to attach to).
//
// Needs strace (run as root: --pid attaches to a process that is not its child).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited } from './scenarios/harness.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCRIPT = join(REPO, 'test', 'scenarios', 'replaced-program.sh');
const PAGE = 4096;

interface Report {
  findings: Finding[];
  warnings: string[];
}

/** A process's lines of `path (deleted)` in the maps it read, as `pid address bytes path`. */
function deletedLines(dir: string, name: 'prog' | 'shell'): string[] {
  const pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim());
  const path = join(dir, name);
  return readFileSync(join(dir, `${name}.maps`), 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(` ${path} (deleted)`))
    .map((line) => {
      const [start, end] = line
        .split(' ')[0]!
        .split('-')
        .map((hex) => Number.parseInt(hex, 16)) as [number, number];
      return `${pid} 0x${start.toString(16)} ${end - start} ${path}`;
    });
}

function analyze(input: string): Report {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/**
 * The 1-based number of the one trace line with every text. A call is named
 * by the line it starts on: strace splits it into `<unfinished ...>` and
 * `<... resumed>` lines when another process's call comes between.
 */
function lineWith(trace: string, ...texts: string[]): number {
  const found = trace.split('\n').flatMap((line, index) => (texts.every((text) => line.includes(text)) ? [index + 1] : []));
  expect(found, texts.join(' … ')).toHaveLength(1);
  return found[0]!;
}

/** The warning about DIR/prog: its process, its execve and the unlink that removed its last name, in the trace `file`. */
function expectProgramWarning(report: Report, dir: string, file: string): void {
  const trace = readFileSync(file, 'utf8');
  const prog = join(dir, 'prog');
  const pid = readFileSync(join(dir, 'prog.pid'), 'utf8').trim();
  const execve = lineWith(trace, `execve("${prog}"`);
  const unlink = lineWith(trace, 'unlinkat(', `"${prog}", 0`);
  const warning = report.warnings.find((text) => text.includes(`process ${pid} runs ${prog} `));
  expect(warning, report.warnings.join('\n')).toBeDefined();
  expect(warning).toContain(`process ${pid} runs ${prog} (execve at ${file}:${execve}), whose last name went at ${file}:${unlink}: `);
  expect(warning).toContain('/proc/PID/maps shows the program (deleted) until the process exits or runs execve again');
  expect(warning).toContain('the trace shows no mmap of it, so no finding can give its addresses');
}

beforeAll(() => {
  requireTool('strace');
});

describe('review 2, D5: a program replaced while it runs', () => {
  it('launched under strace -f -ttt -T -yy: no addresses in the trace, and a warning that says which process runs what, and which call removed it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-replaced-'));
    const trace = join(dir, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-o', trace, '--', 'sh', SCRIPT, dir], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    // /proc: the program's five segments, "(deleted)".
    expect(deletedLines(dir, 'prog').length).toBeGreaterThan(0);
    const report = analyze(trace);
    expect(report.findings.filter((finding) => finding.path === join(dir, 'prog'))).toEqual([]);
    expectProgramWarning(report, dir, trace);
  });

  it('capture --pid of the shell that runs it: the shell’s own program, in maps-start.txt, is a finding at the addresses /proc shows; the one it started is the warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-replaced-pid-'));
    const shell = join(dir, 'shell');
    copyFileSync('/bin/sh', shell);
    chmodSync(shell, 0o755);
    const go = join(dir, 'go');
    const target = spawn(shell, [SCRIPT, dir, go], { cwd: dir, stdio: 'ignore' });
    const targetDone = exited(target);
    const bundle = join(dir, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(target.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    const captureDone = exited(capture);
    try {
      // meta.json is written once strace is attached: only then may the script go on.
      await waitFor('the capture to attach', () => existsSync(join(bundle, 'meta.json')), 60_000);
    } catch (error) {
      target.kill('SIGKILL');
      capture.kill('SIGINT');
      throw error;
    }
    writeFileSync(go, '');
    const [targetResult, captureResult] = await Promise.all([targetDone, captureDone]);
    expect(targetResult.code, targetResult.stderr).toBe(0);
    expect(captureResult.code, captureResult.stderr).toBe(0);

    const shellTruth = deletedLines(dir, 'shell');
    expect(shellTruth.length).toBeGreaterThan(0);
    expect(deletedLines(dir, 'prog').length).toBeGreaterThan(0);
    const report = analyze(bundle);
    const file = join(bundle, 'trace.txt');
    const shellUnlink = lineWith(readFileSync(file, 'utf8'), 'unlinkat(', `"${shell}", 0`);
    const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
    // Each segment of the shell, as /proc showed it, unlinked by rm.
    expect(orphans.map((finding) => `${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE} ${finding.path}`).sort()).toEqual(shellTruth.sort());
    for (const finding of orphans) expect(finding.unlinkedAt?.line).toBe(shellUnlink);
    expectProgramWarning(report, dir, file);
  }, 120_000);
});

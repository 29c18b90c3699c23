// Review 1 of 2026-12, items A-C: a relative name and the file's absolute
// name were never matched when the trace did not show the cwd. A bpftrace
// capture (which prints no cwd) of a program that opens "rel.map", maps it
// and unlinks it by its absolute path reported nothing, nor did the same
// program under plain strace (no -y), and nothing said why; a relative
// chdir("repo") left the report naming files relative to a cwd never shown.
// The truth is the program's own /proc/self/maps
// (test/scenarios/cwd-cases.py), read before it exits.
//
// Needs strace, bpftrace (run as root) and /usr/bin/python3.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { captureProgram, PYTHON, workspace } from './scenarios/harness.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'cwd-cases.py');
const PAGE = 4096;

interface Truth {
  pid: number;
  leaks: { address: string; bytes: number; path: string }[];
}

interface Report {
  findings: Finding[];
  warnings: string[];
  environment: { cwd?: string | null } | null;
}

const RELATIVE_WARNING = /names? relative to a working directory the trace never shows \(the first: .* at .*, process \d+\) could not be made absolute/;

/** A new workspace, by its real path (what the kernel, and /proc, call it). */
function place(name: string): string {
  return realpathSync(workspace(name));
}

function analyze(input: string): Report {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/** `orphanmap capture --backend B --out DIR/bundle -- python3 cwd-cases.py`, run in DIR. */
function captured(dir: string, backend: 'strace' | 'bpftrace'): { truth: Truth; bundle: string } {
  return captureProgram<Truth>(dir, backend, PROGRAM);
}

/** Each unlinked-while-mapped finding, and each leak of the truth, as pid, address, pages and path. */
const seen = (findings: Finding[]) =>
  findings
    .filter((finding) => finding.kind === 'unlinked-while-mapped')
    .map((finding) => `pid ${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE} ${finding.path}`)
    .sort();
const expected = (truth: Truth, only?: (path: string) => boolean) =>
  truth.leaks
    .filter((leak) => only === undefined || only(leak.path))
    .map((leak) => `pid ${truth.pid} ${leak.address} ${leak.bytes} ${leak.path}`)
    .sort();

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

describe('review 1, item C: a trace that never shows the cwd (strace without -y)', () => {
  it('says how many names stayed relative, naming the first, where it cannot match them with absolute ones', () => {
    const dir = place('cwd-plain');
    const trace = join(dir, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-tt', '-o', trace, PYTHON, PROGRAM, join(dir, 'truth.json')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
    expect(truth.leaks).toHaveLength(3);
    const report = analyze(trace);
    // rel.map opened twice, the unlink of abs.map, sub/sub.map opened twice: five names left relative.
    const warning = report.warnings.find((text) => RELATIVE_WARNING.test(text));
    expect(warning, report.warnings.join('\n')).toMatch(/^5 names relative to a working directory the trace never shows \(the first: rel\.map at .*trace\.txt:\d+, process \d+\)/);
    expect(warning).toContain(`process ${truth.pid})`);
  });
});

describe('review 1, item 1: the capture records the traced process’s working directory', () => {
  it('strace, launched: meta.json says the capture’s own cwd, and every leak is the one /proc shows', () => {
    const dir = place('cwd-strace');
    const { truth, bundle } = captured(dir, 'strace');
    expect(truth.leaks).toHaveLength(3);
    const report = analyze(bundle);
    expect(report.environment?.cwd).toBe(dir);
    expect(seen(report.findings)).toEqual(expected(truth));
    expect(report.warnings.filter((text) => RELATIVE_WARNING.test(text))).toEqual([]);
    // The ticket's environment table shows it.
    const ticket = runCli(['analyze', bundle, '--format', 'markdown']);
    expect(ticket.status, ticket.stderr).toBe(0);
    expect(ticket.stdout).toContain(`| working directory | \`${dir}\` |`);
    // --redact hashes it as every path: /tmp stays, each name under it (the run's directory, the workspace's) does not.
    const redacted = runCli(['analyze', bundle, '--format', 'json', '--redact']);
    expect(redacted.status, redacted.stderr).toBe(0);
    const cwd = (JSON.parse(redacted.stdout) as Report).environment?.cwd;
    expect(dir.startsWith('/tmp/')).toBe(true);
    expect(cwd).toMatch(new RegExp(`^/tmp${'/[0-9a-f]{8}'.repeat(relative('/tmp', dir).split('/').length)}$`));
    expect(redacted.stdout).not.toContain(basename(dir));
    // A bundle's meta.json is checked: a cwd that is no string is refused.
    const meta = join(bundle, 'meta.json');
    writeFileSync(meta, readFileSync(meta, 'utf8').replace(/"cwd": "[^"]*"/, '"cwd": 7'));
    const refused = runCli(['analyze', bundle, '--format', 'json']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('bundle metadata field "cwd" must be a string or null');
  });

  it('strace, --pid: meta.json says readlink /proc/PID/cwd', async () => {
    const dir = place('cwd-pid');
    const sleeper = spawn(PYTHON, ['-c', 'import time; time.sleep(60)'], { cwd: join(dir, 'w'), stdio: 'ignore' });
    try {
      await waitFor('python3 to start', () => readFileSync(`/proc/${sleeper.pid}/cmdline`, 'utf8').includes('time.sleep'), 10_000);
      const bundle = join(dir, 'bundle');
      const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(sleeper.pid), '--duration', '1', '--out', bundle], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(0);
      expect((JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { cwd?: unknown }).cwd).toBe(join(dir, 'w'));
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('review 1, items A and B: bpftrace, which prints no cwd', () => {
  // One capture (bpftrace takes 8-25 s to start), read as a bundle and as a trace file alone.
  let dir = '';
  let truth: Truth = { pid: 0, leaks: [] };
  let bundle = '';
  beforeAll(() => {
    dir = place('cwd-bpftrace');
    ({ truth, bundle } = captured(dir, 'bpftrace'));
  }, 150_000);

  it('the bundle: meta.json says the cwd, and every leak is the one /proc shows, by its path there', () => {
    expect(truth.leaks).toHaveLength(3);
    const report = analyze(bundle);
    expect(report.environment?.cwd).toBe(dir);
    expect(seen(report.findings)).toEqual(expected(truth));
    expect(report.warnings.filter((text) => RELATIVE_WARNING.test(text))).toEqual([]);
  });

  it('the trace file alone: the files opened by a relative name are named by the real path orphanmap.bt gives, and their leaks found; what stays relative is said', () => {
    const report = analyze(join(bundle, 'trace.txt'));
    expect(report.environment).toBeNull();
    // abs.map, opened by its absolute path and unlinked as "abs.map", cannot be matched without the cwd; the close of
    // its fd, with the mapping live, shows it with no name left (link count 0): found there (review 44, H1).
    expect(seen(report.findings)).toEqual(expected(truth));
    expect(report.findings.find((finding) => finding.path.endsWith('/abs.map'))?.note).toMatch(/^The close at \S+ shows it with no name left \(link count 0\)/);
    expect(report.warnings.join('\n')).toMatch(RELATIVE_WARNING);
  });
});

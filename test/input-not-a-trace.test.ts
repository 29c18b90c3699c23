// Input that is not a trace (issue #10, item 5): a `strace -c` table, a README,
// /etc/passwd or random words are rejected with exit 2, a message naming the
// file, what it looks like and how to capture a trace instead; through
// `analyze`, `analyze --fail-on error` and either side of `diff`. What is a
// trace stays accepted: an empty file (a warning), a real trace with program
// output mixed in, and a real attach trace of an idle process (no followed call).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { REPO, requireTool, runCli } from './support/tools.js';

const PYTHON = '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-input-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A small real workload: map a file, unlink it, keep the mapping. */
const LEAK = `
import mmap, os, sys
path = os.path.join(sys.argv[1], 'seg.bin')
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
os.close(fd)
os.unlink(path)
`;

const ADVICE = ['strace -f -ttt -T -yy -o trace.txt', 'orphanmap capture --pid PID --out DIR'];

let summaryTable: string;
let realTrace: string;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
  // strace -c as a user would run it: the table goes to the -o file.
  summaryTable = join(scratch, 'summary.txt');
  const counted = spawnSync('strace', ['-c', '-f', '-o', summaryTable, PYTHON, '-c', LEAK, scratch], { encoding: 'utf8' });
  expect(counted.status, counted.stderr).toBe(0);
  realTrace = join(scratch, 'trace.txt');
  const traced = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-o', realTrace, PYTHON, '-c', LEAK, scratch], { encoding: 'utf8' });
  expect(traced.status, traced.stderr).toBe(0);
});

function expectRejected(result: { status: number; stdout: string; stderr: string }, file: string, looksLike: string): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const message = result.stderr.trim();
  expect(message.split('\n')).toHaveLength(1);
  expect(message.startsWith(`orphanmap: ${file}: error: not a syscall trace: it looks like ${looksLike}`), message).toBe(true);
  for (const advice of ADVICE) expect(message).toContain(advice);
}

describe('analyze rejects input that is not a trace', () => {
  it('a strace -c summary table made by real strace', () => {
    // The table is what strace -c writes: a header, a rule, one row per syscall, a total.
    const table = readFileSync(summaryTable, 'utf8');
    expect(table).toMatch(/^% time +seconds +usecs\/call +calls +errors +syscall$/m);
    expect(table).toMatch(/ total$/m);
    expectRejected(runCli(['analyze', summaryTable]), summaryTable, 'a strace -c summary table');
  });

  it('the same with --fail-on error and as JSON: still exit 2, no report', () => {
    expectRejected(runCli(['analyze', summaryTable, '--fail-on', 'error']), summaryTable, 'a strace -c summary table');
    expectRejected(runCli(['analyze', summaryTable, '--format', 'json', '--fail-on', 'warning']), summaryTable, 'a strace -c summary table');
  });

  it('a README in Markdown', () => {
    const readme = join(REPO, 'README.md');
    expectRejected(runCli(['analyze', readme]), readme, 'text with no syscall lines');
  });

  it('/etc/passwd', () => {
    expectRejected(runCli(['analyze', '/etc/passwd']), '/etc/passwd', 'text with no syscall lines');
  });

  it('random words, also on stdin', () => {
    const words = Array.from({ length: 60 }, () => Array.from(randomBytes(8), (b) => 'abcdefghijklmnopqrstuvwxyz'[b % 26]).join('')).join(' ');
    const text = words.replace(/((?:\S+ ){7}\S+) /g, '$1\n');
    const path = join(scratch, 'words.txt');
    writeFileSync(path, `${text}\n`);
    expectRejected(runCli(['analyze', path]), path, 'text with no syscall lines');
    expectRejected(runCli(['analyze', '-'], text), '-', 'text with no syscall lines');
  });

  it('random bytes, with --fail-on error: exit 2 (issue #11, item 8), decided from the first 64 KiB', () => {
    const path = join(scratch, 'random.bin');
    writeFileSync(path, randomBytes(1024 * 1024));
    expectRejected(runCli(['analyze', path, '--fail-on', 'error']), path, 'binary data, not text');
  });

  it('/etc/passwd with --fail-on error: exit 2', () => {
    expectRejected(runCli(['analyze', '/etc/passwd', '--fail-on', 'error']), '/etc/passwd', 'text with no syscall lines');
  });

  it('/dev/zero, endless: refused after its first bytes, also on stdin', () => {
    expectRejected(runCli(['analyze', '/dev/zero']), '/dev/zero', 'NUL bytes only (like /dev/zero), not text');
    const piped = spawnSync('sh', ['-c', `'${process.execPath}' '${join(REPO, 'dist', 'cli.js')}' analyze - < /dev/zero`], { encoding: 'utf8', timeout: 100_000 });
    expectRejected({ status: piped.status ?? -1, stdout: piped.stdout, stderr: piped.stderr }, '-', 'NUL bytes only (like /dev/zero), not text');
  });

  it('a compressed trace says how to read it (review 11): gzip, zstd and xz of a real trace, by their own tools', () => {
    for (const [tool, what, reader] of [
      ['gzip', 'gzip', 'zcat'],
      ['zstd', 'zstd', 'zstdcat'],
      ['xz', 'xz', 'xzcat'],
    ] as const) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`this test needs ${tool} (apt-get install -y ${tool === 'xz' ? 'xz-utils' : tool})`);
      const packed = join(scratch, `trace.txt.${tool}`);
      writeFileSync(packed, spawnSync(tool, ['-c', realTrace]).stdout);
      expectRejected(runCli(['analyze', packed]), packed, `${what}-compressed data, not text (decompress it first: ${reader} FILE | orphanmap analyze -)`);
    }
  });

  it('a /proc/PID/maps listing says so', () => {
    const maps = join(scratch, 'maps.txt');
    writeFileSync(maps, readFileSync('/proc/self/maps'));
    expectRejected(runCli(['analyze', maps]), maps, 'a /proc/PID/maps listing');
  });
});

describe('diff rejects input that is not a trace, on either side', () => {
  it('before side', () => {
    expectRejected(runCli(['diff', summaryTable, realTrace]), summaryTable, 'a strace -c summary table');
  });

  it('after side, with --fail-on error', () => {
    const readme = join(REPO, 'README.md');
    expectRejected(runCli(['diff', realTrace, readme, '--fail-on', 'error']), readme, 'text with no syscall lines');
  });
});

describe('what is a trace stays accepted', () => {
  it('an empty file: exit 0 and an "empty input" warning', () => {
    const empty = join(scratch, 'empty.txt');
    writeFileSync(empty, '');
    const result = runCli(['analyze', empty]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('empty input');
    // No all-clear for what proves nothing (review 11).
    expect(result.stdout).toMatch(/^orphanmap: no verdict: the input holds no trace line: nothing was traced\.\n/);
  });

  it('but with --fail-on an empty file proves nothing: exit 2, not a pass', () => {
    const empty = join(scratch, 'empty-verdict.txt');
    writeFileSync(empty, '');
    for (const severity of ['error', 'warning']) {
      const result = runCli(['analyze', empty, '--fail-on', severity]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`orphanmap: ${empty}: error: empty input: no trace lines, so --fail-on ${severity} cannot tell that nothing leaked\n`);
    }
  });

  it('the real trace of the leak: its one orphaned mapping is reported', () => {
    const result = runCli(['analyze', realTrace, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string }[] };
    expect(report.findings.map((f) => [f.kind, f.path])).toEqual([['unlinked-while-mapped', join(scratch, 'seg.bin')]]);
  });

  it("a real trace to stderr with the program's own output mixed in: unreadable lines, not a rejection", () => {
    // strace without -o writes to stderr, where the program writes too.
    const noisy = `
import sys
for i in range(30):
    print(f"worker {i}: progress {i * 3}% done", file=sys.stderr, flush=True)
${LEAK}`;
    const traced = spawnSync('strace', ['-f', '-ttt', PYTHON, '-c', noisy, scratch], { encoding: 'utf8' });
    expect(traced.status).toBe(0);
    const path = join(scratch, 'mixed.txt');
    writeFileSync(path, traced.stderr);
    const result = runCli(['analyze', path, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { summary: { unparsedLines: number }; findings: { path: string }[] };
    // Some program lines share a physical line with strace's, so at most 30 are unreadable.
    expect(report.summary.unparsedLines).toBeGreaterThan(0);
    expect(report.summary.unparsedLines).toBeLessThanOrEqual(30);
    expect(report.findings.map((f) => f.path)).toEqual([join(scratch, 'seg.bin')]);
  });

  it('a real attach trace of an idle process, where no call is one orphanmap follows: exit 0', async () => {
    const idle = spawn(PYTHON, ['-c', 'import time\nprint("ready", flush=True)\nwhile True: time.sleep(0.02)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      // Attach once it sleeps: its start-up opens and maps files.
      await new Promise((resolve) => idle.stdout!.once('data', resolve));
      const path = join(scratch, 'idle.txt');
      const tracer = spawn('strace', ['-f', '-ttt', '-o', path, '-p', String(idle.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let attached = '';
      tracer.stderr!.on('data', (chunk: Buffer) => (attached += chunk.toString()));
      await new Promise((resolve) => setTimeout(resolve, 600));
      tracer.kill('SIGINT');
      await new Promise((resolve) => tracer.on('exit', resolve));
      expect(attached).toContain(`Process ${idle.pid} attached`);
      const trace = readFileSync(path, 'utf8');
      // Only sleeps: nothing orphanmap follows.
      expect(trace).toMatch(/clock_nanosleep/);
      expect(trace).not.toMatch(/\b(?:openat|mmap|munmap|unlink)\(/);
      const result = runCli(['analyze', path, '--format', 'json']);
      expect(result.status, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as { findings: unknown[] }).findings).toEqual([]);
    } finally {
      idle.kill('SIGKILL');
    }
  });
});

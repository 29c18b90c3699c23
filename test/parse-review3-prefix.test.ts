// strace -f writing to stderr prints "[pid N] " only while more than one
// tracee is alive (review 3, findings A and B): the reader follows strace's
// own count, in which `strace: Process N attached` adds a tracee that may
// never print a prefix, and names a child, never the first process. Each case
// runs a real program (test/scenarios/stderr-prefix.py) under real strace to
// stderr; the truth is what each process read from its own /proc/self/maps.
//
// Needs strace and /usr/bin/python3 (.ci/run installs them).
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'stderr-prefix.py');
/** The filter docs/trace-formats.md recommends: clone kept. */
const FILTER = 'trace=openat,mmap,munmap,unlink,close,ftruncate,clone,clone3,fork,vfork,exit_group';
/** A filter without clone: which tracee is which, the trace cannot say. */
const NO_CLONE = 'trace=openat,mmap,munmap,unlink,close,ftruncate';

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

interface Truth {
  pid: number;
  address: string;
  length: number;
}

function readTruth(dir: string): Truth[] {
  return readFileSync(join(dir, 'truth.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, range] = line.split(' ') as [string, string];
      const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16)) as [number, number];
      return { pid: Number(pid), address: `0x${start.toString(16)}`, length: end - start };
    });
}

/** `strace -f -ttt -y -e FILTER` of the program's CASE, to stderr; the trace's path and the truth. */
async function capture(scenario: string, filter: string): Promise<{ trace: string; truth: Truth[] }> {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-prefix3-${scenario}-`));
  const trace = join(dir, 'trace.txt');
  const stderr = openSync(trace, 'w');
  try {
    const run = spawnSync('strace', ['-f', '-ttt', '-y', '-e', filter, PYTHON, PROGRAM, join(dir, 'w'), scenario], { stdio: ['ignore', 'ignore', stderr], timeout: 60_000 });
    expect(run.status, `strace exited ${run.status}`).toBe(0);
  } finally {
    closeSync(stderr);
  }
  return { trace, truth: readTruth(join(dir, 'w')) };
}

interface Report {
  findings: Finding[];
  warnings: string[];
  summary: { unparsedLines: number };
}

function analyze(trace: string): Report {
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as Report;
  expect(report.summary.unparsedLines).toBe(0);
  return report;
}

function orphans(report: Report): Finding[] {
  return report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.severity !== 'info');
}

describe('strace -f to stderr: strace counts a tracee from its "Process N attached"', () => {
  it('a child whose parent exited before it printed anything: its unprefixed lines are its own, and it ends', async () => {
    const { trace, truth } = await capture('daemon', FILTER);
    expect(truth).toHaveLength(1);
    const child = truth[0]!;
    // The case as reproduced: the child never printed a prefix.
    expect(readFileSync(trace, 'utf8')).not.toContain(`[pid ${child.pid}]`);
    const found = orphans(analyze(trace));
    expect(found.map((finding) => ({ pid: finding.pid, address: finding.address, length: finding.length }))).toEqual(truth);
    // Mapped by the child, and released when it ended: not the parent's, not still mapped.
    expect(found[0]!.mappedAt?.tid).toBe(child.pid);
    expect(found[0]!.resolution).not.toBe('still-mapped');
  });

  it('with clone filtered out, the announced child is not taken for the first process: no mapping of the parent is lost, and its unknown pid is said', async () => {
    const { trace, truth } = await capture('fork-between', NO_CLONE);
    const text = readFileSync(trace, 'utf8');
    const child = truth.find((t) => text.includes(`strace: Process ${t.pid} attached`))!.pid;
    const parent = truth.filter((t) => t.pid !== child);
    expect(parent).toHaveLength(2);
    const report = analyze(trace);
    const found = orphans(report);
    for (const held of parent) {
      // The parent printed no prefix while its child lived: its pid is not in the trace (0), but never the child's.
      const finding = found.find((f) => f.address === held.address && f.length === held.length && f.mappedAt?.tid !== child);
      expect(finding, `parent's ${held.address} in ${JSON.stringify(found.map((f) => [f.pid, f.address, f.mappedAt?.tid]))}`).toBeDefined();
      expect([held.pid, 0]).toContain(finding!.pid);
      expect(finding!.pid).not.toBe(child);
    }
    expect(report.warnings.some((w) => w.includes("the first process's pid is not in the trace"))).toBe(true);
    expect(report.warnings.some((w) => w.includes('no clone, fork or vfork call is in the trace'))).toBe(true);
  });

  it('strace -f -p on a process that forks under a filter without clone: its lines are its own thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-prefix3-attach-'));
    const work = join(dir, 'w');
    const program = spawn(PYTHON, [PROGRAM, work, 'attach-fork'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => program.on('exit', resolve));
    try {
      while (!existsSync(join(work, 'ready'))) await sleep(10);
      const trace = join(dir, 'trace.txt');
      const stderr = openSync(trace, 'w');
      const tracer = spawn('strace', ['-f', '-ttt', '-y', '-e', 'trace=openat,mmap,munmap,unlink,close', '-p', String(program.pid)], { stdio: ['ignore', 'ignore', stderr] });
      const traced = new Promise<number | null>((resolve) => tracer.on('exit', resolve));
      expect(await exited).toBe(0);
      expect(await traced).toBe(0);
      closeSync(stderr);
      const truth = readTruth(work);
      expect(truth).toEqual([expect.objectContaining({ pid: program.pid })]);
      const found = orphans(analyze(trace));
      expect(found.map((finding) => ({ pid: finding.pid, address: finding.address, length: finding.length }))).toEqual(truth);
      expect(found[0]!.mappedAt?.tid).toBe(program.pid);
    } finally {
      program.kill();
    }
  });
});

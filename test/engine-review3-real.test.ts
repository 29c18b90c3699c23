// Review 3 of 2026-12, findings C, D and E (the correlation engine), each on
// a real program (test/scenarios/review2-cases.py) under real strace or
// bpftrace, with the truth the program read from its own /proc/self/maps
// before it exited. The clients under bpftrace run at once under one capture
// (one start and end of its tracer, seconds each), each in a directory of its
// own; each one's verdicts are kept to its own processes (--pid).
//
// Needs root (linkat with AT_EMPTY_PATH, bpftrace), strace, bpftrace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const CLIENT = join(REPO, 'test', 'scenarios', 'review2-cases.py');
const PAGE = 4096;

interface Report {
  findings: Finding[];
  warnings: string[];
}

interface ShmTruth {
  pid: number;
  mappings: { address: string; bytes: number; path: string; kind: 'nameless' | 'leak' }[];
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('these tests need root: linkat(…, AT_EMPTY_PATH) and bpftrace');
  if (!existsSync('/sys/kernel/tracing/trace_pipe') && !existsSync('/sys/kernel/debug/tracing/trace_pipe')) {
    throw new Error('tracefs must be mounted for bpftrace: mount -t tracefs nodev /sys/kernel/tracing');
  }
});

/** A traced client: what analyze reads, its work directory, and whether other clients' processes share the input. */
interface Traced {
  input: string;
  work: string;
  shared: boolean;
}

/** The client in `mode` under strace -f -ttt with `flags` (-yy or none) and a filter: the input to analyze, and the work directory. */
function underStrace(mode: string, flags: string[], filter: string | null): Traced {
  const dir = workspace(`review3-${mode}`);
  const input = join(dir, 'trace.txt');
  const args = ['-f', '-ttt', ...flags, ...(filter === null ? [] : ['-e', `trace=${filter}`]), '-o', input, PYTHON, CLIENT, join(dir, 'w'), mode];
  const run = spawnSync('strace', args, { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return { input, work: join(dir, 'w'), shared: false };
}

// Runs each client (a directory and a mode) at once, and waits for them all: one capture, one tracer's start and end,
// for all of them (a bpftrace capture spends seconds on each). Their names never meet: a directory each.
const ALL_AT_ONCE = 'python=$1; client=$2; shift 2; while [ $# -gt 0 ]; do "$python" "$client" "$1" "$2" & shift 2; done; wait';
const BPFTRACE_MODES = ['tmpfile', 'shm-idiom', 'shm-idiom-leak'] as const;
let bpftraceBundle: string;
let bpftraceWork: string;

beforeAll(() => {
  bpftraceWork = workspace('review3-bt');
  bpftraceBundle = join(bpftraceWork, 'bundle');
  const clients = BPFTRACE_MODES.flatMap((mode) => [join(bpftraceWork, mode, 'w'), mode]);
  const capture = runCli(['capture', '--backend', 'bpftrace', '--out', bpftraceBundle, '--', '/bin/sh', '-c', ALL_AT_ONCE, 'sh', PYTHON, CLIENT, ...clients]);
  expect(capture.status, capture.stderr).toBe(0);
}, 120_000);

/**
 * The client in `mode` under `orphanmap capture --backend bpftrace`, with the other modes' clients (one bundle for
 * them all): the bundle, and the work directory. Its verdicts are kept to its own processes (shared).
 */
function underBpftrace(mode: (typeof BPFTRACE_MODES)[number]): Traced {
  return { input: bpftraceBundle, work: join(bpftraceWork, mode, 'w'), shared: true };
}

/** The JSON report of `input`, kept to process `pid` when given. */
function analyze(input: string, pid?: number): Report {
  const result = runCli(['analyze', input, '--format', 'json', ...(pid === undefined ? [] : ['--pid', String(pid)])]);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/** The text report of `input` and the exit status `--fail-on error` gives it, kept to process `pid` when given. */
function verdict(input: string, pid?: number): { text: string; failOn: number } {
  const result = runCli(['analyze', input, '--fail-on', 'error', ...(pid === undefined ? [] : ['--pid', String(pid)])]);
  return { text: result.stdout, failOn: result.status };
}

const unlinks = (report: Report) => report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
const key = (pid: number, address: string, bytes: number) => `pid ${pid} ${address} ${Math.ceil(bytes / PAGE) * PAGE}`;

describe('finding C: an O_TMPFILE open is known by its flag, not only by its -y annotation', () => {
  const cases: [string, () => Traced][] = [
    ['strace without -y', () => underStrace('tmpfile', [], null)],
    ['bpftrace', () => underBpftrace('tmpfile')],
  ];
  it.each(cases)('%s: the files a link through their fd named, then unlinked while mapped, are the leaks /proc shows', (_, run) => {
    const { input, work, shared } = run();
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; leaks: { address: string; bytes: number }[] };
    expect(truth.leaks).toHaveLength(2);
    // The client forks no child: its process is all of it.
    const report = analyze(input, shared ? truth.pid : undefined);
    const errors = unlinks(report).filter((finding) => finding.severity === 'error');
    expect(errors.map((finding) => key(finding.pid, finding.address, finding.length)).sort()).toEqual(truth.leaks.map((leak) => key(truth.pid, leak.address, leak.bytes)).sort());
    expect(errors.map((finding) => finding.path.slice(finding.path.lastIndexOf('/') + 1)).sort()).toEqual(['E', 'T']);
    // The third, never linked: benign (finding E).
    expect(unlinks(report).filter((finding) => finding.severity === 'info')).toHaveLength(1);
  });
});

describe('finding D: two files of one base name, a dup2 filtered out', () => {
  it('the mapping is charged to the file the annotation names, unlinked where it was, and that is said', () => {
    const { input, work } = underStrace('samebase', ['-yy'], 'openat,close,mmap,munmap,unlink');
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; leaks: { address: string; bytes: number; path: string }[] };
    expect(truth.leaks.map((leak) => leak.path)).toEqual([join(work, 'd2', 'x.index')]);
    const report = analyze(input);
    const found = unlinks(report);
    expect(found.map((finding) => key(finding.pid, finding.address, finding.length))).toEqual(truth.leaks.map((leak) => key(truth.pid, leak.address, leak.bytes)));
    expect(found[0]!.path).toBe(join(work, 'd2', 'x.index'));
    const lines = readFileSync(input, 'utf8').split('\n');
    expect(lines[found[0]!.unlinkedAt!.line - 1]).toContain(`unlink("${join(work, 'd2', 'x.index')}") = 0`);
    expect(report.warnings.join('\n')).toMatch(/fd \d+ of process \d+ was \S+\/d1\/x\.index as far as the trace showed, but its -y annotation at \S+ names \S+\/d2\/x\.index/);
  });
});

describe('finding E: files mapped with no name left, on purpose (multiprocessing heap, TemporaryFile + mmap, open-unlink-mmap)', () => {
  const cases: [string, (mode: 'shm-idiom' | 'shm-idiom-leak') => Traced][] = [
    ['strace -yy', (mode) => underStrace(mode, ['-yy'], null)],
    ['strace with the recommended filter, no -y', (mode) => underStrace(mode, [], STRACE_FILTER)],
    ['bpftrace', (mode) => underBpftrace(mode)],
  ];

  it.each(cases)('%s: each is a benign finding in the parent and in its fork child, and --fail-on error passes', (_, run) => {
    const { input, work, shared } = run('shm-idiom');
    const truths = ['truth.json', 'truth-child.json'].map((name) => JSON.parse(readFileSync(join(work, name), 'utf8')) as ShmTruth);
    const expected = truths.flatMap((truth) => truth.mappings.map((m) => `${key(truth.pid, m.address, m.bytes)} ${m.kind === 'leak' ? 'error' : 'info'}`)).sort();
    expect(expected).toHaveLength(6);
    const report = analyze(input);
    const found = unlinks(report).filter((finding) => truths.some((truth) => truth.pid === finding.pid));
    expect(found.map((finding) => `${key(finding.pid, finding.address, finding.length)} ${finding.severity}`).sort()).toEqual(expected);
    for (const finding of found) {
      expect(finding.benign).toBe('mapped with no name left');
      // The delay runs from the mapping: the unlink (when the trace shows it) came before it.
      if (finding.pid === truths[0]!.pid && finding.delayMs !== null && finding.resolvedAt?.seconds != null && finding.mappedAt?.seconds != null) {
        expect(finding.delayMs).toBeCloseTo((finding.resolvedAt.seconds - finding.mappedAt.seconds) * 1000, 2);
      }
      if (finding.unlinkedAt !== null) expect(finding.unlinkedAt.line).toBeLessThan(finding.mappedAt!.line);
    }
    // In a bundle other clients share, the verdict of each of its processes (--pid): the parts of the one of its trace.
    const verdicts = shared ? truths.map((truth) => ({ benign: truth.mappings.length, ...verdict(input, truth.pid) })) : [{ benign: 6, ...verdict(input) }];
    for (const { benign, text, failOn } of verdicts) {
      expect(failOn).toBe(0);
      expect(text).toMatch(new RegExp(`^orphanmap: no mapping outlived its file; ${benign} benign \\(mapped with no name left\\)\\.$`, 'm'));
      expect(text).not.toContain('held when unlinked');
    }
  });

  it.each(cases)('%s: a file mapped and then unlinked beside them stays an error, in the child too', (_, run) => {
    const { input, work, shared } = run('shm-idiom-leak');
    const truths = ['truth.json', 'truth-child.json'].map((name) => JSON.parse(readFileSync(join(work, name), 'utf8')) as ShmTruth);
    const expected = truths.flatMap((truth) => truth.mappings.map((m) => `${key(truth.pid, m.address, m.bytes)} ${m.kind === 'leak' ? 'error' : 'info'}`)).sort();
    expect(expected.filter((line) => line.endsWith('error'))).toHaveLength(2);
    const report = analyze(input);
    const found = unlinks(report).filter((finding) => truths.some((truth) => truth.pid === finding.pid));
    expect(found.map((finding) => `${key(finding.pid, finding.address, finding.length)} ${finding.severity}`).sort()).toEqual(expected);
    // Only the leak's bytes were held when unlinked, and only the parent's 12 KiB: the program forks after
    // it unlinks L, so the child's copy was made after the name went (mappedAfterUnlink).
    const child = truths[1]!.pid;
    if (shared) {
      // In a bundle other clients share, the verdict of each of its processes (--pid): the parts of the one of its trace.
      const [parent, forked] = truths.map((truth) => verdict(input, truth.pid));
      for (const { failOn } of [parent!, forked!]) expect(failOn).toBe(3);
      expect(parent!.text).toMatch(
        new RegExp(`^orphanmap: 1 mapping outlived its file in process ${truths[0]!.pid} \\(12\\.0 KiB held when unlinked; .*\\); 3 benign \\(mapped with no name left\\)\\.$`, 'm'),
      );
      expect(forked!.text).toMatch(new RegExp(`^orphanmap: 1 mapping outlived its file in process ${child} \\(0 B held when unlinked; .*\\); 3 benign \\(mapped with no name left\\)\\.$`, 'm'));
    } else {
      const { text, failOn } = verdict(input);
      expect(failOn).toBe(3);
      expect(text).toMatch(/^orphanmap: 2 mappings outlived their files in 2 processes \(12\.0 KiB held when unlinked; .*\); 6 benign \(mapped with no name left\)\.$/m);
    }
    expect(found.filter((finding) => finding.severity === 'error').map((finding) => [finding.pid === child, finding.mappedAfterUnlink ?? false])).toEqual(
      expect.arrayContaining([
        [false, false],
        [true, true],
      ]),
    );
  });
});

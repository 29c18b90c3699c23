// Review 27 (exactness), F1, and review 29 (exactness), F1: strace -ff
// stamps each line with its call's entry, and a merged set without -T or -y
// cannot say when an open returned. Main's open of tmp-R is stamped first; a
// poller then opens and closes config on the very number main's open returns
// (its open returned after the poller's close). Merged by stamps, the
// poller's open took the number while main's file held it, and main's mmap
// of that number was charged to config: the leak of tmp-R was missed (exit
// 0), and when config was the file removed, a leak was made up (exit 3; an
// ordinary JVM thread pool did the same). The trace settles it: the thread
// whose open took a number closes its own file, and the thread whose open
// is in flight calls on its own number until its close.
//
// A real program (test/scenarios/ff-fd-contest.c) under strace -ff -ttt
// (neither -y nor -T), each main-thread openat2 held at its entry by
// -e inject=openat2:delay_enter so that the hand-over happens every round.
// The truth is the program's own record and its /proc/self/maps.
//
// Needs strace and gcc.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-ff-contest-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let program: string;

beforeAll(() => {
  requireTool('strace');
  requireTool('gcc');
  program = join(scratch, 'ff-fd-contest');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', program, join(REPO, 'test', 'scenarios', 'ff-fd-contest.c')], { stdio: 'pipe' });
});

interface Round {
  path: string;
  address: string;
  /** kept mapped and unlinked (a leak); or not kept (unmapped, then unlinked), or, mirrored, kept and never unlinked. */
  kept: boolean;
  /** The number main's open returned, and the one the poller's open of config returned in that round. */
  fd: number;
  pollerFd: number;
}

/** The program's record: its rounds, and the (deleted) mappings its own /proc/self/maps showed at exit, as "ADDRESS PATH". */
function readTruth(path: string): { rounds: Round[]; live: string[] } {
  const rounds: Round[] = [];
  const live: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[0] === 'file') rounds.push({ path: fields[1]!, address: fields[2]!, kept: fields[3] === 'kept', fd: Number(fields[4]), pollerFd: Number(fields[5]) });
    if (fields[0] === 'live') live.push(`${fields[1]} ${fields[2]}`);
  }
  return { rounds, live: live.sort() };
}

/** The stamp of the first line of `lines` that `pattern` matches from `from` on, and its index. */
function stampOf(lines: string[], pattern: RegExp, from = 0): { at: number; seconds: number } {
  for (let at = from; at < lines.length; at++) {
    if (pattern.test(lines[at]!)) return { at, seconds: Number(lines[at]!.split(' ')[0]) };
  }
  throw new Error(`no line matches ${pattern}`);
}

/** The set `dir`/trace.*, run of the program in `mode` ([] or ['mirror']): its rounds, its live "(deleted)" lines, and the set's files. */
function traced(dir: string, mode: string[]): { rounds: Round[]; live: string[]; traces: string[]; files: string } {
  mkdirSync(dir);
  const files = join(dir, 'd');
  const run = spawnSync('strace', ['-ff', '-ttt', '-e', `trace=${STRACE_FILTER}`, '-e', 'inject=openat2:delay_enter=250000', '-o', join(dir, 'trace'), program, files, join(dir, 'truth'), ...mode], {
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  const { rounds, live } = readTruth(join(dir, 'truth'));
  expect(rounds).toHaveLength(6);
  // Every round handed the number over: the poller's open of config got the very number main's open returned.
  expect(rounds.filter((round) => round.fd === round.pollerFd)).toHaveLength(6);
  const traces = readdirSync(dir)
    .filter((entry) => entry.startsWith('trace.'))
    .map((entry) => join(dir, entry));
  // The leader and the poller.
  expect(traces).toHaveLength(2);
  const lines = traces.map((trace) => readFileSync(trace, 'utf8').split('\n'));
  const main = lines.find((file) => file.some((line) => line.includes('openat2(')))!;
  const poller = lines.find((file) => file !== main)!;
  // The overlap, as the trace shows it: main's open is stamped before the poller's open and close of its number, and those before main's mmap.
  let mainAt = 0;
  let pollerAt = 0;
  for (const [k, round] of rounds.entries()) {
    const opened = stampOf(main, new RegExp(`openat2\\(AT_FDCWD, "${round.path}", .* = ${round.fd}\\b`), mainAt);
    const mapped = stampOf(main, new RegExp(`mmap\\(NULL, 4096, .*MAP_SHARED, ${round.fd}, 0\\)`), opened.at);
    const theirs = stampOf(poller, new RegExp(`openat\\(AT_FDCWD, "${files}/config", O_RDONLY\\|O_CLOEXEC\\) = ${round.pollerFd}$`), pollerAt);
    const closed = stampOf(poller, new RegExp(`close\\(${round.pollerFd}\\)`), theirs.at);
    expect([opened.seconds < theirs.seconds, theirs.seconds < closed.seconds, closed.seconds < mapped.seconds], `round ${k}`).toEqual([true, true, true]);
    mainAt = mapped.at;
    pollerAt = closed.at;
  }
  return { rounds, live, traces, files };
}

describe('strace -ff -ttt (neither -y nor -T): an fd number another thread opened and closed while main opened it', () => {
  it('tmp-R kept mapped and unlinked: each is a finding, as /proc showed; those unmapped first are not; exit 3', async () => {
    const { rounds, live, traces } = traced(join(scratch, 'unlink'), []);
    const kept = rounds.filter((round) => round.kept);
    expect(live).toEqual(kept.map((round) => `${round.address} ${round.path}`).sort());
    const analysis = await analyze(traces);
    const found = analysis.engine
      .findings()
      .filter((finding) => finding.kind === 'unlinked-while-mapped')
      .map((finding) => `${finding.address} ${finding.path}`)
      .sort();
    expect(found).toEqual(live);
    expect(analysis.engine.mappingsInDoubt()).toEqual([]);
    expect(runCli(['analyze', '--fail-on', 'error', ...traces]).status).toBe(3);
  });

  it('mirrored: tmp-R kept mapped and never unlinked, config (never mapped) renamed over: clean, exit 0', async () => {
    const { live, traces } = traced(join(scratch, 'mirror'), ['mirror']);
    expect(live).toEqual([]);
    const analysis = await analyze(traces);
    expect(analysis.engine.findings().filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(analysis.engine.mappingsInDoubt()).toEqual([]);
    expect(runCli(['analyze', '--fail-on', 'error', ...traces]).status).toBe(0);
  });
});

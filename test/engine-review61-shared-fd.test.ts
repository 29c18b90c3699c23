// Review 61, F-5 (varnishd with a named storage file): the manager opens the
// file, each cache child maps it through that fd; an operator removed the
// file while the first child mapped it, and once that child had exited the
// next child's mmap showed the fd "(deleted)". Under strace the report read
// clean, exit 0: only a mapping live at that line was looked at, while a
// close showing the same put the mappings no longer live in doubt. An mmap
// (or any call) whose -y annotation shows its fd's file "(deleted)" does the
// same now, and so does bpftrace's link count of 0 on the mmap: when a new
// file takes the name, the capture's lookup at the end finds it there, and
// that was all a bundle had. Truth: the first child's own /proc/self/maps
// line, read after the removal (test/scenarios/shared-fd-removed.py).
// The programs under bpftrace run at once under one capture (one start and
// end of its tracer, seconds), each in a directory of its own; each one's
// verdict is the report kept to its directory's files (--path).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, STRACE_FILTER, verdictOf } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'shared-fd-removed.py');
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/** How the trace is taken: strace by hand (all calls, or the README's filter), or `orphanmap capture`; and what analyze reads. */
function tracer(how: string, work: string, program: string[]): { command: string; args: string[]; input: string } {
  const trace = join(work, 'trace.txt');
  const bundle = join(work, 'bundle');
  if (how === 'strace') return { command: 'strace', args: ['-f', '-ttt', '-T', '-yy', '-o', trace, ...program], input: trace };
  if (how === 'strace-filtered') return { command: 'strace', args: ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, ...program], input: trace };
  const backend = how === 'capture-strace' ? 'strace' : 'bpftrace';
  return { command: process.execPath, args: [CLI, 'capture', '--backend', backend, '--out', bundle, '--', ...program], input: bundle };
}

/** One run of shared-fd-removed.py: its directory, and whether a new file takes its storage file's name once removed. */
interface Scenario {
  directory: string;
  storage: string;
  renewed: boolean;
}

function prepare(directory: string, renewed: boolean): Scenario {
  mkdirSync(directory, { recursive: true });
  const storage = join(directory, 'storage.bin');
  writeFileSync(storage, Buffer.alloc(8192, 's'));
  return { directory, storage, renewed };
}

// Runs each scenario's directory at once, and waits for them all: one capture, one tracer's start and end, for all of
// them (a bpftrace capture spends seconds on each). Their names never meet: a directory each.
const ALL_AT_ONCE = 'python=$1; scenario=$2; shift 2; for directory; do "$python" "$scenario" "$directory" & done; wait';

/** `how` traces shared-fd-removed.py in each scenario (at once under sh when more than one), whose storage file this process removes once its first child has mapped it. */
async function traced(how: string, name: string, renewed: readonly boolean[]): Promise<{ input: string; scenarios: Scenario[] }> {
  const work = workspace(`review61-shared-fd-${how}${name}`);
  const scenarios = renewed.map((renew, index) => prepare(join(work, 'w', String(index)), renew));
  const program = scenarios.length === 1 ? [PYTHON, SCENARIO, scenarios[0]!.directory] : ['/bin/sh', '-c', ALL_AT_ONCE, 'sh', PYTHON, SCENARIO, ...scenarios.map(({ directory }) => directory)];
  const { command, args, input } = tracer(how, work, program);
  const run = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(run);
  const done = exited(run);
  const kept: number[] = [];
  try {
    await Promise.all(
      scenarios.map(async ({ directory, storage, renewed }) => {
        await waitFor(`the first child in ${directory} to map the file`, () => existsSync(join(directory, 'mapped')), 120_000);
        // Kept open here until the trace ends: its inode number is not freed when its program exits, for another
        // program's new file to take (test/capture-review50-removed-by-another.test.ts: read as the file renamed there).
        kept.push(openSync(storage, 'r'));
        // The removal by a process the trace does not follow: this one.
        unlinkSync(storage);
        if (renewed) writeFileSync(storage, Buffer.alloc(4096, 'n'));
        writeFileSync(join(directory, 'removed'), '');
      }),
    );
    const ran = await done;
    expect(ran.code, ran.stderr).toBe(0);
  } finally {
    for (const fd of kept) closeSync(fd);
  }
  return { input, scenarios };
}

/**
 * The verdict on one scenario of `input`: kept to its directory's files (--path) when other scenarios share the input.
 * The first child's own maps line says its mapping outlived the file; the report must say it is in doubt, of that
 * process (a doubt is counted by its process and file: --pid and --path, and named by both in a warning).
 */
function inDoubt({ directory, storage }: Scenario, input: string, shared: boolean): void {
  // The kernel's word: the first child's mapping outlived the file's name.
  const [pid, line] = readFileSync(join(directory, 'record.txt'), 'utf8').split('\n');
  expect(line).toMatch(new RegExp(` ${storage} \\(deleted\\)$`));

  const { report, failOn } = verdictOf(input, shared ? { path: `${directory}/**` } : {});
  // The second child's mapping, made with no name left: benign. The first child's: in doubt, of its process.
  expect(report.findings.map((finding) => (finding as { benign?: string }).benign !== undefined)).toEqual([true]);
  expect(report.summary.mappingsInDoubt, report.warnings.join('\n')).toBe(1);
  expect(failOn).toBe(2);
  expect(verdictOf(input, { path: storage, pid: Number(pid) }).report.summary.mappingsInDoubt).toBe(1);
  // The warnings are the whole input's: one names each mapping so in doubt (the first five), with its process.
  expect(
    report.warnings.some((warning) => warning.includes(storage) && warning.includes(`process ${pid}`)),
    report.warnings.join('\n'),
  ).toBe(true);
}

const TITLE = '%s: a file a fork child mapped through its parent’s fd, removed out of sight%s, then shown "(deleted)" by the next child’s mmap, is in doubt';

it.each([
  ['strace', ''],
  ['strace-filtered', ''],
  ['capture-strace', ''],
  ['capture-strace', ', a new file made at its name'],
])(
  TITLE,
  async (how, renewed) => {
    const { input, scenarios } = await traced(how, renewed === '' ? '' : '-renewed', [renewed !== '']);
    inDoubt(scenarios[0]!, input, false);
  },
  180_000,
);

describe('capture-bpftrace: both programs at once', () => {
  let captured: Awaited<ReturnType<typeof traced>>;
  beforeAll(async () => {
    captured = await traced('capture-bpftrace', '', [false, true]);
  }, 240_000);

  it.each([
    ['capture-bpftrace', ''],
    ['capture-bpftrace', ', a new file made at its name'],
  ])(TITLE, (_how, renewed) => {
    inDoubt(captured.scenarios.find((scenario) => scenario.renewed === (renewed !== ''))!, captured.input, true);
  });

  it('capture-bpftrace: one benign finding and one mapping in doubt for each program, --fail-on error exits 2', () => {
    const { report, failOn } = verdictOf(captured.input);
    expect(report.findings.map((finding) => (finding as { benign?: string }).benign !== undefined)).toEqual([true, true]);
    expect(report.summary.mappingsInDoubt, report.warnings.join('\n')).toBe(2);
    expect(failOn).toBe(2);
  });
});

// Review 50: `orphanmap capture -- …` of a driver whose `git cat-file` held
// packs mapped that an untraced `git repack` removed; cat-file exited with
// them mapped (/proc showed each "(deleted)"), and the report read clean,
// `--fail-on error` exit 0: the trace has no sign of a removal by a process
// it does not follow, and the capture looked up only maps-start.txt's names.
// It now looks up the names of the files the trace shows mapped (or renamed
// to) once the trace has ended (mapped-gone.txt), and a mapping of one still
// live when its process exited is in doubt (`--fail-on` exits 2), unless the
// trace shows that name removed or renamed after the exit (review 52, R1:
// git repack removes the packs its pack-objects child mapped, once that
// child has exited). A file the process unmapped before is not checked (as
// maps-end.txt checks only what is mapped). A file renamed, then removed out
// of sight, is checked by its new name (review 52, R2). A name removed
// through a symlinked directory is the one the lookup found gone by the
// real path (review 53, S7); a rename of that symlinked directory
// after the exit is not (review 57, F4), nor a removal of the name a later
// job wrote anew (review 53, S6), renamed or linked to it (code review 60,
// F7); a read of the name before its removal still lets it explain (F11).
// Truth: the program's own /proc/self/maps line after the removal.
// The programs of a backend run at once under one capture (one start and end of its tracer, seconds
// under bpftrace), each in a directory of its own; each one's verdict is the report kept to its file (--path).
//
// Needs strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli, verdictOf } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'removed-by-another.py');

/** The name held.pack has in `mode` when the scenario waits for it to go (its usage); `partition` its PARTITION. */
function heldName(mode: string, partition: string): string {
  if (mode === 'renamed' || mode === 'mv') return 'kept.pack';
  if (mode === 'exchanged') return 'other.pack';
  if (mode === 'dir-renamed-utf8') return `topic-${partition}.\u00e9-delete/held.pack`;
  if (mode === 'dir-renamed-tab') return `topic-${partition}.\t-delete/held.pack`;
  return mode.startsWith('dir-renamed') ? `topic-${partition}.3f2a-delete/held.pack` : 'held.pack';
}
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/** One run of removed-by-another.py: its directory, and the names it maps. */
interface Scenario {
  mode: string;
  partition: string;
  directory: string;
  held: string;
  released: string;
}

/** DIR with the files removed-by-another.py maps in `mode`, made by this process. */
function prepare(directory: string, mode: string, partition: string): Scenario {
  mkdirSync(directory, { recursive: true });
  const released = join(directory, 'released.idx');
  writeFileSync(join(directory, 'held.pack'), Buffer.alloc(16384, 'p'));
  writeFileSync(released, Buffer.alloc(8192, 'i'));
  writeFileSync(join(directory, 'scratch.bin'), Buffer.alloc(4096, 's'));
  if (mode === 'child-symlinked' || mode === 'via-moved') symlinkSync('.', join(directory, 'via'));
  return { mode, partition, directory, held: join(directory, heldName(mode, partition)), released };
}

// Runs each scenario (a directory, a mode and a partition) at once, and waits for them all: one capture, one tracer's
// start and end, for all of them (a bpftrace capture spends seconds on each). Their names never meet: a directory
// and a partition each.
const ALL_AT_ONCE = 'python=$1; scenario=$2; shift 2; while [ $# -gt 0 ]; do "$python" "$scenario" "$1" "$2" "$3" & shift 3; done; wait';

/**
 * `capture --backend BACKEND -- CMD`, CMD removed-by-another.py in each mode (at once under sh, in a directory each);
 * each scenario's held.pack (by its name then) and released.idx removed by this process once its program has mapped them.
 */
async function captureRemoved(backend: 'strace' | 'bpftrace', modes: readonly string[]) {
  const work = workspace(`review50-${backend}`);
  const scenarios = modes.map((mode, index) => prepare(join(work, 'w', String(index)), mode, String(index)));
  const bundle = join(work, 'bundle');
  const command =
    scenarios.length === 1
      ? [PYTHON, SCENARIO, scenarios[0]!.directory, modes[0]!, scenarios[0]!.partition]
      : ['/bin/sh', '-c', ALL_AT_ONCE, 'sh', PYTHON, SCENARIO, ...scenarios.flatMap(({ directory, mode, partition }) => [directory, mode, partition])];
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(capture);
  const captured = exited(capture);
  const kept: number[] = [];
  let run: Awaited<typeof captured>;
  try {
    await Promise.all(
      scenarios.map(async ({ directory, held, released }) => {
        await waitFor(`the program in ${directory} to map its files`, () => existsSync(join(directory, 'mapped')), 120_000);
        // Kept open here until the capture ends: their inode numbers are not freed when their program exits, for
        // another program's new file to take while the others run on: each program's verdict depends on its own calls
        // only (a number taken so is a case of its own: test/bundle-inode-number-taken.test.ts).
        kept.push(openSync(held, 'r'), openSync(released, 'r'));
        // The removal by a process the capture does not trace: this one.
        unlinkSync(held);
        unlinkSync(released);
      }),
    );
    run = await captured;
  } finally {
    for (const fd of kept) closeSync(fd);
  }
  expect(run.code, run.stderr).toBe(0);
  return { scenarios, bundle };
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every scenario of one capture of the modes. Its verdict is the report kept to its held.pack (`--path`: a doubt is
 * counted by its file, as a finding is); which kind of doubt each is shows in the whole report, whose warning names
 * the first of a kind and counts the rest.
 */
function inDoubtEach(backend: 'strace' | 'bpftrace', modes: readonly string[]) {
  let captured: Awaited<ReturnType<typeof captureRemoved>>;
  let gone: string[];
  beforeAll(async () => {
    captured = await captureRemoved(backend, modes);
    gone = readFileSync(join(captured.bundle, 'mapped-gone.txt'), 'utf8').split('\n');
  }, 240_000);

  it.each(modes)(`capture --backend ${backend} -- CMD %s: a file another process removed while CMD mapped it until its exit is in doubt`, (mode) => {
    const { directory, held, released } = captured.scenarios.find((scenario) => scenario.mode === mode)!;
    // The kernel's word: the mapping outlived the file's name, and the program exited with it.
    expect(readFileSync(join(directory, 'record.txt'), 'utf8')).toMatch(new RegExp(` ${escaped(held)} \\(deleted\\)\\n$`));
    // The capture's lookup found the names gone (the child's scratch.bin too, which the traced parent removed).
    expect(gone).toContain(held);
    expect(gone).toContain(released);
    if (mode.startsWith('child')) expect(gone).toContain(join(directory, 'scratch.bin'));
    const kept = verdictOf(captured.bundle, { path: held });
    expect(kept.report.findings).toEqual([]);
    expect(kept.report.summary.mappingsInDoubt, kept.report.warnings.join('\n')).toBe(1);
    expect(kept.failOn).toBe(2);
    // Unmapped before its removal: neither a finding nor in doubt.
    const unmapped = verdictOf(captured.bundle, { path: released });
    expect(unmapped.report.findings).toEqual([]);
    expect(unmapped.report.summary.mappingsInDoubt).toBe(0);
  });

  it(`capture --backend ${backend}: one mapping in doubt for each of the ${modes.length} programs, each by the lookup at the end, no error, --fail-on error exits 2`, () => {
    const { report, failOn } = verdictOf(captured.bundle);
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(modes.length);
    expect(failOn).toBe(2);
    // A verdict, not an undecided capture (which exits 2 as well): every name the trace gave a mapped file looked up.
    expect((JSON.parse(readFileSync(join(captured.bundle, 'meta.json'), 'utf8')) as { mappedGoneUnchecked: string | null }).mappedGoneUnchecked).toBeNull();
    // Under bpftrace, `again`'s open of the new held.pack can come before the child's exit in the trace (records of
    // two CPUs): the open then shows the name reaching another inode than the one still mapped, a doubt of its own,
    // which covers the lookup's. Either tells the leak, in doubt. No other kind of doubt.
    const again = captured.scenarios.find((scenario) => scenario.mode === 'again');
    const replaced = backend === 'bpftrace' && again !== undefined ? `A mapped file lost a name where the trace does not show it: the open of ${again.held} at ` : null;
    const byReplacement = report.warnings.filter((warning) => replaced !== null && warning.startsWith(replaced));
    const byLookup = report.warnings.filter((warning) => warning.includes('mapped-gone.txt'));
    expect(byLookup, report.warnings.join('\n')).toHaveLength(1);
    expect(byReplacement.length).toBeLessThanOrEqual(1);
    // "process N held a mapping of NAME until it exited or exec'd (…), and K more mappings so": K + 1 by the lookup.
    const counted = /^process \d+ held a mapping of .+? until it exited or exec'd \([^)]*\)(?:, and (\d+) more mappings so)?;/.exec(byLookup[0]!);
    expect(counted, byLookup[0]).not.toBeNull();
    expect(1 + Number(counted![1] ?? 0) + byReplacement.length).toBe(modes.length);
  });
}

describe('strace: every program at once', () => {
  inDoubtEach('strace', [
    '',
    'renamed',
    'mv',
    'dir-renamed',
    'dir-renamed-mv',
    'dir-renamed-comm',
    'dir-renamed-utf8',
    'exchanged',
    'child',
    'child-symlinked',
    'via-moved',
    'again',
    'again-excl',
    'again-rename',
    'again-link',
    'child-read',
  ]);
});

describe('bpftrace: every program at once', () => {
  inDoubtEach('bpftrace', ['', 'dir-renamed', 'dir-renamed-mv', 'dir-renamed-utf8', 'exchanged', 'again']);
});

// Review 66, A-2: the lookup printed the name of a directory renamed to one strace escapes (a tab) as strace spelled
// it, which names no file, and said nothing: the leak read clean, exit 0. No list can hold such a name: meta.json
// says names went unchecked, and the verdict is undecided (--fail-on exits 2).
it.each(['strace', 'bpftrace'] as const)(
  'capture --backend %s -- CMD dir-renamed-tab: a mapped file whose directory took a name no list can hold leaves the verdict undecided',
  async (backend) => {
    const { scenarios, bundle } = await captureRemoved(backend, ['dir-renamed-tab']);
    const { directory, held } = scenarios[0]!;
    expect(readFileSync(join(directory, 'record.txt'), 'utf8')).toContain(`${held} (deleted)`);
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { mappedGoneUnchecked: string | null };
    expect(meta.mappedGoneUnchecked).toMatch(
      /^\d+ names the trace gave mapped files were not looked up \(a control character, which no list can hold, or a relative name whose real path is not known\)$/,
    );
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { warnings: string[] };
    expect(report.warnings.filter((warning) => warning.includes('could not check whether every file mapped during its trace still had its name'))).toHaveLength(1);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  },
  180_000,
);

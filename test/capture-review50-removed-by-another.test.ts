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
//
// Needs strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'removed-by-another.py');

/** The name held.pack has in `mode` when the scenario waits for it to go (its usage). */
function heldName(mode: string): string {
  if (mode === 'renamed' || mode === 'mv') return 'kept.pack';
  if (mode === 'exchanged') return 'other.pack';
  if (mode === 'dir-renamed-utf8') return 'topic-0.\u00e9-delete/held.pack';
  if (mode === 'dir-renamed-tab') return 'topic-0.\t-delete/held.pack';
  return mode.startsWith('dir-renamed') ? 'topic-0.3f2a-delete/held.pack' : 'held.pack';
}
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/** `capture --backend BACKEND -- removed-by-another.py DIR MODE`, removing held.pack's last name and released.idx once mapped. */
async function captureRemoved(backend: 'strace' | 'bpftrace', mode: string) {
  const work = workspace(`review50-${backend}`);
  const directory = join(work, 'w');
  const released = join(directory, 'released.idx');
  writeFileSync(join(directory, 'held.pack'), Buffer.alloc(16384, 'p'));
  writeFileSync(released, Buffer.alloc(8192, 'i'));
  writeFileSync(join(directory, 'scratch.bin'), Buffer.alloc(4096, 's'));
  if (mode === 'child-symlinked' || mode === 'via-moved') symlinkSync('.', join(directory, 'via'));
  const held = join(directory, heldName(mode));
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', PYTHON, SCENARIO, directory, ...(mode === '' ? [] : [mode])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(capture);
  const captured = exited(capture);
  await waitFor('the program to map its files', () => existsSync(join(directory, 'mapped')), 120_000);
  // The removal by a process the capture does not trace: this one.
  unlinkSync(held);
  unlinkSync(released);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  return { directory, held, released, bundle };
}

it.each([
  ['strace', ''],
  ['bpftrace', ''],
  ['strace', 'renamed'],
  ['strace', 'mv'],
  ['strace', 'dir-renamed'],
  ['bpftrace', 'dir-renamed'],
  ['strace', 'dir-renamed-mv'],
  ['bpftrace', 'dir-renamed-mv'],
  ['strace', 'dir-renamed-comm'],
  ['strace', 'dir-renamed-utf8'],
  ['bpftrace', 'dir-renamed-utf8'],
  ['strace', 'exchanged'],
  ['bpftrace', 'exchanged'],
  ['strace', 'child'],
  ['strace', 'child-symlinked'],
  ['strace', 'via-moved'],
  ['strace', 'again'],
  ['bpftrace', 'again'],
  ['strace', 'again-excl'],
  ['strace', 'again-rename'],
  ['strace', 'again-link'],
  ['strace', 'child-read'],
] as const)(
  'capture --backend %s -- CMD %s: a file another process removed while CMD mapped it until its exit is in doubt',
  async (backend, mode) => {
    const { directory, held, released, bundle } = await captureRemoved(backend, mode);
    // The kernel's word: the mapping outlived the file's name, and the program exited with it.
    expect(readFileSync(join(directory, 'record.txt'), 'utf8')).toMatch(new RegExp(` ${held} \\(deleted\\)\\n$`));
    // The capture's lookup found the names gone (the child's scratch.bin too, which the traced parent removed).
    const gone = readFileSync(join(bundle, 'mapped-gone.txt'), 'utf8').split('\n');
    expect(gone).toContain(held);
    expect(gone).toContain(released);
    if (mode.startsWith('child')) expect(gone).toContain(join(directory, 'scratch.bin'));

    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    // Under bpftrace, `again`'s open of the new held.pack can come before the child's exit in the trace (records of
    // two CPUs): the open then shows the name reaching another inode than the one still mapped, a doubt of its own,
    // which covers the lookup's. Either tells the leak, in doubt.
    const replaced = backend === 'bpftrace' && mode === 'again' ? `A mapped file lost a name where the trace does not show it: the open of ${held} at ` : null;
    const told = report.warnings.filter((warning) => warning.includes('mapped-gone.txt') || (replaced !== null && warning.startsWith(replaced)));
    expect(told, report.warnings.join('\n')).toHaveLength(1);
    if (replaced === null || !told[0]!.startsWith(replaced)) expect(told[0]).toMatch(new RegExp(`^process \\d+ held a mapping of ${held} until it exited or exec'd`));
    expect(told[0]).not.toContain(released);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  },
  180_000,
);

// Review 66, A-2: the lookup printed the name of a directory renamed to one strace escapes (a tab) as strace spelled
// it, which names no file, and said nothing: the leak read clean, exit 0. No list can hold such a name: meta.json
// says names went unchecked, and the verdict is undecided (--fail-on exits 2).
it.each(['strace', 'bpftrace'] as const)(
  'capture --backend %s -- CMD dir-renamed-tab: a mapped file whose directory took a name no list can hold leaves the verdict undecided',
  async (backend) => {
    const { directory, held, bundle } = await captureRemoved(backend, 'dir-renamed-tab');
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

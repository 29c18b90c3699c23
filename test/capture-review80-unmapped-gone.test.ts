// Review 80, F3: a daemon-style reload. A file a traced program mapped (and
// closed its fd) was replaced by a process the trace does not follow (a new
// file renamed over its name: a deploy, an atomic save); the program mapped
// the name again, the new file, then unmapped the old one, and lived on.
// /proc/self/maps showed the old mapping "(deleted)" until the munmap; under
// strace the report read clean, exit 0, though the capture's lookup at the
// end found the name leading to a file born during the capture
// (mapped-named.txt). Only mappings live at their process's exit were
// checked against that lookup. Now one unmapped while its process lived is
// too, when that file was born after the mapping was made and before the
// munmap: the rename that put it there may have come before the munmap. One
// born after the munmap came after it: no doubt.
// strace only: under bpftrace the reload's open shows the name reaching
// another inode while the old one is mapped, a doubt of its own (the review
// found that capture right), and its clock is not the births'. (F2, a file
// removed out of sight while mapped, then unmapped, is still missed:
// docs/report.md.)
//
// One capture runs four programs in turn, each mapping a file of its own;
// this test plays the untraced process. Truth: each program's own
// /proc/self/maps line of its file, read just before its munmap. And the
// review's attached form: the file mapped before `capture --pid`, known by
// its maps-start.txt line, whose inode tells it from the file born since.
//
// Needs strace and /usr/bin/python3.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/**
 * Maps DIR/data.bin (1 MiB, shared, with libc's mmap) and closes its fd, writes DIR/mapped, waits for DIR/go,
 * writes its /proc/self/maps lines of DIR to DIR/truth.txt, (`reloaded`) maps the file its name now leads to, as a
 * daemon reloads its data, and unmaps the first; (`later`) writes the truth and unmaps before it writes DIR/mapped.
 */
const PROGRAM = `
import ctypes, mmap, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
directory, mode = sys.argv[1], sys.argv[2]
data = os.path.join(directory, "data.bin")
fd = os.open(data, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 1 << 20)
address = libc.mmap(None, 1 << 20, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
os.close(fd)
def release():
    with open("/proc/self/maps") as maps, open(os.path.join(directory, "truth.txt"), "w") as truth:
        truth.write("".join(line for line in maps if directory in line))
    if mode == "reloaded":
        fd = os.open(data, os.O_RDONLY)
        libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        os.close(fd)
    libc.munmap(address, 1 << 20)
if mode == "later":
    release()
open(os.path.join(directory, "mapped"), "w").close()
while not os.path.exists(os.path.join(directory, "go")):
    time.sleep(0.02)
if mode != "later":
    release()
`;

/** What this test, untraced, does to each program's file once it says it has mapped it. */
const MODES = {
  /** Renames another file over it: the mapping outlived it until the munmap. */
  replaced: (data: string) => replace(data, 'n'),
  /** Likewise, and the program maps the new file by that name before it unmaps the first. */
  reloaded: (data: string) => replace(data, 'n'.repeat(4096)),
  /** Likewise, once the program has unmapped it: a file born after the munmap. */
  later: (data: string) => replace(data, 'n'),
  /** Nothing: the file keeps its name. */
  kept: () => {},
} as const;
type Mode = keyof typeof MODES;

/** A new file renamed over `data`, as a deploy or an atomic save puts it there. */
function replace(data: string, text: string): void {
  writeFileSync(`${data}.new`, text);
  renameSync(`${data}.new`, data);
}

interface Report {
  findings: unknown[];
  warnings: string[];
  summary: { mappingsInDoubt: number };
}

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));
beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The four programs, one after the other, under one strace capture: the bundle, and each program's directory and truth. */
async function captured() {
  const work = realpathSync(workspace('review80'));
  const modes = Object.keys(MODES) as Mode[];
  const directories = modes.map((mode) => join(work, 'w', mode));
  const script = modes.map((mode, k) => `mkdir -p '${directories[k]}' && ${PYTHON} -c "$0" '${directories[k]}' ${mode}`).join(' && ');
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', '/bin/sh', '-c', script, PROGRAM], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(capture);
  const ended = exited(capture);
  for (const [k, mode] of modes.entries()) {
    const directory = directories[k]!;
    await waitFor(`program ${mode} to map its file`, () => existsSync(join(directory, 'mapped')), 90_000);
    // A birth is read from the kernel's coarse clock, a tick behind (4 ms here): a file made within a tick of strace's
    // time of the mmap (or, `later`, the munmap) reads as born before it (a limit docs/report.md states; review 70's
    // test met it 1 run in about 20, the poll above seeing DIR/mapped 0 to 50 ms after it is made). The scenario is
    // a deploy made later than that.
    await new Promise((resolve) => setTimeout(resolve, 25));
    MODES[mode](join(directory, 'data.bin'));
    writeFileSync(join(directory, 'go'), '');
  }
  const result = await ended;
  expect(result.code, result.stderr).toBe(0);
  const truth = Object.fromEntries(modes.map((mode, k) => [mode, readFileSync(join(directories[k]!, 'truth.txt'), 'utf8')])) as Record<Mode, string>;
  return { bundle, directories: Object.fromEntries(modes.map((mode, k) => [mode, directories[k]!])) as Record<Mode, string>, truth };
}

it('capture --backend strace: a file replaced out of sight (and mapped again by its name, as a reload does), then unmapped, is in doubt, and --fail-on error exits 2; one replaced after the munmap, or kept, is not', async () => {
  const { bundle, directories, truth } = await captured();
  // The truth: the first two mappings outlived their files' names until the munmap; the others did not.
  expect(truth.replaced).toMatch(new RegExp(` ${join(directories.replaced, 'data.bin')} \\(deleted\\)\\n$`));
  expect(truth.reloaded).toMatch(new RegExp(` ${join(directories.reloaded, 'data.bin')} \\(deleted\\)\\n$`));
  expect(truth.later).toMatch(new RegExp(` ${join(directories.later, 'data.bin')}\\n$`));
  expect(truth.kept).toMatch(new RegExp(` ${join(directories.kept, 'data.bin')}\\n$`));

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt, report.warnings.join('\n')).toBe(2);
  // The first named, with where it was unmapped, and the other counted.
  expect(report.warnings.join('\n')).toMatch(
    new RegExp(`held a mapping of ${join(directories.replaced, 'data.bin')} until it unmapped it \\(\\S+trace\\.txt:\\d+\\), and 1 more mappings so; .*leading to another file`),
  );
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  // Each doubt counted under its own file.
  for (const [mode, doubts] of [
    ['replaced', 1],
    ['reloaded', 1],
    ['later', 0],
    ['kept', 0],
  ] as const) {
    const only = JSON.parse(runCli(['analyze', bundle, '--format', 'json', '--path', `${directories[mode]}/*`]).stdout) as Report;
    expect([mode, only.summary.mappingsInDoubt]).toEqual([mode, doubts]);
  }
}, 120_000);

/**
 * PROGRAM in a process that lives on: once it has unmapped the first file (`reloaded`), writes DIR/released, and exits
 * at DIR/done.
 */
const DAEMON = `${PROGRAM}
open(os.path.join(directory, "released"), "w").close()
while not os.path.exists(os.path.join(directory, "done")):
    time.sleep(0.02)
`;

it('capture --pid --backend strace: a file mapped before the attach, replaced out of sight, reloaded, then unmapped, is in doubt', async () => {
  const work = realpathSync(workspace('review80-attached'));
  const directory = join(work, 'w');
  const program = spawn(PYTHON, ['-c', DAEMON, directory, 'reloaded'], { stdio: 'ignore' });
  started.push(program);
  await waitFor('the program to map its file', () => existsSync(join(directory, 'mapped')), 30_000);
  const bundle = join(work, 'bundle');
  const capture = await captureAttached('strace', program, bundle, started, [], 'snapshots');
  // The capture's process, the last started.
  const capturing = started.at(-1)!;
  expect(readFileSync(join(bundle, 'maps-start.txt'), 'utf8')).toContain(` ${join(directory, 'data.bin')}\n`);
  replace(join(directory, 'data.bin'), 'n'.repeat(4096));
  writeFileSync(join(directory, 'go'), '');
  await waitFor('the program to unmap the first file', () => existsSync(join(directory, 'released')), 30_000);
  capturing.kill('SIGINT');
  const result = await capture.captured;
  expect(result.code, result.stderr).toBe(130);
  writeFileSync(join(directory, 'done'), '');
  // The truth: the mapping made before the attach outlived the file's name until the munmap.
  expect(readFileSync(join(directory, 'truth.txt'), 'utf8')).toMatch(new RegExp(` ${join(directory, 'data.bin')} \\(deleted\\)\\n$`));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt, report.warnings.join('\n')).toBe(1);
  expect(report.warnings.join('\n')).toMatch(new RegExp(`held a mapping of ${join(directory, 'data.bin')} until it unmapped it \\(\\S+trace\\.txt:\\d+\\); .*leading to another file`));
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
}, 120_000);

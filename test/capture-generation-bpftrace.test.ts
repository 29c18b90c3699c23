// An inode number names a file only while the file lives: ext4 gives a freed
// number to the next file made, at once. A bpftrace capture now prints each
// opened file's generation too (a `gen` record before the open's), and two
// files that held one number are told apart. Both cases read wrong before:
// - a file a traced program mapped, removed by a process the capture does not
//   trace, the program exiting with it still mapped; the name then made anew,
//   taking the freed number, and opened by a traced step: the open looked
//   like the same file again (review 74, F5), and the report read clean,
//   exit 0, while /proc showed the mapping "(deleted)";
// - a file a traced program mapped, renamed elsewhere by a process the
//   capture does not trace (a new file put at its name), unmapped, then
//   opened by its new name: taken for a new file that took the number, the
//   mapping stayed in doubt, exit 2, while /proc showed the file under its
//   new name and it never lost its last one.
// And two that review 78 found in the first form of the change:
// - overlayfs (every container's root) gives every file generation 0, and
//   takes its numbers from its upper layer, which gives them back at once: a
//   file removed out of sight while mapped, whose number the program's next
//   file took, read clean (its close, link count 1, "the same file");
// - a program may change its own file's generation (FS_IOC_SETVERSION, on
//   ext4 without metadata_csum): one that did so while it held the file
//   mapped, then removed it, hid its own finding, exit 0.
// The files are on ext4 loop mounts of the test's own, where nothing else
// makes or frees files: a freed number comes back on the next file made.
// Truth: the programs' own records (inode numbers and FS_IOC_GETVERSION's
// generations, /proc/self/maps).
//
// Needs root (it mounts), bpftrace and mkfs.ext4.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, verdictOf } from './support/tools.js';
import { mountExt4 } from './support/ext4.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'generation.py');
const children: ChildProcess[] = [];
const mounts: string[] = [];

// rename-away in A, unlink-away in C (overlayfs), stale and hold in B at once, then reopen in B once hold has exited,
// then setversion in D.
const PROGRAMS =
  'python=$0; scenario=$1; "$python" "$scenario" rename-away "$2" & "$python" "$scenario" unlink-away "$4" & ' +
  '"$python" "$scenario" stale "$3" & "$python" "$scenario" hold "$3"; "$python" "$scenario" reopen "$3"; "$python" "$scenario" setversion "$5"; wait';

afterEach(() => killStillRunning(children));
afterAll(() => {
  for (const mount of mounts) spawnSync('umount', ['-l', mount]);
});

interface Record {
  /** `NAME ino=N gen=G` lines by NAME. */
  files: Map<string, { ino: number; gen: number }>;
  /** The program's /proc/self/maps lines of its directory. */
  maps: string[];
}

function recordOf(directory: string): Record {
  const files = new Map<string, { ino: number; gen: number }>();
  const maps: string[] = [];
  for (const line of readFileSync(join(directory, 'record.txt'), 'utf8').split('\n')) {
    if (line.startsWith('maps ')) maps.push(line.slice('maps '.length));
    const file = /^(\w+) ino=(\d+) gen=(-?\d+)$/.exec(line);
    if (file !== null) files.set(file[1]!, { ino: Number(file[2]), gen: Number(file[3]) });
  }
  return { files, maps };
}

const pidIn = (directory: string) => Number(readFileSync(join(directory, 'pid'), 'utf8'));

describe('capture --backend bpftrace: two files with one inode number', () => {
  let bundle: string;
  let renamed: { directory: string; pid: number };
  let held: { directory: string; pid: number };
  let overlaid: { directory: string; pid: number };
  let versioned: { directory: string };

  beforeAll(async () => {
    for (const tool of ['bpftrace', 'mount', 'umount', 'mkfs.ext4', PYTHON]) requireTool(tool);
    const work = workspace('generation');
    // Without metadata_csum, for setversion: ext4 refuses FS_IOC_SETVERSION with it.
    const files = join(work, 'fs');
    mountExt4(join(work, 'ext4.img'), files, mounts, ['-O', '^metadata_csum']);
    const base = join(work, 'base');
    mountExt4(join(work, 'base.img'), base, mounts);
    for (const layer of ['lower', 'upper', 'work']) mkdirSync(join(base, layer));
    const merged = join(work, 'overlay');
    mkdirSync(merged);
    const overlay = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(base, 'lower')},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`, merged], {
      encoding: 'utf8',
    });
    expect(overlay.status, `cannot mount overlayfs: ${overlay.stderr}`).toBe(0);
    mounts.unshift(merged);
    const [a, b, c, d] = [join(files, 'a'), join(files, 'b'), join(merged, 'c'), join(files, 'd')];
    for (const directory of [a, b, c, d]) mkdirSync(directory);
    versioned = { directory: d };
    bundle = join(work, 'bundle');
    const capturing = spawn(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', '/bin/sh', '-c', PROGRAMS, PYTHON, SCENARIO, a, b, c, d], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(capturing);
    const run = exited(capturing);
    // One after the other: a file made in a/ once hold's file is freed would take its number.
    await waitFor('rename-away to map a/cache.bin', () => existsSync(join(a, 'mapped')), 120_000);
    renamed = { directory: a, pid: pidIn(a) };
    // This process is not traced: the rename and the new file are out of the trace's sight.
    renameSync(join(a, 'cache.bin'), join(a, 'moved.bin'));
    writeFileSync(join(a, 'cache.bin'), Buffer.alloc(16384, 'n'));
    writeFileSync(join(a, 'go'), '');
    await waitFor('unlink-away to map c/cache.bin', () => existsSync(join(c, 'mapped')), 120_000);
    overlaid = { directory: c, pid: pidIn(c) };
    unlinkSync(join(c, 'cache.bin'));
    writeFileSync(join(c, 'cache.bin'), Buffer.alloc(16384, 'n'));
    writeFileSync(join(c, 'go'), '');
    await waitFor('hold to map b/cache.bin', () => existsSync(join(b, 'mapped')), 120_000);
    held = { directory: b, pid: Number(readFileSync(join(b, 'record.txt'), 'utf8').match(/^hold pid=(\d+)$/m)![1]) };
    // stale has cache.bin open by then, on an fd the trace will believe open after its exec closed it.
    await waitFor('stale to open b/cache.bin', () => existsSync(join(b, 'stale')), 120_000);
    unlinkSync(join(b, 'cache.bin'));
    writeFileSync(join(b, 'go'), '');
    // Once hold has exited, nothing holds the removed file, and its number is free: the next file made takes it.
    await waitFor('hold to exit', () => !existsSync(`/proc/${held.pid}`), 60_000);
    writeFileSync(join(b, 'cache.bin'), Buffer.alloc(16384, 'n'));
    writeFileSync(join(b, 'made'), '');
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
  }, 240_000);

  it('a file removed out of sight while held, its number taken by the file made anew at its name and opened by a traced step: in doubt', () => {
    const { directory, pid } = held;
    const name = join(directory, 'cache.bin');
    const { files, maps } = recordOf(directory);
    // The kernel's word: the mapping outlived the file's name; the file opened later had its number, not its generation.
    expect(maps.filter((line) => line.endsWith(`${name} (deleted)`))).toHaveLength(1);
    const [before, after] = [files.get('mapped')!, files.get('reopened')!];
    expect(after.ino).toBe(before.ino);
    expect(after.gen).not.toBe(before.gen);
    // So the trace's two opens of the name show one number.
    const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n');
    const numbers = trace.filter((line) => line.includes(' open ') && line.includes(` path=${name} `)).map((line) => /ino=(\d+)/.exec(line)![1]);
    expect(new Set(numbers)).toEqual(new Set([String(before.ino)]));
    expect(numbers.length).toBeGreaterThanOrEqual(2);
    // The program beside it that held the file by an fd marked close-on-exec by ioctl, then exec'd: the trace has the ioctl.
    const stale = readFileSync(join(directory, 'record.txt'), 'utf8').match(/^stale pid=(\d+)$/m)![1];
    expect(trace.filter((line) => line.includes(` ${stale} ${stale} setfd fd=9 fdflags=0x1 ret=0`))).toHaveLength(1);

    const { report, failOn } = verdictOf(bundle, { pid });
    expect([report.findings, report.summary.mappingsInDoubt], report.warnings.join('\n')).toEqual([[], 1]);
    expect(failOn).toBe(2);
    // (One warning tells every such doubt of the capture's: the overlayfs case's too.)
    const told = report.warnings.filter((warning) => warning.startsWith('A mapped file lost a name where the trace does not show it: '));
    expect(told, report.warnings.join('\n')).toHaveLength(1);
    expect(told[0]).toContain(`the open of ${name} at `);
    expect(told[0]).toContain(`reached inode ${before.ino} of generation ${after.gen}, not ${before.gen}: a file made since`);
  });

  it('a file renamed out of sight while held, unmapped, then opened by its new name: no doubt', () => {
    const { directory, pid } = renamed;
    const { files, maps } = recordOf(directory);
    // The kernel's word: the mapping showed the file under its new name, and the open of that name reached it.
    expect(maps.filter((line) => line.includes('(deleted)'))).toEqual([]);
    expect(maps.filter((line) => line.endsWith(` ${join(directory, 'moved.bin')}`))).toHaveLength(1);
    expect(files.get('moved')).toEqual(files.get('mapped'));
    expect(files.get('reopened')!.ino).not.toBe(files.get('mapped')!.ino);

    const { report, failOn } = verdictOf(bundle, { pid });
    expect([report.findings, report.summary.mappingsInDoubt], report.warnings.join('\n')).toEqual([[], 0]);
    expect(failOn).toBe(0);
  });

  it('overlayfs (generation 0 for every file): a file removed out of sight while held, its number taken by the next file the program made: in doubt', () => {
    const { directory, pid } = overlaid;
    const name = join(directory, 'cache.bin');
    const { files, maps } = recordOf(directory);
    expect(maps.filter((line) => line.endsWith(`${name} (deleted)`))).toHaveLength(1);
    // The file made after the munmap took the removed file's number; overlayfs gives no generation.
    expect(files.get('unmapped')!.ino).toBe(files.get('mapped')!.ino);
    expect(files.get('mapped')!.gen).toBe(-1);

    const { report, failOn } = verdictOf(bundle, { pid });
    expect([report.findings, report.summary.mappingsInDoubt], report.warnings.join('\n')).toEqual([[], 1]);
    expect(failOn).toBe(2);
  });

  it('a program that changes the generation of a file it holds mapped, then removes it: the finding stands', () => {
    const { directory } = versioned;
    const name = join(directory, 'x.bin');
    const { files, maps } = recordOf(directory);
    expect(maps.filter((line) => line.endsWith(`${name} (deleted)`))).toHaveLength(1);
    expect(files.get('changed')!.gen).not.toBe(files.get('mapped')!.gen);
    expect(files.get('restored')).toEqual(files.get('mapped'));

    const { report, failOn } = verdictOf(bundle, { path: name });
    const findings = report.findings as { kind: string; path: string }[];
    expect(
      findings.map((finding) => [finding.kind, finding.path]),
      report.warnings.join('\n'),
    ).toEqual([['unlinked-while-mapped', name]]);
    expect(report.summary.mappingsInDoubt).toBe(0);
    expect(failOn).toBe(3);
  });
});

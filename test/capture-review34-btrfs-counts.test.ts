// Review 34's code review, 1: the link counts carry the file's device since
// review 34's attack F4 (inode numbers repeat across file systems), but on
// btrfs stat gives a file its subvolume's device, and /proc/PID/maps prints
// its superblock's: they never agree, and every count of a btrfs file was
// thrown away (a hard link made before the attach, a name left at the end).
// The counts carry the file system's type too, and a btrfs file's count is
// matched by its inode, as before.
//
// The program of test/capture-review33-linked-out-of-sight.test.ts (a mapped
// file given a second name by a process the trace does not follow, then
// unlinked by its first under the trace), its files on a btrfs loop mount,
// under the real strace. The truth: the program's own stat of the second
// name, and Node's stat of the file against the maps' device.
//
// Needs root, strace, mkfs.btrfs and a loop device.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { linkedOutOfSight } from './support/linked-out-of-sight.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';

const children: ChildProcess[] = [];
let mounted: string | null = null;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review34-btrfs-counts.test.ts must run as root (capture --pid, mount)');
  requireTool('strace');
  requireTool('mkfs.btrfs');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));
afterAll(() => {
  if (mounted !== null) execFileSync('umount', [mounted]);
});

it('capture --pid (strace) on btrfs: the count at the end, of another device than the maps print, still takes back the finding a name left contradicts', async () => {
  const base = realpathSync(workspace('btrfs-counts'));
  const image = join(base, 'btrfs.img');
  execFileSync('truncate', ['-s', '160M', image]);
  execFileSync('mkfs.btrfs', ['-q', image]);
  const work = join(base, 'mnt');
  mkdirSync(work);
  execFileSync('mount', ['-o', 'loop', image, work]);
  mounted = work;

  const bundle = join(base, 'bundle');
  const a = await linkedOutOfSight(work, bundle, children);

  // The file system's word: stat gives the file a device the maps do not print.
  const { ino: inode, dev } = statSync(join(work, 'b'));
  const mapsLine = readFileSync(join(bundle, 'maps-end.txt'), 'utf8')
    .split('\n')
    .find((line) => line.endsWith(`${a} (deleted)`))!;
  const [major, minor] = mapsLine
    .split(/\s+/)[3]!
    .split(':')
    .map((hex) => Number.parseInt(hex, 16));
  expect(`${major}:${minor}`).not.toBe(`${Math.floor(dev / 256) & 0xfff}:${dev & 0xff}`);
  expect(readFileSync(join(bundle, 'maps-end.nlink'), 'utf8')).toMatch(new RegExp(` 1 ${inode} ${dev} btrfs$`, 'm'));

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  expect(report.findings.filter((finding) => finding.path === a).map((finding) => [finding.severity, finding.benign])).toEqual([['info', 'kept by another name']]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
}, 120_000);

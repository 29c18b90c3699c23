// Review 22, F2: a process in its own mount namespace can make /proc print
// files of a real disk as "/memfd:cache", "/SYSV00001234" and "/dev/zero":
// scan took them by name for the kernel's own objects (which never had a
// name to lose) and counted 0 mappings of deleted files, 0 bytes, while 3 MiB
// of the disk were held. Those objects live on the kernel's internal mounts
// (device major 0); the device the maps line gives now decides. Review 23:
// so is every tmpfs (overlayfs, btrfs, NFS, FUSE): in a tmpfs root of its
// own, the same names hid 3 MiB of RAM. A device the process's mountinfo
// shows is a file system's, never the kernel's internal mounts'.
// Truth: /proc/PID/maps of the real program, read by this test.
//
// Needs root (unshare -m, pivot_root) and /usr/bin/python3.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const SCRIPT = join(import.meta.dirname, 'scenarios', 'kernel-names-on-disk.sh');

const children: ChildProcess[] = [];

/** The script in `mode` (a real disk, or a tmpfs of its own): its program's pid. */
async function started(mode: 'disk' | 'tmpfs'): Promise<number> {
  const child = spawn('bash', [SCRIPT, join(workspace(`kernel-names-${mode}`), 'root'), ...(mode === 'tmpfs' ? ['tmpfs'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const pid = Number(first.value);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

beforeAll(() => {
  for (const tool of ['unshare', 'pivot_root', '/usr/bin/python3']) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('this test needs root (unshare -m, pivot_root): run it as root, as .ci/run does');
});

afterAll(() => {
  for (const child of children) {
    child.stdin?.end();
    child.kill();
  }
});

/** The "(deleted)" lines of the process's /proc/PID/maps: three of 1 MiB, named as the kernel's objects. */
function deletedIn(pid: number): string[] {
  const deleted = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(' (deleted)'));
  expect(deleted.map((line) => line.split(/\s+/).at(-2))).toEqual(['/dev/zero', '/SYSV00001234', '/memfd:cache']);
  for (const line of deleted) {
    const [start, end] = line
      .split(/\s+/)[0]!
      .split('-')
      .map((hex) => Number.parseInt(hex, 16));
    expect(end! - start!).toBe(1 << 20);
  }
  return deleted;
}

function scanned(pid: number): number[][] {
  const result = runCli(['scan', '--pid', String(pid), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const scan = JSON.parse(result.stdout) as { processes: { pid: number; deletedMappings: number; deletedBytes: number; anonymousDeletedMappings: number }[] };
  return scan.processes.map((p) => [p.pid, p.deletedMappings, p.deletedBytes, p.anonymousDeletedMappings]);
}

it('scan counts the files of a real disk named as kernel objects, as /proc shows them', async () => {
  const pid = await started('disk');
  // /proc: on a block device (major not 0).
  for (const line of deletedIn(pid)) expect(line.split(/\s+/)[3]).not.toMatch(/^0+:/);
  expect(scanned(pid)).toEqual([[pid, 3, 3 << 20, 0]]);
}, 30_000);

it("and those of a tmpfs of its own (review 23: major 0, as the kernel's mounts are, but shown in its mountinfo)", async () => {
  const pid = await started('tmpfs');
  for (const line of deletedIn(pid)) expect(line.split(/\s+/)[3]).toMatch(/^0+:/);
  expect(scanned(pid)).toEqual([[pid, 3, 3 << 20, 0]]);
}, 30_000);

it("while a real memfd and a shared /dev/zero mapping stay the kernel's objects", async () => {
  const program = spawn(
    '/usr/bin/python3',
    [
      '-c',
      'import mmap, os, sys\nfd = os.memfd_create("cache")\nos.ftruncate(fd, 1 << 20)\nm = mmap.mmap(fd, 1 << 20)\nz = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_SHARED)\nprint(os.getpid(), flush=True)\nsys.stdin.read()',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.push(program);
  const pid = Number((await createInterface({ input: program.stdout! })[Symbol.asyncIterator]().next()).value);
  const names = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(' (deleted)'))
    .map((line) => line.split(/\s+/).at(-2));
  expect(names.sort()).toEqual(['/dev/zero', '/memfd:cache']);
  expect(scanned(pid)).toEqual([[pid, 0, 0, 2]]);
}, 30_000);

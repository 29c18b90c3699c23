// Review 22, F2: a process in its own mount namespace can make /proc print
// files of a real disk as "/memfd:cache", "/SYSV00001234" and "/dev/zero":
// scan took them by name for the kernel's own objects (which never had a
// name to lose) and counted 0 mappings of deleted files, 0 bytes, while 3 MiB
// of the disk were held. Those objects live on the kernel's internal mounts
// (device major 0); the device the maps line gives now decides.
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

let child: ChildProcess;
let pid = 0;

beforeAll(async () => {
  for (const tool of ['unshare', 'pivot_root', '/usr/bin/python3']) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('this test needs root (unshare -m, pivot_root): run it as root, as .ci/run does');
  child = spawn('bash', [SCRIPT, join(workspace('kernel-names'), 'root')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  pid = Number(first.value);
  expect(pid).toBeGreaterThan(0);
}, 30_000);

afterAll(() => {
  child?.stdin?.end();
  child?.kill();
});

it('scan counts the files of a real disk named as kernel objects, as /proc shows them', () => {
  const deleted = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(' (deleted)'));
  // /proc: three mappings of 1 MiB, named as the kernel's objects, on a block device (major not 0).
  expect(deleted.map((line) => line.split(/\s+/).at(-2))).toEqual(['/dev/zero', '/SYSV00001234', '/memfd:cache']);
  for (const line of deleted) {
    const [range, , , dev] = line.split(/\s+/);
    const [start, end] = range!.split('-').map((hex) => Number.parseInt(hex, 16));
    expect(end! - start!).toBe(1 << 20);
    expect(dev).not.toMatch(/^0+:/);
  }
  const result = runCli(['scan', '--pid', String(pid), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const scan = JSON.parse(result.stdout) as { processes: { pid: number; deletedMappings: number; deletedBytes: number; anonymousDeletedMappings: number }[] };
  expect(scan.processes.map((p) => [p.pid, p.deletedMappings, p.deletedBytes, p.anonymousDeletedMappings])).toEqual([[pid, 3, 3 << 20, 0]]);
});

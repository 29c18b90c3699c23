// Review 25 (attack), F7: a thread with a mount namespace of its own
// (unshare(CLONE_NEWNS) in one thread: Go's LockOSThread does it, and an
// unprivileged user may in a user namespace) mounted a tmpfs there and
// mapped a 64 MiB file named "/memfd:cache" on it, unlinked. The mapping is
// the whole process's; the tmpfs is in that thread's mountinfo alone, and
// scan read the main thread's: the name read as a kernel object, and scan
// and its metrics said 0. Scan reads each mount namespace of the process's
// threads now.
//
// A real program (test/scenarios/thread-namespace.py); the truth is its
// own /proc/self/maps line of the deleted file.
//
// Needs root.
import { type ChildProcess, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { REPO, runCli } from './support/tools.js';

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/scan-review25-thread-namespace.test.ts must run as root (a mount namespace of its own)');
});

it("scan: a deleted file of a tmpfs only a thread's mount namespace holds is counted, not taken for a kernel object", async () => {
  const work = realpathSync(workspace('scan-thread-namespace'));
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'thread-namespace.py'), work], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  const pid = Number((await lines.next()).value);
  const truth = (await lines.next()).value as string;
  expect(pid).toBe(program.pid);
  expect(truth).toMatch(/ rw-s 00000000 00:\w+ \d+ +\/memfd:cache \(deleted\)$/);
  const [start, end] = truth
    .split(' ')[0]!
    .split('-')
    .map((hex) => Number.parseInt(hex, 16));

  const scan = runCli(['scan', '--pid', String(pid), '--format', 'json']);
  expect(scan.status, scan.stderr).toBe(0);
  const report = JSON.parse(scan.stdout) as { processes: { pid: number; deletedMappings: number; deletedBytes: number }[] };
  expect(report.processes).toMatchObject([{ pid, deletedMappings: 1, deletedBytes: end! - start! }]);
}, 60_000);

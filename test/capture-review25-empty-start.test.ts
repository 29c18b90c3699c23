// Review 25 (exactness), D5: `live --pid` (bpftrace) attached to a JVM as it
// exited read its maps at the start empty, and took that for a snapshot of
// nothing: a mapping of a deleted file, live through the whole trace, read
// as clean, exit 0 with --fail-on. A live process maps its program at least;
// an empty maps-start.txt says the capture could not read them, and the
// verdict is undecided.
//
// A real program under `capture --pid`: it maps a file and removes it before
// the attach (the truth is its own /proc/self/maps), and exits during the
// capture; the bundle reads as a finding; the same bundle with its
// maps-start.txt emptied, as the exiting JVM's was, reads as undecided, not
// clean.
//
// Needs root and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** Maps DIR/held.dat, removes it, prints its own "(deleted)" lines as JSON, and waits for a line. */
const PROGRAM = `
import json, mmap, os, sys
path = os.path.join(sys.argv[1], "held.dat")
with open(path, "wb") as out:
    out.write(b"h" * 65536)
fd = os.open(path, os.O_RDWR)
kept = mmap.mmap(fd, 65536)
os.close(fd)
os.unlink(path)
print(json.dumps([line.split()[0] for line in open("/proc/self/maps") if line.rstrip("\\n").endswith(path + " (deleted)")]), flush=True)
sys.stdin.readline()
os._exit(0)
`;

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review25-empty-start.test.ts must run as root (capture --pid)');
  requireTool('strace');
});

it('capture --pid: maps-start.txt read empty makes the verdict undecided, not clean', async () => {
  const work = realpathSync(workspace('empty-start'));
  const program = spawn(PYTHON, ['-c', PROGRAM, work], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  const truth = JSON.parse((await lines.next()).value as string) as string[];
  expect(truth).toHaveLength(1);
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(capture);
  const captured = exited(capture);
  await waitFor('strace to attach', () => existsSync(join(bundle, 'meta.json')), 60_000);
  // It exits during the capture, as the JVM did: no maps at the end.
  program.stdin!.end('\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(false);

  // As read: the mapping of the file removed before the attach, as /proc showed it.
  const found = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  expect(found.findings.map((finding) => finding.address.slice(2))).toEqual([truth[0]!.split('-')[0]]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);

  // As the exiting JVM's was read: empty.
  const emptied = `${bundle}.emptied`;
  cpSync(bundle, emptied, { recursive: true });
  writeFileSync(join(emptied, 'maps-start.txt'), '');
  const report = JSON.parse(runCli(['analyze', emptied, '--format', 'json']).stdout) as { findings: Finding[]; summary: { undecided: string | null } };
  const why = `${join(emptied, 'maps-start.txt')} is empty: the capture could not read process ${program.pid}'s maps when it attached (was it exiting?), so what it mapped before the capture is unknown`;
  expect(report.summary.undecided).toBe(why);
  const verdict = runCli(['analyze', emptied, '--fail-on', 'error']);
  expect(verdict.status).toBe(2);
  expect(verdict.stdout.split('\n')[0]).toBe(`orphanmap: no mapping was seen to outlive its file, but the trace may miss some: ${why} (see the warnings).`);
}, 90_000);

/** Maps DIR/gone.dat, removes it, prints its pid, and exits the moment a tracer attaches. */
const EXITS_WHEN_TRACED = `
import mmap, os, sys, time
path = os.path.join(sys.argv[1], "gone.dat")
with open(path, "w+b") as f:
    f.truncate(1 << 20)
    kept = mmap.mmap(f.fileno(), 1 << 20)
os.unlink(path)
print(os.getpid(), flush=True)
while True:
    for line in open("/proc/self/status"):
        if line.startswith("TracerPid:") and line.split()[1] != "0":
            os._exit(0)
    time.sleep(0.0005)
`;

// Review 25 (exactness), D7: a process that exited as strace attached left no maps-start.txt, and meta.json said
// sameView false: the report blamed "another mount namespace or root". Its namespace was not read: null; and without
// its maps at the start, what it mapped before (a 1 MiB deleted file here) is unknown: undecided, for that reason.
it('capture --pid of a process that exits as the tracer attaches: sameView null, and the verdict undecided for want of its maps', async () => {
  const work = realpathSync(workspace('exits-when-traced'));
  const program = spawn(PYTHON, ['-c', EXITS_WHEN_TRACED, work], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  const pid = Number((await lines.next()).value);
  expect(pid).toBe(program.pid);
  const bundle = join(work, 'bundle');
  const result = await exited(spawn(process.execPath, [CLI, 'capture', '--pid', String(pid), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] }));
  expect(result.code, result.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { sameView: boolean | null; exitReason: string };
  expect(meta.exitReason).toMatch(/^target-exited/);
  expect(meta.sameView).toBeNull();
  const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
  expect(verdict.status).toBe(2);
  expect(verdict.stdout.split('\n')[0]).not.toContain('mount namespace');
  expect(verdict.stdout.split('\n')[0]).toMatch(/^orphanmap: (no verdict: |no mapping was seen to outlive its file, but the trace may miss some: .* has no maps-start\.txt)/);
}, 90_000);

// A launched command that forks faster than a stopped capture can list its
// tree: `capture --duration` must still end every process the command
// started (docs/safety.md: the command never outlives a capture that was
// stopped). strace, which ignores SIGINT and SIGTERM while it runs a command,
// waits for its tracees; those forked after the tree was listed used to be
// left running, untraced, once it had to be killed (519 here).
// Truth: /proc after the capture has returned. Real strace, as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { processesWith } from './support/proc.js';
import { CLI, REPO, requireTool } from './support/tools.js';

// A child every 2 ms: still forking when the capture lists the tree (2 s, then the end snapshots), and done within 12 s.
const CHILDREN = 6000;
const INTERVAL_US = 2000;

let work: string;
let program: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-fast-forker.test.ts must run as root (it traces with strace)');
  requireTool('strace');
  requireTool('gcc');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-fast-forker-'));
  program = join(work, 'fast-forker');
  execFileSync('gcc', ['-O2', '-Wall', '-o', program, join(REPO, 'test', 'scenarios', 'fast-forker.c')], { stdio: 'pipe' });
});

afterEach(() => {
  for (const { pid } of processesWith(work)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

it('capture --duration with strace ends every process of a fast forker, those forked after its tree was listed too', () => {
  const out = join(work, 'bundle');
  const result = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--duration', '2', '--out', out, '--', program, String(CHILDREN), String(INTERVAL_US)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  // Read at once: whatever the capture left running is running now. The command's processes run the
  // program; strace's own command line names it too (a SIGKILLed strace with thousands of tracees
  // takes a moment to exit), and is not one of them.
  const left = processesWith(work).filter(({ argv }) => argv[0] === program);
  expect(result.status, result.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { exitReason?: string };
  expect(meta.exitReason).toBe('duration');
  // The precondition, from strace's own record: the command was still forking when it was ended, or nothing here was tested.
  const forks = readFileSync(join(out, 'trace.txt'), 'utf8').match(/ clone\(.*\) = \d+/g)?.length ?? 0;
  expect(forks, 'forks in the trace').toBeGreaterThan(500);
  expect(forks, 'forks in the trace').toBeLessThan(CHILDREN);
  expect(
    left.map(({ pid, tracerPid }) => `${pid} (TracerPid ${tracerPid})`),
    `processes of the command still running; the capture said:\n${result.stderr}`,
  ).toEqual([]);
});

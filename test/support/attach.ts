// `orphanmap capture --pid` as a user runs it, for the tests of a process
// that runs before the capture: started, and awaited until its tracer has
// attached, so that what the test does next happens under the trace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Exited, exited } from '../scenarios/harness.js';
import { CLI } from './tools.js';
import { waitFor } from './wait.js';

/** How long each tracer may take to attach: bpftrace compiles its probes first (8–25 s alone, more beside other tests). */
const ATTACH_MS = { strace: 60_000, bpftrace: 120_000 } as const;

/**
 * `capture --backend BACKEND --pid TARGET --out BUNDLE EXTRA…`, its process
 * added to `started` (for the test's cleanup); resolves once the tracer has
 * attached (meta.json is first written then), or with `until` 'snapshots'
 * once the capture has also read the target's maps and fds at its start
 * (fds-start.txt, written after maps-start.txt: what the target does next is
 * in neither), with the capture's exit to come (in an object: an async
 * function's promise result would be awaited).
 */
export async function captureAttached(
  backend: 'strace' | 'bpftrace',
  target: ChildProcess | number,
  bundle: string,
  started: ChildProcess[],
  extra: readonly string[] = [],
  until: 'attached' | 'snapshots' = 'attached',
): Promise<{ captured: Promise<Exited> }> {
  const pid = typeof target === 'number' ? target : target.pid;
  if (pid === undefined) throw new Error('the process to capture did not start');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', String(pid), '--out', bundle, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(capture);
  const captured = exited(capture);
  await waitFor(`${backend} to attach`, () => existsSync(join(bundle, 'meta.json')), ATTACH_MS[backend]);
  if (until === 'snapshots') await waitFor('the start snapshots (fds-start.txt)', () => existsSync(join(bundle, 'fds-start.txt')), ATTACH_MS[backend]);
  return { captured };
}

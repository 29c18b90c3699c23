// A CI run's capture ended with a bash parse error instead of its bundle:
//   bundle-lib.sh: trap: line 2: unexpected EOF while looking for matching `)'
//   capture-strace.sh: line 1844: unexpected EOF while looking for matching `)'
// bash 5.2 parses the text of a $(...) again each time it expands it, and a
// trap pending then runs inside that parse: the trap's text fails to parse
// in the parse state left open, then the command's, and the script ends in
// the middle of a capture (or goes on with the signal lost). The stop signal
// had landed while `[[ $(readlink A) == "$(readlink B)" ]]` waited for its
// first $(...). The script now runs no $(...) while its traps are set.
// The same storm found bash dead of SIGSEGV: it runs a trap again inside
// itself when the signal lands meanwhile, and the refusal to detach, said
// from inside the trap, nested 3,000 deep. The traps now only set variables.
//
// A signal storm finds any such window: SIGUSR2 (detach) about every
// millisecond from the moment the traps are set (trace.txt exists) to the
// script's end. Under `--pid` the first one detaches and the rest land on the
// stop; under a launched bpftrace capture, which cannot detach, each one is
// refused and the capture runs on to --duration with signals landing
// throughout. Real strace and bpftrace, a real python3 target; the truth is
// bash's own stderr (a parse error is bash's to print), the exit status,
// meta.json, and the target's /proc status afterwards.
//
// Needs root, strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Exited, exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { REPO, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const started: ChildProcess[] = [];
let work = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-signal-storm.test.ts must run as root (strace --pid, bpftrace)');
  requireTool('strace');
  requireTool('bpftrace');
  work = workspace('storm');
});
afterEach(() => killStillRunning(started));
afterAll(() => killStillRunning(started));

/** What bash prints when it fails to parse, in a trap's text or the script's. */
const PARSE_ERROR = /unexpected EOF|syntax error|unexpected token/;

function sleeper(seconds: number): ChildProcess {
  const child = spawn(PYTHON, ['-c', `import time; time.sleep(${seconds})`], { stdio: 'ignore' });
  started.push(child);
  return child;
}

/**
 * Runs `script ARGS`, and once its traps are set (the bundle's trace.txt
 * exists) and `ready` says so, sends it SIGUSR2 about every millisecond until
 * it ends; returns how it ended and how many signals were sent.
 */
async function underStorm(script: string, bundle: string, args: string[], setupMs: number, ready: () => boolean): Promise<Exited & { sent: number }> {
  const capture = spawn(join(REPO, 'scripts', script), ['-o', bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(capture);
  const ended = exited(capture);
  let over = false;
  void ended.then(() => (over = true));
  await waitFor(`${script} to set its traps`, () => over || (existsSync(join(bundle, 'trace.txt')) && ready()), setupMs, 1);
  let sent = 0;
  while (!over) {
    try {
      process.kill(capture.pid!, 'SIGUSR2');
      sent++;
    } catch {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return { ...(await ended), sent };
}

function meta(bundle: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as Record<string, unknown>;
}

describe('a storm of trapped signals never breaks the capture script', () => {
  it('strace --pid: detached by the first, the stop runs under the rest; 8 rounds', async () => {
    for (let round = 0; round < 8; round++) {
      const target = sleeper(60);
      const bundle = join(work, `pid-${round}`);
      // From the attach on: a detach before it is a capture of nothing (exit 1), as it should be.
      const run = await underStorm('capture-strace.sh', bundle, ['-p', String(target.pid)], 20_000, () => (procStatus(target.pid!)?.tracerPid ?? 0) !== 0);
      expect(run.stderr, `round ${round}`).not.toMatch(PARSE_ERROR);
      expect(run.sent, `round ${round}: signals sent`).toBeGreaterThan(0);
      expect({ round, code: run.code, signal: run.signal, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ round, code: 0, signal: null, stderr: '' });
      expect(meta(bundle)).toMatchObject({ exitReason: 'detached', complete: true, attached: true });
      // Let go, and running: not stopped, not traced.
      const status = procStatus(target.pid!);
      expect(status?.tracerPid, `round ${round}: TracerPid`).toBe(0);
      expect(status?.state, `round ${round}: state`).toMatch(/^[RS]$/);
      target.kill('SIGKILL');
    }
  }, 200_000);

  it('bpftrace, launched (cannot detach): each signal refused, the capture runs to --duration', async () => {
    const bundle = join(work, 'bpftrace');
    const run = await underStorm('capture-bpftrace.sh', bundle, ['-d', '2', '--', PYTHON, '-c', 'import time; time.sleep(60)'], 30_000, () => true);
    expect(run.stderr).not.toMatch(PARSE_ERROR);
    expect(run.stderr).toContain('cannot detach');
    // bpftrace compiles for 8-40 s with the storm on it, then 2 s of capture.
    expect(run.sent).toBeGreaterThan(1000);
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(meta(bundle)).toMatchObject({ exitReason: 'duration', complete: true, attached: true });
    // bpftrace's END record: it ended as it should, with the command it ran.
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/^[0-9a-f]{16} \d+ \d+ 0 0 end$/m);
  }, 150_000);
});

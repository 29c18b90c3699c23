// A stop that comes before the tracer has started the launched command must
// keep the command from ever running. A CI run found it running after the
// capture had ended, untraced, its parent init: the stop came the moment
// strace started (a Ctrl-C landing in the script's first helpers); the
// script looked for strace's child, found none yet, and killed strace only
// after its message, by which time strace had forked the command and let it
// go. The script now holds the tracer still (SIGSTOP) before it looks.
//
// To land in that window every time, strace is made slow to start: the first
// `strace` on PATH is a bash script that, for the capture's own run (the one
// writing trace.txt), waits 4 s, then execs the real strace. It catches
// SIGINT and SIGTERM meanwhile, so the stop's signals do not end it: the old
// script then waited for it to stop by itself and killed it only after the
// real strace had started the command. The capture is stopped while it waits.
// The truth is the command's own record (a file it writes as it starts) and
// /proc.
//
// Earlier still, before the script has set its traps (the same slow strace,
// asked its version), the stop's own signal ends the script: that is said as
// the stop it was, with the target's state, not as a failure.
//
// Needs root and strace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Exited, exited, PYTHON, workspace } from './scenarios/harness.js';
import { killPids, killStillRunning, processesWith, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const started: ChildProcess[] = [];
let work = '';
let bin = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-stop-before-command.test.ts must run as root (strace)');
  requireTool('strace');
  work = workspace('before-cmd');
  bin = join(work, 'bin');
  mkdirSync(bin);
  const real = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).stdout.trim();
  const fifo = join(work, 'never-written');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  // Builtins only while it waits: a child of its own would be taken for the command.
  writeFileSync(
    join(bin, 'strace'),
    `#!/bin/bash
if [[ " $* " == *"/trace.txt "* || ( $1 == -V && -n \${SLOW_STRACE_VERSION:-} ) ]]; then
  trap ': caught' INT TERM
  : > ${JSON.stringify(join(work, 'strace-waiting'))}.$1
  exec 3<> ${JSON.stringify(fifo)}
  now=\${EPOCHREALTIME/[.,]/}
  end=$((now + 4000000))
  while ((now < end)); do
    read -t 0.05 -u 3
    now=\${EPOCHREALTIME/[.,]/}
  done
  exec 3<&-
fi
exec ${real} "$@"
`,
    { mode: 0o755 },
  );
});
// And a command left running by a failure: it is no child of this test's.
const leftOver = (): void => killPids(processesWith(work).map((process) => process.pid));
afterEach(() => {
  killStillRunning(started);
  leftOver();
});
afterAll(() => killStillRunning(started));

describe('a stop before the capture script has set its traps', () => {
  it('capture --pid, stopped while the script asks strace its version: said as the stop it was, the target untraced', async () => {
    const target = spawn('sh', ['-c', 'while :; do sleep 0.2; done'], { stdio: 'ignore' });
    started.push(target);
    const bundle = join(work, 'early-bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(target.pid), '--out', bundle], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, SLOW_STRACE_VERSION: '1' },
    });
    started.push(capture);
    const ended: Promise<Exited> = exited(capture);
    await waitFor('the script to ask strace its version', () => existsSync(join(work, 'strace-waiting.-V')), 30_000);
    capture.kill('SIGTERM');
    const result = await ended;
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`the capture was stopped (SIGTERM) as it began, before strace was started: nothing was traced; pid ${target.pid} is not traced (TracerPid 0)`);
    expect(result.stderr).not.toContain('killed');
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
  }, 60_000);
});

describe('a stop before the tracer has started the command', () => {
  it('capture --backend strace -- CMD, stopped while strace starts: the command never runs, nothing is left running', async () => {
    const dir = join(work, 'command');
    mkdirSync(dir);
    const bundle = join(work, 'bundle');
    const program = 'import os, sys, time\nopen(os.path.join(sys.argv[1], "ran"), "w").write(str(os.getpid()))\ntime.sleep(60)';
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, '-c', program, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    started.push(capture);
    const ended: Promise<Exited> = exited(capture);
    await waitFor('strace to be starting', () => existsSync(join(work, 'strace-waiting.-f')), 30_000);
    capture.kill('SIGINT');
    const result = await ended;
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('before strace attached to the command: nothing of it was traced');
    expect(JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'))).toMatchObject({ exitReason: 'interrupted', attached: false, complete: false });
    // Past the moment the slow strace would have started it (4 s after it began to wait).
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(existsSync(join(dir, 'ran')), 'the command ran after all').toBe(false);
    expect(processesWith(dir), 'the command, left running').toEqual([]);
    expect(processesWith(bundle), 'the tracer, left running').toEqual([]);
  }, 60_000);
});

// The capture script must run no $(...) and no <(...) in its own shell while
// its stop signals are trapped (scripts/bundle-lib.sh, om_no_command_substitution):
// bash 5.2 parses such text again when it expands it, and a trap pending then
// runs inside that parse and kills the script (test/capture-signal-storm.test.ts).
// A storm finds such a window only by chance; this test asks bash itself.
// A copy of the scripts gets a DEBUG trap, which bash runs before each
// command with the command's text ($BASH_COMMAND), and two markers: set when
// the traps are installed, cleared when om_wait_tracer ignores them all. Every
// command of the script's own shell (BASHPID = $$) between the two whose text
// holds a $( or <( is written down; a child's (om_out's pipeline, om_bounded's
// job, a subshell) is not: a child starts with the traps reset.
//
// Real strace and bpftrace, real commands, each way a capture ends.
// Needs root, strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exited, exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { REPO, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const started: ChildProcess[] = [];
let work = '';
let scripts = '';
let log = '';

/** Replaces `from` by `to` in `text`, which must hold it once. */
function once(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `the script's text changed: ${from}`).toBe(1);
  return text.replace(from, to);
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-no-comsub-while-trapped.test.ts must run as root (strace --pid, bpftrace)');
  requireTool('strace');
  requireTool('bpftrace');
  work = workspace('comsub');
  scripts = join(work, 'scripts');
  cpSync(join(REPO, 'scripts'), scripts, { recursive: true });
  log = join(work, 'comsub.log');
  const lib = join(scripts, 'bundle-lib.sh');
  let text = readFileSync(lib, 'utf8');
  const watch = `set -T\ntrap '[[ \${OM_TRAPPED:-0} == 1 && $BASHPID == $$ && ( $BASH_COMMAND == *"\\$("[!\\(]* || $BASH_COMMAND == *"<("* ) ]] && printf "%s:%s: %s\\n" "\${FUNCNAME[0]:-main}" "$LINENO" "$BASH_COMMAND" >> ${log}' DEBUG\n`;
  text = watch + text;
  text = once(text, "  trap 'om_on_detach' USR2\n", "  trap 'om_on_detach' USR2\n  OM_TRAPPED=1\n");
  text = once(text, "  trap '' INT TERM HUP USR1 USR2\n  OM_TRACER_STATUS=0\n", "  trap '' INT TERM HUP USR1 USR2\n  OM_TRAPPED=0\n  OM_TRACER_STATUS=0\n");
  writeFileSync(lib, text);
});
afterAll(() => killStillRunning(started));

function run(script: string, args: string[]): { child: ChildProcess; ended: Promise<Exited> } {
  const child = spawn(join(scripts, script), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return { child, ended: exited(child) };
}

function sleeper(seconds: number): ChildProcess {
  const child = spawn(PYTHON, ['-c', `import time; time.sleep(${seconds})`], { stdio: 'ignore' });
  started.push(child);
  return child;
}

const attached = (pid: number) => () => (procStatus(pid)?.tracerPid ?? 0) !== 0;

/** What the DEBUG trap wrote down: each command of the script's shell, run while trapped, that holds a $( or <(. */
function written(): string[] {
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
}

describe('no $(...) in the capture script while its stop signals are trapped', () => {
  it('strace: --duration, SIGTERM, a detach, the target exiting, orphanmap dying, a command leaving a process behind', async () => {
    writeFileSync(log, '');
    const ends: string[] = [];
    const record = async (what: string, ended: Promise<Exited>, status: number) => {
      const result = await ended;
      expect(result.code, `${what}: ${result.stderr}`).toBe(status);
      ends.push(what);
    };
    await record('duration', run('capture-strace.sh', ['-o', join(work, 'duration'), '-d', '1', '--', PYTHON, '-c', 'import time; time.sleep(4)']).ended, 0);

    let target = sleeper(60);
    let capture = run('capture-strace.sh', ['-o', join(work, 'term'), '-p', String(target.pid)]);
    await waitFor('the attach', attached(target.pid!), 20_000);
    capture.child.kill('SIGTERM');
    await record('SIGTERM', capture.ended, 130);

    capture = run('capture-strace.sh', ['-o', join(work, 'detach'), '-p', String(target.pid)]);
    await waitFor('the attach', attached(target.pid!), 20_000);
    capture.child.kill('SIGUSR2');
    await record('detach', capture.ended, 0);
    target.kill('SIGKILL');

    // It exits once traced, however long the attach took: a fixed 1.5 s was shorter than the script under the DEBUG
    // trap took to attach on a loaded machine (CI: "exited before strace attached", exit 1).
    const exitOnceTraced = [
      'import mmap, os, time',
      'f = open(os.environ["DAT"], "wb+"); f.write(b"x" * 8192); f.flush(); m = mmap.mmap(f.fileno(), 8192)',
      'def traced():',
      '    return any(line.startswith("TracerPid:") and line.split()[1] != "0" for line in open("/proc/self/status"))',
      'deadline = time.monotonic() + 60',
      'while time.monotonic() < deadline and not traced():',
      '    time.sleep(0.05)',
      'time.sleep(0.5)',
    ].join('\n');
    target = spawn(PYTHON, ['-c', exitOnceTraced], {
      stdio: 'ignore',
      env: { ...process.env, DAT: join(work, 'x.dat') },
    });
    started.push(target);
    await waitFor('the mapping', () => existsSync(join(work, 'x.dat')), 10_000);
    await record('target exited', run('capture-strace.sh', ['-o', join(work, 'exited'), '-p', String(target.pid)]).ended, 0);

    // The parent dies once the capture runs: one that lived a fixed second was gone before the script, slowed by the
    // DEBUG trap on a loaded machine, first looked ("--parent-pid N is not running", exit 2).
    const parent = sleeper(60);
    capture = run('capture-strace.sh', ['-o', join(work, 'parent'), '--parent-pid', String(parent.pid), '--', 'sleep', '10']);
    await waitFor('the capture to start', () => existsSync(join(work, 'parent', 'meta.json')), 20_000);
    parent.kill('SIGKILL');
    await record('orphanmap died', capture.ended, 0);

    await record('left running', run('capture-strace.sh', ['-o', join(work, 'left'), '--', 'sh', '-c', '(sleep 2 &); sleep 0.3']).ended, 0);
    expect(ends).toHaveLength(6);
    expect(written()).toEqual([]);
  }, 120_000);

  it('bpftrace: a launched command under --duration', async () => {
    writeFileSync(log, '');
    const capture = run('capture-bpftrace.sh', ['-o', join(work, 'bpftrace'), '-d', '1', '--', PYTHON, '-c', 'import time; time.sleep(4)']);
    const result = await capture.ended;
    expect(result.code, result.stderr).toBe(0);
    expect(written()).toEqual([]);
  }, 150_000);

  it('the watch sees a $(...) run while trapped (a copy with one put in)', async () => {
    const lib = join(scripts, 'bundle-lib.sh');
    const text = readFileSync(lib, 'utf8');
    writeFileSync(log, '');
    writeFileSync(lib, once(text, '  OM_TRAPPED=1\n', '  OM_TRAPPED=1\n  v=$(printf x)\n'));
    try {
      const result = await run('capture-strace.sh', ['-o', join(work, 'planted'), '-d', '1', '--', 'sleep', '3']).ended;
      expect(result.code, result.stderr).toBe(0);
      expect(written()).toEqual([expect.stringMatching(/^om_run_capture:\d+: v=\$\(printf x\)$/)]);
    } finally {
      writeFileSync(lib, text);
    }
  }, 60_000);
});

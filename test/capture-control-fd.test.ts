// orphanmap asks the capture script to stop or detach by a byte on a socket
// (--control-fd) as well as by a signal. A CI run once lost the signal: the
// one SIGTERM orphanmap sent as a capture began reached the script with its
// trap set and was never acted on, and the target stayed traced until the
// script was killed by hand. A byte waits in the socket until the script
// reads it, so these tests send the byte alone, with no signal at all: what
// the script does then is what it does when the signal is lost.
//
// The real scripts under real strace and bpftrace, real targets; the truth is
// the exit status, meta.json, and /proc (TracerPid, state, who holds the socket).
// Needs root, strace and bpftrace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureHandle, startCapture } from '../src/capture/index.js';
import { CONTROL_FD } from '../src/capture/supervise.js';
import { type Exited, exited, PYTHON, workspace } from './scenarios/harness.js';
import { childrenOf, killStillRunning, procStatus } from './support/proc.js';
import { NOBODY } from './support/nobody.js';
import { CLI, REPO, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const started: ChildProcess[] = [];
let work = '';
// bpftrace 0.17 compiles for 8-25 s before it attaches; more under the suite's load.
const BPFTRACE_STARTUP_MS = 120_000;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-control-fd.test.ts must run as root (strace --pid, bpftrace)');
  requireTool('strace');
  requireTool('bpftrace');
  work = workspace('control');
});
// The captures started through startCapture, which a failed test must still end.
const handles: CaptureHandle[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) {
    handle.stop();
    await handle.done.catch(() => {});
  }
  killStillRunning(started);
});
afterAll(() => killStillRunning(started));

function sleeper(): ChildProcess {
  const child = spawn('sh', ['-c', 'while :; do sleep 0.2; done'], { stdio: 'ignore' });
  started.push(child);
  return child;
}

interface Script {
  child: ChildProcess;
  control: Writable;
  ended: Promise<Exited>;
}

/** The capture script with orphanmap's control socket on CONTROL_FD, and nothing on it yet. */
function script(name: 'capture-strace.sh' | 'capture-bpftrace.sh', args: string[]): Script {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
  while (stdio.length <= CONTROL_FD) stdio.push('ignore');
  stdio[CONTROL_FD] = 'pipe';
  const child = spawn(join(REPO, 'scripts', name), ['--control-fd', String(CONTROL_FD), ...args], { stdio });
  started.push(child);
  const control = (child.stdio as unknown as Writable[])[CONTROL_FD]!;
  control.on('error', () => {});
  return { child, control, ended: exited(child) };
}

function meta(bundle: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as Record<string, unknown>;
}

/** Let go and running: not traced, not stopped. */
function expectLetGo(pid: number): void {
  const status = procStatus(pid);
  expect(status?.tracerPid, `pid ${pid}: TracerPid`).toBe(0);
  expect(status?.state, `pid ${pid}: state`).toMatch(/^[RS]$/);
}

/** Every process under `pid`, itself excluded. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.pop()!)) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The pids among `pids` that hold `link` (a "socket:[INODE]") open. */
function holders(pids: number[], link: string): number[] {
  return pids.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === link;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

describe('a stop or a detach asked for by a byte alone (the signal lost)', () => {
  it('strace --pid: "s" once the trace runs stops the capture: exit 130, the bundle whole, the target let go', async () => {
    const target = sleeper();
    const bundle = join(work, 'stop');
    const run = script('capture-strace.sh', ['-o', bundle, '-p', String(target.pid)]);
    await waitFor('the capture to begin (meta.json)', () => existsSync(join(bundle, 'meta.json')), 30_000);
    run.control.write('s');
    const result = await run.ended;
    expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 130, signal: null });
    expect(meta(bundle)).toMatchObject({ exitReason: 'interrupted', attached: true, complete: true });
    expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(true);
    expect(meta(bundle).endTime).not.toBeNull();
    expectLetGo(target.pid!);
  }, 60_000);

  it('strace --pid: "s" already waiting when the script starts: no tracer is started, exit 130, "attached": false', async () => {
    const target = sleeper();
    const bundle = join(work, 'early');
    const run = script('capture-strace.sh', ['-o', bundle, '-p', String(target.pid)]);
    run.control.write('s');
    const result = await run.ended;
    expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 130, signal: null });
    expect(result.stderr).toContain('before strace attached');
    expect(meta(bundle)).toMatchObject({ exitReason: 'interrupted', attached: false, complete: false });
    // Never traced: strace wrote nothing, not even its attach line.
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toBe('');
    expectLetGo(target.pid!);
  }, 60_000);

  it('strace --pid: "d" detaches: exit 0, "detached", the target runs on untraced', async () => {
    const target = sleeper();
    const bundle = join(work, 'detach');
    const run = script('capture-strace.sh', ['-o', bundle, '-p', String(target.pid)]);
    await waitFor('the capture to begin (meta.json)', () => existsSync(join(bundle, 'meta.json')), 30_000);
    run.control.write('d');
    const result = await run.ended;
    expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 0, signal: null });
    expect(meta(bundle)).toMatchObject({ exitReason: 'detached', attached: true, complete: true });
    expectLetGo(target.pid!);
  }, 60_000);

  it(
    'bpftrace, launched (cannot detach): "d" is refused and said, the capture goes on; "s" then stops it and ends the command',
    async () => {
      const bundle = join(work, 'bpftrace');
      const run = script('capture-bpftrace.sh', ['-o', bundle, '--', PYTHON, '-c', 'import time; time.sleep(300)']);
      let stderr = '';
      run.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      await waitFor('bpftrace to attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), BPFTRACE_STARTUP_MS);
      const command = meta(bundle).pid as number;
      run.control.write('d');
      await waitFor('the refusal', () => stderr.includes('cannot detach'), 10_000);
      // Refused, not stopped: still tracing a second later.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(run.child.exitCode).toBeNull();
      run.control.write('s');
      const result = await run.ended;
      expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 130, signal: null });
      expect(meta(bundle)).toMatchObject({ exitReason: 'interrupted', attached: true, complete: true });
      expect(procStatus(command)).toBeNull();
    },
    BPFTRACE_STARTUP_MS + 60_000,
  );
});

/** The bytes waiting unread on the socket `link` ("socket:[INODE]"), as ss(8) counts them (its Recv-Q). */
function unread(link: string): number {
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  const listed = spawnSync('ss', ['-x', '-a', '-n'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`ss failed: ${listed.stderr}`);
  for (const line of listed.stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // Netid State Recv-Q Send-Q Local-Address Port Peer-Address Port
    if (fields[5] === inode) return Number(fields[2]);
  }
  throw new Error(`ss lists no socket ${link}`);
}

describe('orphanmap (startCapture)', () => {
  it.each([
    ['stop', 'interrupted'],
    ['detach', 'detached'],
  ] as const)(
    '%s() sends its byte on the socket as well as its signal',
    async (request, reason) => {
      const target = sleeper();
      const bundle = join(work, `handle-${request}`);
      const handle = startCapture({ backend: 'strace', pid: target.pid!, outDir: bundle, handleSignals: false, onStderr: () => {} });
      handles.push(handle);
      await waitFor('the capture to begin (meta.json)', () => existsSync(join(bundle, 'meta.json')), 30_000);
      const socket = readlinkSync(`/proc/${handle.pid}/fd/${CONTROL_FD}`);
      expect(unread(socket)).toBe(0);
      // Stopped, the script can read neither; the signal waits in the kernel, the byte in the socket.
      process.kill(handle.pid, 'SIGSTOP');
      try {
        await waitFor('the script to stop', () => procStatus(handle.pid)?.state === 'T', 5_000);
        handle[request]();
        await waitFor(`${request}()'s byte`, () => unread(socket) === 1, 5_000);
      } finally {
        process.kill(handle.pid, 'SIGCONT');
      }
      const result = await handle.done;
      expect(result.meta.exitReason).toBe(reason);
      expectLetGo(target.pid!);
    },
    60_000,
  );
});

describe('orphanmap (startCapture), a detach refused', () => {
  it(
    'bpftrace, launched: stop() after a refused detach() still stops the capture and ends the command',
    async () => {
      const bundle = join(work, 'handle-refused');
      let stderr = '';
      const handle = startCapture({ backend: 'bpftrace', command: [PYTHON, '-c', 'import time; time.sleep(300)'], outDir: bundle, handleSignals: false, onStderr: (chunk) => (stderr += chunk) });
      handles.push(handle);
      await waitFor('bpftrace to attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), BPFTRACE_STARTUP_MS);
      const command = meta(bundle).pid as number;
      handle.detach();
      await waitFor('the refusal', () => stderr.includes('cannot detach'), 10_000);
      handle.stop();
      const result = await handle.done;
      expect(result.meta.exitReason).toBe('interrupted');
      expect(procStatus(command)).toBeNull();
    },
    BPFTRACE_STARTUP_MS + 60_000,
  );
});

describe('the control socket', () => {
  it('is held by the script alone: not by strace, the launched command, the watchdog or the stderr tee', async () => {
    const bundle = join(work, 'held');
    const fds = join(work, 'command-fds');
    const listing = `import os, time; open(${JSON.stringify(fds)}, "w").write(" ".join(sorted(os.listdir("/proc/self/fd")))); time.sleep(300)`;
    const run = script('capture-strace.sh', ['-o', bundle, '--', PYTHON, '-c', listing]);
    // And meta.json: the start snapshots' helpers are gone.
    await waitFor('the command to list its fds, and meta.json', () => existsSync(fds) && readFileSync(fds, 'utf8') !== '' && existsSync(join(bundle, 'meta.json')), 30_000);
    const socket = readlinkSync(`/proc/${run.child.pid}/fd/${CONTROL_FD}`);
    expect(socket).toMatch(/^socket:\[\d+\]$/);
    // The processes that live as long as the capture: under the script at three looks a second apart. (A helper
    // it runs for a moment, a sleep or a stat, may hold the socket: it reads nothing from it, and is gone at once.)
    let lasting = descendants(run.child.pid!);
    for (let look = 0; look < 2; look++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = descendants(run.child.pid!);
      lasting = lasting.filter((pid) => now.includes(pid));
    }
    const names = lasting.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).sort();
    // strace, the command, the watchdog (a bash), the tee of the command's stderr.
    expect(names).toEqual(['bash', 'python3', 'strace', 'tee']);
    expect(holders(lasting, socket)).toEqual([]);
    expect(readFileSync(fds, 'utf8').split(' ')).not.toContain(String(CONTROL_FD));
    run.control.write('s');
    const result = await run.ended;
    expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 130, signal: null });
  }, 60_000);

  it("reaches no helper run as the target's user (the read of a JVM's release file), nor do orphanmap's stderr and the bundle", async () => {
    // A "JVM" run by nobody: a copy of sleep as JDK/bin/java, beside its release file, in directories nobody may enter.
    const top = mkdtempSync(join(tmpdir(), 'om-control-jvm-'));
    chmodSync(top, 0o755);
    const jdk = join(top, 'jdk');
    mkdirSync(join(jdk, 'bin'), { recursive: true, mode: 0o755 });
    copyFileSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), join(jdk, 'bin', 'java'));
    chmodSync(join(jdk, 'bin', 'java'), 0o755);
    writeFileSync(join(jdk, 'release'), 'JAVA_VERSION="17.0.99"\n', { mode: 0o644 });
    // The first dd on PATH writes down who it runs as and what it holds, then is the real one.
    const bin = join(top, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    const log = join(top, 'dd.log');
    writeFileSync(log, '', { mode: 0o666 });
    chmodSync(log, 0o666);
    const realDd = spawnSync('sh', ['-c', 'command -v dd'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(bin, 'dd'), `#!/bin/sh\n{ id -u; for fd in /proc/$$/fd/*; do printf '%s %s\\n' "\${fd##*/}" "$(readlink "$fd")"; done; } >> ${JSON.stringify(log)}\nexec ${realDd} "$@"\n`, {
      mode: 0o755,
    });
    const target = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', join(jdk, 'bin', 'java'), '300'], { stdio: 'ignore' });
    started.push(target);
    await waitFor('the target to run as java', () => existsSync(`/proc/${target.pid}/exe`) && readlinkSync(`/proc/${target.pid}/exe`).endsWith('/bin/java'), 10_000);
    const bundle = join(top, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(target.pid), '--out', bundle, '--duration', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    started.push(capture);
    const result = await exited(capture);
    expect(result.code, result.stderr).toBe(0);
    // The helper ran, as nobody, and read the file.
    expect(meta(bundle).jvmVersion).toBe('17.0.99');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(String(NOBODY));
    const held = lines.slice(1).filter((line) => !/ \/proc\/\d+\/fd$/.test(line));
    expect(
      held.filter((line) => line.includes('socket:') || line.includes(bundle)),
      held.join('\n'),
    ).toEqual([]);
  }, 60_000);

  it('closed by orphanmap is no request: the capture goes on, and a signal stops it as before', async () => {
    const target = sleeper();
    const bundle = join(work, 'closed');
    const run = script('capture-strace.sh', ['-o', bundle, '-p', String(target.pid)]);
    await waitFor('the capture to begin (meta.json)', () => existsSync(join(bundle, 'meta.json')), 30_000);
    run.control.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(run.child.exitCode).toBeNull();
    expect(procStatus(target.pid!)?.tracerPid).not.toBe(0);
    // The script stopped looking at the socket once it read its end.
    expect(existsSync(`/proc/${run.child.pid}/fd/${CONTROL_FD}`)).toBe(false);
    run.child.kill('SIGTERM');
    const result = await run.ended;
    expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 130, signal: null });
    expect(meta(bundle)).toMatchObject({ exitReason: 'interrupted', complete: true });
    expectLetGo(target.pid!);
  }, 60_000);

  it.each([
    ['9', 'the bundle directory'],
    ['3', 'the script copies its stderr there'],
    ['6', 'not open'],
    ['x', 'not a number'],
  ])('--control-fd %s is refused (%s): exit 2, no bundle made', async (fd) => {
    const bundle = join(work, `bad-${fd}`);
    const child = spawn(join(REPO, 'scripts', 'capture-strace.sh'), ['-o', bundle, '-p', String(process.pid), '--control-fd', fd], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    const result = await exited(child);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`--control-fd ${fd} is not an open file descriptor`);
    expect(existsSync(bundle)).toBe(false);
  });
});

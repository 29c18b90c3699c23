// capture-strace.sh and startCapture against real processes: no mocks. Needs
// strace and root (or CAP_SYS_PTRACE); `orphanmap doctor` says what is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureScriptPath, readBundleMeta, startCapture } from '../src/capture/index.js';
import { CaptureError, UsageError } from '../src/errors.js';
import { killStillRunning, procStatus, tracerPid } from './support/proc.js';
import { requireTool } from './support/tools.js';
import { captureLeavingDaemon, killDaemon } from './support/daemon-left.js';
import { waitFor } from './support/wait.js';

const SCRIPT = captureScriptPath('strace');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
// Opens, sizes, maps, unlinks and closes a file, keeping the mapping: the symptom.
const WORKLOAD = (dir: string): string => `
import mmap, os
path = ${JSON.stringify(join(dir, 'seg.index'))}
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192)
os.unlink(path)
os.close(fd)
`;

let work: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-capture-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => killStillRunning(children));

function bundleDir(name: string): string {
  return join(work, name);
}

/** A long-running target with two threads, started outside any tracer. */
async function startTarget(): Promise<ChildProcess> {
  const child = spawn(PYTHON, ['-c', 'import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\nprint("ready", flush=True)\ntime.sleep(60)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

/** A target that opens and closes the file named by each line it reads: traced calls on demand. */
async function startPokeTarget(): Promise<ChildProcess> {
  const child = spawn(PYTHON, ['-c', 'import os, sys\nprint("ready", flush=True)\nfor line in sys.stdin:\n    os.close(os.open(line.strip(), os.O_RDONLY))'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

function poke(target: ChildProcess, name: string): void {
  writeFileSync(join(work, name), '');
  target.stdin!.write(`${join(work, name)}\n`);
}

function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(SCRIPT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('capture-strace.sh', () => {
  it('records a launched command into a complete bundle', async () => {
    const dir = bundleDir('launch');
    const { code, stdout, stderr } = await runScript(['-o', dir, '--', PYTHON, '-c', WORKLOAD(work)]);
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(dir);
    const meta = await readBundleMeta(dir);
    expect(meta).toMatchObject({ schema: 'orphanmap/bundle@1', backend: 'strace', exitReason: 'target-exited', complete: true, traceFiles: ['trace.txt'], lostEvents: null, truncatedEvents: 0 });
    expect(meta.tracerVersion).toMatch(/^strace -- version \d/);
    expect(meta.command).toMatch(/^strace -f -ttt -T -yy -Y -s 4096 -e 'trace=.*' -o \S+trace\.txt (--seccomp-bpf --kill-on-exit )?-- /);
    expect(meta.cmdline?.[0]).toBe(PYTHON);
    expect(Date.parse(meta.endTime ?? '')).toBeGreaterThanOrEqual(Date.parse(meta.startTime ?? ''));
    const trace = readFileSync(join(dir, 'trace.txt'), 'utf8');
    expect(trace).toMatch(new RegExp(`^${meta.pid}<`, 'm'));
    expect(trace).toMatch(/ unlink\(".*seg\.index"\) = 0 /);
    expect(trace).toMatch(/ mmap\(NULL, 8192, PROT_READ\|PROT_WRITE, MAP_SHARED, \d+<.*seg\.index>, 0\) = 0x/);
    expect(trace).toMatch(/\+\+\+ exited with 0 \+\+\+/);
    expect(existsSync(join(dir, 'tracer.stderr'))).toBe(true);
  }, 20_000);

  it('starts a launched command with no signal ignored that it would not ignore if run directly (SIGPIPE included)', async () => {
    // grep reports the dispositions it inherited; run directly by Node, nothing is ignored.
    const direct = spawnSync('grep', ['^SigIgn:', '/proc/self/status'], { encoding: 'utf8' });
    expect(direct.stdout).toMatch(/^SigIgn:\s+0+\n$/);
    const { code, stderr } = await runScript(['-o', bundleDir('dispositions'), '--', 'grep', '^SigIgn:', '/proc/self/status']);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(direct.stdout);
  }, 20_000);

  it("keeps the command's stderr in tracer.stderr after the tee that copies it is sent SIGHUP and SIGTERM", async () => {
    // A closed terminal or a systemd stop signals the whole group; a tee that
    // died would leave the tracer writing into a FIFO nobody reads.
    const dir = bundleDir('tee-signals');
    const gate = join(work, 'tee-signals.go');
    const script = spawn(SCRIPT, ['-o', dir, '--', 'sh', '-c', `echo before >&2; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo after >&2`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(script);
    const exited = new Promise<number | null>((resolve) => script.on('exit', (status) => resolve(status)));
    await waitFor('"before" in tracer.stderr', () => existsSync(join(dir, 'tracer.stderr')) && readFileSync(join(dir, 'tracer.stderr'), 'utf8').includes('before'), 10_000);
    const tee = spawnSync('pgrep', ['-P', String(script.pid), '-x', 'tee'], { encoding: 'utf8' }).stdout.trim();
    expect(tee).toMatch(/^\d+$/);
    process.kill(Number(tee), 'SIGHUP');
    process.kill(Number(tee), 'SIGTERM');
    writeFileSync(gate, '');
    expect(await exited).toBe(0);
    expect(readFileSync(join(dir, 'tracer.stderr'), 'utf8')).toMatch(/before\n(.*\n)*after\n/);
  }, 20_000);

  it('attaches to every thread of a running process, snapshots it and detaches after -d', async () => {
    const target = await startTarget();
    const dir = bundleDir('attach');
    const { code } = await runScript(['-p', String(target.pid), '-o', dir, '-d', '1']);
    expect(code).toBe(0);
    const meta = await readBundleMeta(dir);
    expect(meta).toMatchObject({ backend: 'strace', pid: target.pid, exitReason: 'duration', comm: 'python3' });
    expect(meta.threads).toHaveLength(2);
    expect(meta.threads?.every((thread) => thread.tgid === target.pid)).toBe(true);
    expect(meta.mapCountStart).toBe(readFileSync(join(dir, 'maps-start.txt'), 'utf8').trimEnd().split('\n').length);
    expect(meta.mapCountEnd).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'maps-end.txt'), 'utf8')).toMatch(/python3/);
    expect(readFileSync(join(dir, 'tracer.stderr'), 'utf8')).toMatch(/attached with 2 threads[\s\S]*detached/);
    expect(tracerPid(target.pid!)).toBe(0);
    expect(target.exitCode).toBeNull();
  }, 20_000);

  it('finishes the bundle, detaches and exits 130 on SIGINT', async () => {
    const target = await startTarget();
    const dir = bundleDir('sigint');
    const child = spawn(SCRIPT, ['-p', String(target.pid), '-o', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await waitFor('the attach', () => tracerPid(target.pid!) !== 0 && existsSync(join(dir, 'maps-start.txt')), 10_000);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const meta = await readBundleMeta(dir);
    expect(meta.exitReason).toBe('interrupted');
    expect(meta.endTime).not.toBeNull();
    expect(existsSync(join(dir, 'maps-end.txt'))).toBe(true);
    expect(tracerPid(target.pid!)).toBe(0);
    expect(target.exitCode).toBeNull();
  }, 20_000);

  it('ends the descendants of a launched command that left its tree (a double fork to init) on a stop, and ends promptly (review: they ran on untraced after a 13 s stop)', async () => {
    const dir = bundleDir('daemon');
    const pidFile = join(work, 'daemon.pid');
    // The daemon writes its pid, then sleeps; its parent subshell exits at once, so init adopts it.
    const daemon = `import os, time\nopen(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))\ntime.sleep(120)`;
    const child = spawn(SCRIPT, ['-o', dir, '--', 'sh', '-c', `(${PYTHON} -c '${daemon}' &); exec sleep 120`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    await waitFor('the daemon', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 10_000);
    const daemonPid = Number(readFileSync(pidFile, 'utf8'));
    // Precondition: init's, not the command's, and traced by the capture's strace.
    expect(procStatus(daemonPid)?.ppid).not.toBe(child.pid);
    await waitFor('the daemon traced', () => (procStatus(daemonPid)?.tracerPid ?? 0) !== 0, 5_000);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const stopped = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    const gone = () => {
      const status = procStatus(daemonPid);
      return status === null || status.state === 'Z';
    };
    // SIGTERM ends it at once; strace then ends with its last tracee.
    expect(gone(), `daemon ${daemonPid} still runs: ${JSON.stringify(procStatus(daemonPid))}`).toBe(true);
    expect(stderr).not.toMatch(/hangs \d+ s after/);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect((await readBundleMeta(dir)).exitReason).toBe('interrupted');
  }, 30_000);

  it('lets a launched command that exits leave its daemon running untraced, at once (strace ignores SIGINT and SIGTERM: no wait for them)', async () => {
    const { daemonPid, check, stderr } = await captureLeavingDaemon(SCRIPT, PYTHON, work, 'daemon-left', children);
    try {
      await check();
      expect(stderr).not.toMatch(/hangs \d+ s after/);
      const status = procStatus(daemonPid);
      expect(status?.state).not.toMatch(/[ZTt]/);
      expect(status?.tracerPid).toBe(0);
    } finally {
      killDaemon(daemonPid);
    }
  }, 30_000);

  it('detaches when its parent is SIGKILLed, leaving the target running untraced', async () => {
    const target = await startTarget();
    const dir = bundleDir('parent-killed');
    // A parent that starts the capture with --parent-pid of itself, as orphanmap does.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `
      const { spawn } = require('node:child_process');
      spawn(${JSON.stringify(SCRIPT)}, ['--parent-pid', String(process.pid), '-p', '${target.pid}', '-o', ${JSON.stringify(dir)}], { stdio: 'ignore' });
      setInterval(() => {}, 1000);
    `,
      ],
      { stdio: 'ignore' },
    );
    children.push(parent);
    await waitFor('the attach', () => tracerPid(target.pid!) !== 0, 10_000);
    parent.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('TracerPid 0', () => tracerPid(target.pid!) === 0, 5_000);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    await waitFor('the final meta.json', () => existsSync(join(dir, 'meta.json')) && JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).endTime !== null, 10_000);
    const meta = await readBundleMeta(dir);
    expect(meta.exitReason).toBe('parent-died');
    expect(target.exitCode).toBeNull();
    expect(tracerPid(target.pid!)).toBe(0);
  }, 20_000);

  it('rejects bad usage with exit status 2', async () => {
    expect((await runScript(['-o', bundleDir('bad')])).code).toBe(2);
    expect((await runScript(['-p', 'abc', '-o', bundleDir('bad')])).code).toBe(2);
    const { code, stderr } = await runScript(['-p', '1', '--', 'true']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/-o BUNDLE_DIR is required|not both/);
  });

  it('refuses a directory that already holds a bundle', async () => {
    const dir = bundleDir('taken');
    await runScript(['-o', dir, '--', 'true']);
    const { code, stderr } = await runScript(['-o', dir, '--', 'true']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/already holds a bundle/);
  });

  it('writes valid JSON for a command line full of quotes, backslashes and control characters', async () => {
    const dir = bundleDir('json');
    const nasty = ['tab\there', 'quote"back\\slash', 'new\nline', '\u0001\u001f', 'ünï'];
    const { code } = await runScript(['-o', dir, '--', '/bin/true', ...nasty]);
    expect(code).toBe(0);
    const meta = await readBundleMeta(dir);
    expect(meta.cmdline).toEqual(['/bin/true', ...nasty]);
  });
});

describe('startCapture', () => {
  it('streams trace lines as they are written, and stop() leaves a complete bundle of a running process', async () => {
    const target = await startPokeTarget();
    const dir = bundleDir('api-stop');
    const lines: string[] = [];
    const handle = startCapture({ backend: 'strace', pid: target.pid!, outDir: dir, onLine: (text) => lines.push(text), onStderr: () => {} });
    await waitFor('the attach', () => tracerPid(target.pid!) !== 0 && existsSync(join(dir, 'maps-start.txt')), 10_000);
    for (const name of ['poke-1', 'poke-2', 'poke-3']) {
      poke(target, name);
      // Streamed while the capture runs: before stop(), not read back from the file afterwards.
      await waitFor(`the openat of ${name} to be streamed`, () => lines.some((line) => line.includes(`"${join(work, name)}"`)), 10_000);
    }
    handle.stop();
    const result = await handle.done;
    expect(result.stopped).toBe(true);
    expect(result.bundleDir).toBe(dir);
    expect(result.meta.exitReason).toBe('interrupted');
    expect(result.meta.pid).toBe(target.pid);
    expect(existsSync(join(dir, 'maps-end.txt'))).toBe(true);
    const written = readFileSync(join(dir, 'trace.txt'), 'utf8').replace(/\n$/, '').split('\n');
    expect(written.filter((line) => /openat\(.*poke-\d/.test(line))).toHaveLength(3);
    expect(lines).toEqual(written);
    expect(tracerPid(target.pid!)).toBe(0);
  }, 30_000);

  it('a consumer of the streamed lines that throws stops the capture, and done rejects with a CaptureError saying why', async () => {
    const target = await startPokeTarget();
    const dir = bundleDir('api-tail-failure');
    const handle = startCapture({
      backend: 'strace',
      pid: target.pid!,
      outDir: dir,
      onStderr: () => {},
      onLine: () => {
        throw new Error('the view broke');
      },
    });
    await waitFor('the attach', () => tracerPid(target.pid!) !== 0 && existsSync(join(dir, 'maps-start.txt')), 10_000);
    // The openat reaches onLine, which throws: the capture must stop by itself.
    poke(target, 'poke-fail');
    const failure = await handle.done.then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CaptureError);
    expect((failure as CaptureError).code).toBe('capture');
    expect((failure as CaptureError).message).toBe(`stopped the capture: reading ${join(dir, 'trace.txt')} as it was written failed: the view broke`);
    expect(tracerPid(target.pid!)).toBe(0);
    expect(target.exitCode).toBeNull();
  }, 30_000);

  it('runs a command to its end and reports every line', async () => {
    const dir = bundleDir('api-command');
    const lines: string[] = [];
    const handle = startCapture({ backend: 'strace', command: [PYTHON, '-c', WORKLOAD(work)], outDir: dir, onLine: (text) => lines.push(text), onStderr: () => {}, stdin: 'ignore' });
    const result = await handle.done;
    expect(result.meta.exitReason).toBe('target-exited');
    expect(lines.some((line) => /unlink\(".*seg\.index"\) = 0/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/\+\+\+ exited with 0 \+\+\+/);
  }, 20_000);

  it('throws UsageError for a pid and a command together, or neither', () => {
    expect(() => startCapture({ backend: 'strace', pid: 1, command: ['true'], outDir: bundleDir('x') })).toThrow(UsageError);
    expect(() => startCapture({ backend: 'strace', outDir: bundleDir('x') })).toThrow(UsageError);
  });

  it('rejects with UsageError when the target does not exist', async () => {
    const handle = startCapture({ backend: 'strace', pid: 2 ** 22 + 1, outDir: bundleDir('nopid'), onStderr: () => {} });
    await expect(handle.done).rejects.toThrow(/no process with pid/);
  });
});

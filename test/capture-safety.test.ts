// `orphanmap capture` on a production host (issue #11, items 1-4), with real
// strace, as root: a busy target is traced for the whole --duration and left
// untraced; a launched command outlives its tracer's SIGKILL with working
// syscalls; --out never writes through links another user planted, even when
// they swap the bundle directory mid-capture; a full disk is reported; SIGINT
// exits 130; kernel threads are refused. docs/safety.md says what is promised.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureMeta } from '../src/capture/index.js';
import { shellQuote, TmuxSession } from './tmux.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';
import { NOBODY, runAsNobody as asNobody } from './support/nobody.js';

const PYTHON = '/usr/bin/python3';

let work: string;
const children: ChildProcess[] = [];
const mounts: string[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-safety.test.ts must run as root (it mounts tmpfs, plants links as nobody and traces with strace)');
  requireTool('strace');
  requireTool('setpriv');
  if (!existsSync(PYTHON)) throw new Error(`this test needs ${PYTHON} (apt-get install -y python3)`);
  work = mkdtempSync(join(tmpdir(), 'orphanmap-safety-'));
  chmodSync(work, 0o755);
});
afterEach(() => killStillRunning(children));
afterAll(() => {
  for (const mount of mounts) spawnSync('umount', ['-l', mount]);
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function capture(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, 'capture', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
}

/** A process started outside any tracer; resolves once it runs its own code. */
async function startTarget(code: string): Promise<ChildProcess> {
  const child = spawn(PYTHON, ['-c', `import sys\nprint("ready", flush=True)\n${code}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

const alive = (pid: number): boolean => {
  const s = procStatus(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readMeta(bundle: string): CaptureMeta {
  return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as CaptureMeta;
}

/** Every entry under dir (type, owner, mode, content or link target), to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path);
    const head = `${st.uid}:${(st.mode & 0o7777).toString(8)}`;
    if (st.isSymbolicLink()) out[rel] = `link ${head} -> ${readlinkSync(path)}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${head}`;
      for (const name of readdirSync(path)) walk(join(path, name), `${rel}/${name}`);
    } else out[rel] = `file ${head} ${readFileSync(path, 'utf8')}`;
  };
  walk(dir, '.');
  return out;
}

/** Writes, maps, unlinks and closes a file in a loop (all traced syscalls), counting successes and failures. */
const WORKLOAD = (dir: string): string => `
import mmap, os, time
d = ${JSON.stringify(dir)}
ok = failed = 0
while True:
    try:
        p = os.path.join(d, 'seg.index')
        fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(fd, 4096)
        m = mmap.mmap(fd, 4096)
        m.close()
        os.unlink(p)
        os.close(fd)
        ok += 1
    except OSError as e:
        failed += 1
        with open(os.path.join(d, 'errors'), 'a') as f:
            f.write(repr(e) + '\\n')
    with open(os.path.join(d, 'count.tmp'), 'w') as f:
        f.write('%d %d\\n' % (ok, failed))
    os.replace(os.path.join(d, 'count.tmp'), os.path.join(d, 'count'))
    time.sleep(0.01)
`;

function counts(dir: string): { ok: number; failed: number } {
  try {
    const [ok, failed] = readFileSync(join(dir, 'count'), 'utf8').trim().split(' ').map(Number);
    return { ok: ok ?? 0, failed: failed ?? 0 };
  } catch {
    return { ok: 0, failed: 0 };
  }
}

describe('a busy target (item 1)', () => {
  it('capture --pid of a process looping on getppid runs its full --duration and leaves it running untraced', async () => {
    const target = await startTarget('import os\nwhile True: os.getppid()');
    const bundle = join(work, 'busy');
    const started = Date.now();
    const run = await capture(['--pid', String(target.pid), '--duration', '5', '--out', bundle]).done;
    const elapsed = Date.now() - started;
    expect(run.code, run.stderr).toBe(0);
    const meta = readMeta(bundle);
    expect(meta).toMatchObject({ pid: target.pid, mode: 'attached', exitReason: 'duration', complete: true });
    expect(elapsed).toBeGreaterThanOrEqual(5_000);
    expect(Date.parse(meta.endTime ?? '') - Date.parse(meta.startTime ?? '')).toBeGreaterThanOrEqual(5_000);
    expect(readFileSync(join(bundle, 'tracer.stderr'), 'utf8')).toMatch(/detached/);
    expect(procStatus(target.pid!)).toMatchObject({ tracerPid: 0 });
    expect(procStatus(target.pid!)?.state).toMatch(/^[RS]$/);
    expect(target.exitCode).toBeNull();
  }, 30_000);

  it('a launched command survives the SIGKILL of its strace with every traced syscall still working', async () => {
    const dir = join(work, 'survivor');
    mkdirSync(dir);
    const bundle = join(work, 'survivor-bundle');
    const { done } = capture(['--out', bundle, '--', PYTHON, '-c', WORKLOAD(dir)]);
    await waitFor('the launched command to run traced', () => existsSync(join(bundle, 'meta.json')) && counts(dir).ok >= 10, 15_000);
    const pid = readMeta(bundle).pid!;
    const strace = procStatus(pid)!.ppid;
    expect(readFileSync(`/proc/${strace}/comm`, 'utf8').trim()).toBe('strace');
    expect(procStatus(pid)?.tracerPid).toBe(strace);
    try {
      process.kill(strace, 'SIGKILL');
      const run = await done;
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/the tracer ended \(killed by SIGKILL\) while pid \d+ still runs/);
      const meta = readMeta(bundle);
      expect(meta).toMatchObject({ pid, mode: 'launched', exitReason: 'tracer-died', complete: false });
      expect(meta.endTime).not.toBeNull();
      const before = counts(dir).ok;
      await sleep(1_500);
      if (meta.command?.includes('--kill-on-exit')) {
        // strace >= 6.6 runs the command under --seccomp-bpf --kill-on-exit: the
        // kernel kills it with its tracer, before any syscall can fail.
        expect(alive(pid)).toBe(false);
      } else {
        // No seccomp filter: the kernel detached the command, which runs on.
        expect(meta.command).not.toContain('--seccomp-bpf');
        expect(alive(pid)).toBe(true);
        expect(procStatus(pid)?.tracerPid).toBe(0);
        expect(counts(dir).ok).toBeGreaterThan(before + 20);
      }
      expect(existsSync(join(dir, 'errors')) ? readFileSync(join(dir, 'errors'), 'utf8') : '').toBe('');
      expect(counts(dir).failed).toBe(0);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 30_000);
});

describe('--out in a directory another user controls (item 2)', () => {
  let attacker: string;
  let victim: string;

  beforeAll(() => {
    // The victim: root's files outside any bundle, which links will point to.
    victim = join(work, 'victim');
    mkdirSync(join(victim, 'empty-dir'), { recursive: true });
    chmodSync(join(victim, 'empty-dir'), 0o700);
    writeFileSync(join(victim, 'file'), 'original\n', { mode: 0o600 });
    // The attacker (nobody) owns this directory and plants in it as nobody.
    attacker = join(work, 'attacker');
    mkdirSync(attacker);
    chownSync(attacker, NOBODY, NOBODY);
    const planted = asNobody(
      [
        `cd ${attacker}`,
        `ln -s ${victim}/empty-dir link-to-dir`,
        `ln -s ${victim}/new dangling`,
        'mkdir theirs',
        ...['trace.txt', 'maps-start.txt.tmp', 'maps-end.txt.tmp', 'fds-start.txt.tmp', '.meta.json.tmp', 'tracer.stderr', '.meta-reserve', 'run-command.sh'].map(
          (name) => `ln -s ${victim}/file theirs/${name}`,
        ),
        `ln -s ${victim}/new-meta theirs/meta.json`,
        'mkdir empty-theirs',
      ].join(' && '),
    );
    expect(planted.status, planted.stderr).toBe(0);
    // Root's own directory, but one everybody may write to, with a link planted in it.
    mkdirSync(join(work, 'shared'));
    chmodSync(join(work, 'shared'), 0o1777);
    expect(asNobody(`ln -s ${victim}/file ${work}/shared/trace.txt`).status).toBe(0);
  });

  it.each(['strace', 'bpftrace'])('with %s, refuses links, directories of another user or writable by others, and non-empty ones, touching nothing', (backend) => {
    const before = { victim: snapshot(victim), attacker: snapshot(attacker), shared: snapshot(join(work, 'shared')) };
    const cases: [string, RegExp][] = [
      [join(attacker, 'link-to-dir'), /is a symbolic link/],
      [join(attacker, 'dangling'), /is a symbolic link/],
      [join(attacker, 'theirs'), /belongs to uid 65534, not to this user/],
      [join(attacker, 'empty-theirs'), /belongs to uid 65534, not to this user/],
      [join(work, 'shared'), /others may write to it \(mode 1777\)/],
    ];
    for (const [out, message] of cases) {
      const result = spawnSync(process.execPath, [CLI, 'capture', '--backend', backend, '--out', out, '--', 'true'], { encoding: 'utf8' });
      expect(result.status, `${out}: ${result.stderr}\n${JSON.stringify(snapshot(attacker), null, 1)}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(snapshot(victim)).toEqual(before.victim);
    expect(snapshot(attacker)).toEqual(before.attacker);
    expect(snapshot(join(work, 'shared'))).toEqual(before.shared);
    expect(existsSync(join(victim, 'new'))).toBe(false);
  });

  it('creates a private bundle there; swapping it mid-capture for a directory of links changes nothing outside the bundle', async () => {
    const target = await startTarget('import time\ntime.sleep(120)');
    const bundle = join(attacker, 'bundle');
    const before = snapshot(victim);
    const { done } = capture(['--pid', String(target.pid), '--duration', '3', '--out', bundle]);
    await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 15_000);
    expect(statSync(bundle)).toMatchObject({ uid: 0 });
    expect(statSync(bundle).mode & 0o777).toBe(0o700);
    // nobody cannot plant anything inside the bundle itself...
    expect(asNobody(`ln -s ${victim}/file ${bundle}/maps-end.txt.tmp`).status).not.toBe(0);
    // ...but owns its parent, so can move the bundle away and put a directory of links in its place.
    const swapped = asNobody(
      [
        `mv ${bundle} ${bundle}.moved`,
        `mkdir ${bundle}`,
        ...['maps-end.txt', 'maps-end.txt.tmp', 'meta.json', '.meta.json.tmp', 'trace.txt', 'tracer.stderr'].map((name) => `ln -s ${victim}/file ${bundle}/${name}`),
      ].join(' && '),
    );
    expect(swapped.status, swapped.stderr).toBe(0);
    const attackerBundle = snapshot(bundle);
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    // The bundle is reported where it really is now.
    expect(run.stdout.trim()).toBe(`${bundle}.moved`);
    expect(snapshot(victim)).toEqual(before);
    expect(snapshot(bundle)).toEqual(attackerBundle);
    const meta = readMeta(`${bundle}.moved`);
    expect(meta).toMatchObject({ exitReason: 'duration', complete: true });
    for (const name of ['meta.json', 'maps-start.txt', 'maps-end.txt', 'trace.txt', 'tracer.stderr']) {
      const st = lstatSync(join(`${bundle}.moved`, name));
      expect(st.isFile() && st.uid === 0, name).toBe(true);
    }
    expect(readFileSync(join(`${bundle}.moved`, 'maps-end.txt'), 'utf8')).toMatch(/python3/);
  }, 30_000);
});

describe('a full disk (item 3)', () => {
  function tmpfs(name: string, size: string): string {
    const dir = join(work, name);
    mkdirSync(dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`this test needs to mount a tmpfs (as root): ${mounted.stderr}`);
    mounts.push(dir);
    return dir;
  }

  it('a capture that fills its file system exits non-zero, saying so, and meta.json says it is incomplete', async () => {
    const bundle = join(tmpfs('full', '1m'), 'bundle');
    const run = await capture(['--out', bundle, '--', PYTHON, '-c', 'import os\nfor i in range(300000): os.close(os.open("/dev/null", os.O_RDONLY))']).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/the file system holding \S+ filled up: trace\.txt lacks what the tracer could not write/);
    const meta = readMeta(bundle);
    expect(meta).toMatchObject({ exitReason: 'disk-full', complete: false });
    expect(meta.endTime).not.toBeNull();
    expect(readdirSync(bundle).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(statSync(join(bundle, 'trace.txt')).size).toBeGreaterThan(500_000);
  }, 60_000);

  it('refuses to start on a file system without room for the bundle', async () => {
    const mount = tmpfs('nearly-full', '256k');
    writeFileSync(join(mount, 'filler'), Buffer.alloc(240 * 1024));
    const target = await startTarget('import time\ntime.sleep(120)');
    const run = await capture(['--pid', String(target.pid), '--out', join(mount, 'bundle')]).done;
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/cannot write into \S+ \(is its file system full\?\)/);
    expect(existsSync(join(mount, 'bundle', 'meta.json'))).toBe(false);
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
  }, 30_000);
});

describe('interruptions and targets that cannot be traced (item 4)', () => {
  it('capture interrupted with SIGINT exits 130 with a complete bundle and the target untraced', async () => {
    const target = await startTarget('import time\ntime.sleep(120)');
    const bundle = join(work, 'sigint');
    const { child, done } = capture(['--pid', String(target.pid), '--out', bundle]);
    await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 15_000);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout.trim()).toBe(bundle);
    expect(readMeta(bundle)).toMatchObject({ exitReason: 'interrupted', complete: true });
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
    expect(target.exitCode).toBeNull();
  }, 30_000);

  it('a real Ctrl-C in a terminal (tmux) ends the capture with 130, the target untraced', async () => {
    requireTool('tmux');
    const target = await startTarget('import time\ntime.sleep(120)');
    const bundle = join(work, 'ctrl-c');
    const term = new TmuxSession('capture-safety');
    try {
      term.start(`bash -c ${shellQuote(`${shellQuote(process.execPath)} ${shellQuote(CLI)} capture --pid ${target.pid} --out ${shellQuote(bundle)}; echo "exited with status $?"; sleep 60`)}`);
      await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 15_000);
      term.send('C-c');
      const screen = await term.waitForScreen((text) => /exited with status \d+/.test(text), 'capture to exit after Ctrl-C');
      expect(screen).toMatch(/exited with status 130\b/);
      expect(readMeta(bundle)).toMatchObject({ exitReason: 'interrupted', complete: true });
      expect(procStatus(target.pid!)?.tracerPid).toBe(0);
      expect(target.exitCode).toBeNull();
    } finally {
      term.kill();
    }
  }, 30_000);

  it.each(['strace', 'bpftrace'])('capture --pid 2 (kthreadd, a kernel thread) is refused with %s', (backend) => {
    expect(readFileSync('/proc/2/comm', 'utf8').trim()).toBe('kthreadd');
    const out = join(work, `kthread-${backend}`);
    const result = spawnSync(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', '2', '--out', out], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/pid 2 \(kthreadd\) is a kernel thread: it makes no system calls to trace/);
    expect(existsSync(out)).toBe(false);
  });
});

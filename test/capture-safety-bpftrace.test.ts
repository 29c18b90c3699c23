// `orphanmap capture --backend bpftrace` on a production host (issue #11,
// items 1-3), with real bpftrace as root. bpftrace 0.17 needs 8-25 s to attach,
// so this file starts it three times only: next to a strace capture of the same
// busy process, launched while the owner of --out's parent swaps the bundle,
// and on a full disk. bpftrace is REQUIRED: a missing one fails these tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureScriptPath, type CaptureMeta } from '../src/capture/index.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';
import { NOBODY, runAsNobody as asNobody } from './support/nobody.js';

const PYTHON = '/usr/bin/python3';
// 8-25 s on an idle 2-vCPU machine; several times that while other suites load it.
const STARTUP_MS = 120_000;

let work: string;
const children: ChildProcess[] = [];
const mounts: string[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-safety-bpftrace.test.ts must run as root (bpftrace, tmpfs, links planted as nobody)');
  requireTool('bpftrace');
  requireTool('strace');
  requireTool('setpriv');
  if (!existsSync('/sys/kernel/tracing/events') && !existsSync('/sys/kernel/debug/tracing/events')) {
    throw new Error('tracefs must be mounted for bpftrace: mount -t tracefs nodev /sys/kernel/tracing');
  }
  if (!existsSync(PYTHON)) throw new Error(`this test needs ${PYTHON} (apt-get install -y python3)`);
  work = mkdtempSync(join(tmpdir(), 'orphanmap-safety-bt-'));
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

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

function readMeta(bundle: string): CaptureMeta {
  return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as CaptureMeta;
}

const seconds = (meta: CaptureMeta): number => (Date.parse(meta.endTime ?? '') - Date.parse(meta.startTime ?? '')) / 1000;

describe('capture with bpftrace on a production host', () => {
  it(
    'a bpftrace capture and a strace capture of the same busy process both run their full --duration',
    async () => {
      const target = spawn(PYTHON, ['-c', 'import os\nprint("ready", flush=True)\nwhile True: os.getppid()'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(target);
      await new Promise<void>((resolve) => target.stdout!.once('data', () => resolve()));
      const btBundle = join(work, 'busy-bpftrace');
      const straceBundle = join(work, 'busy-strace');
      // -d counts from the attach, so bpftrace's slow start-up does not eat it.
      const bt = run(captureScriptPath('bpftrace'), ['-p', String(target.pid), '-o', btBundle, '-d', '10']);
      await waitFor('bpftrace to attach (meta.json)', () => existsSync(join(btBundle, 'meta.json')), STARTUP_MS);
      const st = await run(captureScriptPath('strace'), ['-p', String(target.pid), '-o', straceBundle, '-d', '4']);
      expect(st.code, st.stderr).toBe(0);
      expect(readMeta(straceBundle)).toMatchObject({ pid: target.pid, exitReason: 'duration', complete: true });
      expect(seconds(readMeta(straceBundle))).toBeGreaterThanOrEqual(4);
      // While bpftrace still runs, the target is running and no longer ptraced.
      expect(procStatus(target.pid!)?.tracerPid).toBe(0);
      const btRun = await bt;
      expect(btRun.code, btRun.stderr).toBe(0);
      expect(readMeta(btBundle)).toMatchObject({ pid: target.pid, exitReason: 'duration', complete: true, lostEvents: 0 });
      expect(seconds(readMeta(btBundle))).toBeGreaterThanOrEqual(10);
      expect(procStatus(target.pid!)?.state).toMatch(/^[RS]$/);
      expect(target.exitCode).toBeNull();
    },
    STARTUP_MS + 40_000,
  );

  it(
    "runs the command it wrote even when the owner of --out's parent swaps the bundle during start-up; ORPHANMAP_BT is ignored",
    async () => {
      const victim = join(work, 'victim');
      mkdirSync(victim);
      const attacker = join(work, 'attacker');
      mkdirSync(attacker);
      chownSync(attacker, NOBODY, NOBODY);
      const bundle = join(attacker, 'bundle');
      const marker = join(work, 'the-command-ran');
      const capture = run(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, '-c', `open(${JSON.stringify(marker)}, "w").write("ran")`], {
        ...process.env,
        ORPHANMAP_BT: join(attacker, 'evil.bt'),
      });
      await waitFor('run-command.sh', () => existsSync(join(bundle, 'run-command.sh')), 20_000);
      expect(statSync(bundle).uid).toBe(0);
      expect(statSync(bundle).mode & 0o777).toBe(0o700);
      // Not inside the bundle...
      expect(asNobody(`printf 'touch ${victim}/pwned\\n' > ${bundle}/run-command.sh`).status).not.toBe(0);
      // ...but the bundle can be moved aside and replaced by nobody's own directory and script.
      const swapped = asNobody(`mv ${bundle} ${bundle}.moved && mkdir ${bundle} && printf '#!/bin/sh\\ntouch ${victim}/pwned\\n' > ${bundle}/run-command.sh && chmod 755 ${bundle}/run-command.sh`);
      expect(swapped.status, swapped.stderr).toBe(0);
      expect(existsSync(join(bundle, 'meta.json'))).toBe(false); // swapped before bpftrace attached
      const result = await capture;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe(`${bundle}.moved`);
      expect(existsSync(join(victim, 'pwned'))).toBe(false);
      expect(readFileSync(marker, 'utf8')).toBe('ran');
      const meta = readMeta(`${bundle}.moved`);
      expect(meta).toMatchObject({ backend: 'bpftrace', mode: 'launched', exitReason: 'target-exited', complete: true });
      // The keyed copy of the repository's orphanmap.bt, written into the bundle and gone once read.
      expect(meta.command).toMatch(new RegExp(` ${bundle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.orphanmap\\.bt 0 [1-9]\\d* [1-9]\\d*$`));
      expect(existsSync(join(`${bundle}.moved`, '.orphanmap.bt'))).toBe(false);
      expect(readFileSync(join(`${bundle}.moved`, 'trace.txt'), 'utf8')).toMatch(/^[0-9a-f]{16} orphanmap-bt 2 begin /m);
      expect(readFileSync(join(bundle, 'run-command.sh'), 'utf8')).toContain('pwned'); // nobody's file, untouched and unused
    },
    STARTUP_MS + 30_000,
  );

  it(
    'on a full disk exits non-zero, saying so, and meta.json says the capture is incomplete',
    async () => {
      const mount = join(work, 'full');
      mkdirSync(mount);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { encoding: 'utf8' });
      if (mounted.status !== 0) throw new Error(`this test needs to mount a tmpfs (as root): ${mounted.stderr}`);
      mounts.push(mount);
      const bundle = join(mount, 'bundle');
      const result = await run(process.execPath, [
        CLI,
        'capture',
        '--backend',
        'bpftrace',
        '--out',
        bundle,
        '--',
        PYTHON,
        '-c',
        'import os\nfor i in range(300000): os.close(os.open("/dev/null", os.O_RDONLY))',
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/the file system holding \S+ filled up: trace\.txt lacks what the tracer could not write/);
      const meta = readMeta(bundle);
      expect(meta).toMatchObject({ backend: 'bpftrace', exitReason: 'disk-full', complete: false });
      expect(meta.endTime).not.toBeNull();
      expect(existsSync(join(bundle, '.meta.json.tmp'))).toBe(false);
      expect(existsSync(join(bundle, '.meta-reserve'))).toBe(false);
    },
    STARTUP_MS + 30_000,
  );
});

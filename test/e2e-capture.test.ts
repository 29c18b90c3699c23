// End to end with the real tracers: `orphanmap capture` records the JVM
// reproducer (launched, or attached while it runs) with strace and with
// bpftrace; `orphanmap analyze BUNDLE` must match the ground truth the JVM
// printed from /proc/self/maps. Under bpftrace the launched JVMs of both
// modes run at once under one capture (one start and end of its tracer,
// seconds), each with its own --dir and stdout; each one's verdict is kept to
// its process (--pid). Needs root, strace, bpftrace, tracefs and a JDK:
// .ci/run provides them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { parseGroundTruth, reportedOrphans } from './support/ground-truth.js';
import { tracerPid } from './support/proc.js';
import { CLI, compileReproducer, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

let classes: string;

beforeAll(() => {
  requireTool('strace');
  requireTool('bpftrace');
  requireTool('java');
  classes = compileReproducer();
});

function reproducerArgs(mode: string, dir: string): string[] {
  return ['java', '-cp', classes, 'IndexLifecycle', '--mode', mode, '--threads', '2', '--segments', '2', '--dir', join(dir, 'logs')];
}

function run(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Waits for a file the capture or the JVM writes when it is ready. */
function waitForFile(path: string, timeoutMs: number): Promise<void> {
  return waitFor(path, () => existsSync(path), timeoutMs, 100);
}

/** The bundle's findings, kept to process `pid` when given, and its unparsed lines (all of them). */
function analyzeBundle(bundle: string, pid?: number): { findings: Finding[]; unparsed: number } {
  const result = runCli(['analyze', bundle, '--format', 'json', ...(pid === undefined ? [] : ['--pid', String(pid)])]);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { unparsedLines: number } };
  return { findings: report.findings, unparsed: report.summary.unparsedLines };
}

async function captureLaunched(backend: string, mode: string): Promise<{ bundle: string; truth: string }> {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-e2e-${backend}-${mode}-`));
  const bundle = join(dir, 'bundle');
  const stdoutFile = join(dir, 'stdout.txt');
  // `exec` keeps the JVM's pid that of the traced command; its stdout (the ground truth) goes to a file.
  const shell = `exec ${reproducerArgs(mode, dir).join(' ')} > ${stdoutFile}`;
  const capture = await run(spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', 'sh', '-c', shell]));
  expect(capture.code, capture.stderr).toBe(0);
  return { bundle, truth: readFileSync(stdoutFile, 'utf8') };
}

/**
 * One launched capture of a JVM in each mode, at once under sh, each with its own --dir and stdout file (its ground
 * truth, whose first line is its pid): one start and end of the tracer for them all (a bpftrace capture spends seconds
 * on each). Their files never meet: a directory each.
 */
async function captureLaunchedTogether(backend: string, modes: readonly string[]): Promise<{ bundle: string; runs: Map<string, { truth: string; pid: number }> }> {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-e2e-${backend}-together-`));
  const bundle = join(dir, 'bundle');
  const stdoutFile = (mode: string) => join(dir, mode, 'stdout.txt');
  for (const mode of modes) mkdirSync(join(dir, mode));
  const shell = `${modes.map((mode) => `${reproducerArgs(mode, join(dir, mode)).join(' ')} > ${stdoutFile(mode)} &`).join(' ')} wait`;
  const capture = await run(spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', 'sh', '-c', shell]));
  expect(capture.code, capture.stderr).toBe(0);
  const runs = new Map(
    modes.map((mode) => {
      const truth = readFileSync(stdoutFile(mode), 'utf8');
      return [mode, { truth, pid: Number(/^pid=(\d+)$/m.exec(truth)![1]) }];
    }),
  );
  return { bundle, runs };
}

async function captureAttached(backend: string, mode: string): Promise<{ bundle: string; truth: string }> {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-e2e-${backend}-${mode}-attach-`));
  const bundle = join(dir, 'bundle');
  const go = join(dir, 'go');
  const jvm = spawn(reproducerArgs(mode, dir)[0]!, [...reproducerArgs(mode, dir).slice(1), '--wait-for', go], { stdio: ['ignore', 'pipe', 'pipe'] });
  const jvmDone = run(jvm);
  const captureChild = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', String(jvm.pid), '--out', bundle]);
  const capture = run(captureChild);
  // meta.json is written once the tracer is attached: only then may the JVM start its work.
  try {
    await waitForFile(join(bundle, 'meta.json'), 90_000);
  } catch (error) {
    // Leave nothing running: the JVM would wait for its go file forever.
    jvm.kill('SIGKILL');
    captureChild.kill('SIGINT');
    throw error;
  }
  writeFileSync(go, '');
  const [jvmResult, captureResult] = await Promise.all([jvmDone, capture]);
  expect(jvmResult.code, jvmResult.stderr).toBe(0);
  expect(captureResult.code, captureResult.stderr).toBe(0);
  return { bundle, truth: jvmResult.stdout };
}

describe.each(['strace', 'bpftrace'])('capture with %s, then analyze the bundle', (backend) => {
  // Under bpftrace, the launched JVMs share one capture; each one's verdict is kept to its process (--pid).
  let together: Awaited<ReturnType<typeof captureLaunchedTogether>> | null = null;
  beforeAll(async () => {
    if (backend === 'bpftrace') together = await captureLaunchedTogether(backend, ['leaky', 'fixed']);
  }, 240_000);

  /** The bundle of the JVM in `mode` launched, its ground truth, and the process its verdict is kept to when it shares the bundle. */
  async function launched(mode: string): Promise<{ bundle: string; truth: string; pid?: number }> {
    if (together === null) return captureLaunched(backend, mode);
    return { bundle: together.bundle, ...together.runs.get(mode)! };
  }

  it.each([
    ['launched', 'leaky'],
    ['launched', 'fixed'],
    ['attached', 'leaky'],
    ['attached', 'fixed'],
  ])(
    '%s, %s mode: exactly the ground truth',
    async (how, mode) => {
      const { bundle, truth, pid }: { bundle: string; truth: string; pid?: number } = how === 'launched' ? await launched(mode) : await captureAttached(backend, mode);
      const expected = parseGroundTruth(truth);
      expect(expected).toHaveLength(mode === 'leaky' ? 8 : 0);
      const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { backend: string; endTime: string | null; lostEvents: number | null };
      expect(meta.backend).toBe(backend);
      expect(meta.endTime).not.toBeNull();
      const { findings, unparsed } = analyzeBundle(bundle, pid);
      expect(unparsed).toBe(0);
      expect(reportedOrphans(findings)).toEqual(expected);
      expect(findings.filter((f) => f.kind === 'remapped-without-unmap')).toHaveLength(expected.length);
    },
    180_000,
  );
});

describe('a bundle whose process outlives the capture', () => {
  it('marks still-mapped orphans confirmed by maps-end.txt and shows its lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-hold-'));
    const bundle = join(dir, 'bundle');
    const go = join(dir, 'go');
    const ready = join(dir, 'ready');
    const jvm = spawn('java', [...reproducerArgs('leaky', dir).slice(1), '--wait-for', go, '--ready-file', ready, '--hold-seconds', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let truth = '';
    jvm.stdout!.setEncoding('utf8').on('data', (chunk: string) => (truth += chunk));
    try {
      const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(jvm.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
      const captureDone = run(capture);
      await waitForFile(join(bundle, 'meta.json'), 30_000);
      writeFileSync(go, '');
      await waitForFile(ready, 60_000);
      capture.kill('SIGINT');
      expect((await captureDone).code).toBe(130); // interrupted: the bundle is complete up to then
    } finally {
      jvm.kill('SIGKILL');
    }
    const result = runCli(['analyze', bundle, '--format', 'json']);
    const report = JSON.parse(result.stdout) as { findings: Finding[]; mapsLines: Record<string, string> };
    const orphans = report.findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.severity === 'error');
    expect(orphans.map((f) => ({ address: f.address, path: f.path })).sort((a, b) => a.address.localeCompare(b.address))).toEqual(parseGroundTruth(truth));
    for (const orphan of orphans) {
      expect(orphan.resolution).toBe('still-mapped');
      expect(orphan.confirmedByMaps).toBe(true);
      expect(report.mapsLines[orphan.id]).toMatch(new RegExp(`^${orphan.address.slice(2)}-[0-9a-f]+ rw-s .* \\(deleted\\)$`));
    }
    expect(runCli(['analyze', bundle]).stdout).toMatch(/\(confirmed by \/proc\/\d+\/maps at the end\)/);
  }, 120_000);
});

describe('orphanmap live', () => {
  it('without a terminal prints each finding as NDJSON as it is decided and resolved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-live-'));
    const stdoutFile = join(dir, 'stdout.txt');
    const shell = `exec ${reproducerArgs('leaky', dir).join(' ')} > ${stdoutFile}`;
    const live = await run(spawn(process.execPath, [CLI, 'live', '--save', join(dir, 'bundle'), '--', 'sh', '-c', shell], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(live.code, live.stderr).toBe(0);
    const lines = live.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Finding);
    const last = new Map(lines.map((finding) => [finding.id, finding]));
    expect(reportedOrphans([...last.values()])).toEqual(parseGroundTruth(readFileSync(stdoutFile, 'utf8')));
    // Decided first (unresolved), resolved last; in between, an update (a
    // resize whose file is then unlinked) is sent again, still unresolved.
    const first = new Map<string, Finding>();
    for (const finding of lines) if (!first.has(finding.id)) first.set(finding.id, finding);
    expect([...first.values()].filter((f) => f.resolution !== null)).toEqual([]);
    expect([...last.values()].filter((f) => f.resolution === null)).toEqual([]);
    expect(existsSync(join(dir, 'bundle', 'trace.txt'))).toBe(true);
  }, 120_000);

  it('killed with SIGKILL while attached: the target keeps running with no tracer', async () => {
    const target = spawn('sh', ['-c', 'while :; do sleep 0.2; done'], { stdio: 'ignore' });
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-kill-'));
    const live = spawn(process.execPath, [CLI, 'live', '--pid', String(target.pid), '--save', join(dir, 'bundle')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const liveDone = run(live);
    try {
      await waitForFile(join(dir, 'bundle', 'meta.json'), 30_000);
      expect(tracerPid(target.pid!)).not.toBe(0);
      live.kill('SIGKILL');
      await liveDone;
      const deadline = Date.now() + 10_000;
      while (tracerPid(target.pid!) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(tracerPid(target.pid!)).toBe(0);
      expect(readFileSync(`/proc/${target.pid}/stat`, 'utf8').split(' ')[2]).not.toBe('T'); // not left stopped
    } finally {
      target.kill('SIGKILL');
    }
  }, 60_000);

  it('capture interrupted with SIGINT exits 130 and leaves a complete bundle', async () => {
    const target = spawn('sh', ['-c', 'while :; do sleep 0.2; done'], { stdio: 'ignore' });
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-int-'));
    const bundle = join(dir, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(target.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    const captureDone = run(capture);
    try {
      await waitForFile(join(bundle, 'meta.json'), 30_000);
      capture.kill('SIGINT');
      const result = await captureDone;
      expect(result.code, result.stderr).toBe(130);
      const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { endTime: string | null; exitReason: string };
      expect(meta.endTime).not.toBeNull();
      expect(meta.exitReason).toBe('interrupted');
      expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(true);
      expect(tracerPid(target.pid!)).toBe(0);
    } finally {
      target.kill('SIGKILL');
    }
  }, 60_000);
});

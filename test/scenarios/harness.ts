// Runs the scenario driver (scenarios.py) beside its observer (observer.py)
// under a tracer, the way a user would take the trace, and returns the truth
// the observer read from /proc and the trace for orphanmap to read.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { expect } from 'vitest';
import { tracerPid } from '../support/proc.js';
import { CLI, REPO, STRACE_FILTER } from '../tools.js';

export const PYTHON = '/usr/bin/python3';
const HERE = join(REPO, 'test', 'scenarios');

export interface Leak {
  label: string;
  pid: number;
  address: string;
  bytes: number;
  path: string;
  /** "MAJOR:MINOR:INODE" as /proc/PID/maps prints them. */
  inode: string;
}

/**
 * A "(deleted)" mapping of a scenario program's own /proc/self/maps, as
 * test/scenarios/deleted_maps.py's deleted_mappings() writes it down.
 */
export interface SelfMapsDeleted {
  address: string;
  bytes: number;
  path: string;
}

export interface Truth {
  pid: number;
  checkpoints: number;
  leaks: Leak[];
}

export interface Captured {
  /** The capture's workspace (workspace()): the driver's files under w/, the truth, the trace or bundle. */
  dir: string;
  truth: Truth;
  /** What `orphanmap analyze` reads: a trace file or a bundle directory; null when findings came from `live`. */
  input: string | null;
  /** `live` output: NDJSON finding lines. */
  ndjson?: string;
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Every process a capture way started, so that a failed test leaves none running. */
const started = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  started.add(child);
  child.on('exit', () => started.delete(child));
  return child;
}

/** SIGKILL what a failed run left: the driver waiting for "go" first, then tracers and the observer. */
export function killLeftovers(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

export function exited(child: ChildProcess): Promise<Exited> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A scenario of this directory that prints its pid as its first line, started by python3 with `args`, its stdin a
 * pipe (its "go"), pushed onto `started`: once that line is out, its pid, all it printed so far, and its exit.
 */
export async function startScenario(script: string, args: readonly string[], started: ChildProcess[]): Promise<{ program: ChildProcess; pid: number; output: () => string; done: Promise<Exited> }> {
  const program = spawn(PYTHON, [join(HERE, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  // exited() reads stdout as UTF-8 and keeps all of it; this listener keeps it as it comes.
  const done = exited(program);
  let out = '';
  program.stdout!.on('data', (chunk: string) => (out += chunk));
  await until(`${script} to start`, () => out.includes('\n') || program.exitCode !== null, 10_000);
  if (!out.includes('\n')) throw new Error(`${script} exited before printing its pid`);
  return { program, pid: Number(out.split('\n')[0]), output: () => out, done };
}

/** One capture's private directory; short, since bpftrace cuts long paths (under the test run's own directory: test/global-setup.ts). */
export function workspace(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `om-${name}-`));
  mkdirSync(join(dir, 'w'));
  return dir;
}

let javaClasses: string | null = null;

/** JavaScenarios compiled once per test run. */
export function compileJavaScenarios(): string {
  if (javaClasses !== null) return javaClasses;
  const dir = mkdtempSync(join(tmpdir(), 'om-java-'));
  const result = spawnSync('javac', ['-d', dir, join(HERE, 'JavaScenarios.java')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`javac failed: ${result.stderr}`);
  javaClasses = dir;
  return dir;
}

/** The observer, listening before the driver starts. */
class Observer {
  readonly child: ChildProcess;
  readonly done: Promise<Exited>;
  private output = '';

  constructor(readonly dir: string) {
    this.child = track(spawn(PYTHON, [join(HERE, 'observer.py'), join(dir, 'observer.sock'), join(dir, 'truth.json')], { stdio: ['pipe', 'pipe', 'pipe'] }));
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.done = exited(this.child);
  }

  async listening(): Promise<void> {
    await until('the observer to listen', () => this.output.includes('listening'), 10_000);
  }

  /** The driver waits with its threads started: attach now, then go. */
  async ready(): Promise<void> {
    await until('the driver to be ready for an attach', () => this.output.includes('ready'), 20_000);
  }

  go(): void {
    this.child.stdin!.write('go\n');
  }

  async truth(): Promise<Truth> {
    const result = await this.done;
    if (result.code !== 0) throw new Error(`observer failed (${result.code}): ${result.stderr}`);
    return JSON.parse(readFileSync(join(this.dir, 'truth.json'), 'utf8')) as Truth;
  }
}

function driverArgs(dir: string, waitGo: boolean): string[] {
  const args = [join(HERE, 'scenarios.py'), join(dir, 'w'), join(dir, 'observer.sock'), '--java', compileJavaScenarios()];
  if (waitGo) args.push('--wait-go');
  return args;
}

function checkDriver(result: Exited, how: string): void {
  if (!result.stderr.includes('scenarios: ran')) {
    throw new Error(`the scenario driver did not finish under ${how} (exit ${result.code}, ${result.signal}):\n${result.stderr.slice(-3000)}`);
  }
}

/** `strace -f -o trace.txt CMD`, as a user types it. */
export async function straceLaunched(dir: string): Promise<Captured> {
  const observer = new Observer(dir);
  await observer.listening();
  const trace = join(dir, 'trace.txt');
  const strace = exited(track(spawn('strace', ['-f', '-ttt', '-T', '-yy', '-o', trace, PYTHON, ...driverArgs(dir, false)])));
  const result = await strace;
  checkDriver(result, 'strace -f -o');
  return { dir, truth: await observer.truth(), input: trace };
}

/**
 * `strace -f -p PID` attached to the running driver, whose threads exist
 * before the attach: the README's recommended form, filtered to the calls followed.
 */
export async function straceAttached(dir: string): Promise<Captured> {
  const observer = new Observer(dir);
  await observer.listening();
  const driver = track(spawn(PYTHON, driverArgs(dir, true), { stdio: ['ignore', 'pipe', 'pipe'] }));
  const driverDone = exited(driver);
  await observer.ready();
  const pid = driver.pid!;
  const threads = readdirSync(`/proc/${pid}/task`).length;
  if (threads < 4) throw new Error(`the driver should have its 3 workers before the attach, has ${threads} threads`);
  const trace = join(dir, 'trace.txt');
  const strace = track(spawn('strace', ['-f', '-ttt', '-T', '-yy', '-Y', '-s', '4096', '-o', trace, '-e', `trace=${STRACE_FILTER}`, '-p', String(pid)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const straceDone = exited(strace);
  let stderr = '';
  strace.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // strace 6 says "Process N attached with T threads" once, after attaching to them all.
  await until('strace to attach', () => / attached/.test(stderr), 20_000);
  observer.go();
  checkDriver(await driverDone, 'strace -p');
  const traced = await straceDone;
  if (traced.code !== 0) throw new Error(`strace -p failed (${traced.code}): ${traced.stderr}`);
  return { dir, truth: await observer.truth(), input: trace };
}

/** `orphanmap capture --backend B --out DIR -- CMD`. */
export async function captureLaunched(dir: string, backend: 'strace' | 'bpftrace'): Promise<Captured> {
  const observer = new Observer(dir);
  await observer.listening();
  const bundle = join(dir, 'bundle');
  const capture = await exited(track(spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', PYTHON, ...driverArgs(dir, false)])));
  checkDriver(capture, `capture --backend ${backend} --`);
  if (capture.code !== 0) throw new Error(`capture failed (${capture.code}): ${capture.stderr}`);
  return { dir, truth: await observer.truth(), input: bundle };
}

/**
 * `orphanmap capture --backend B --out DIR/bundle -- python3 PROGRAM DIR/truth.json`, run
 * in DIR: the bundle, and the truth the program wrote from its own /proc/self/maps.
 */
export function captureProgram<T>(dir: string, backend: 'strace' | 'bpftrace', program: string): { truth: T; bundle: string } {
  const bundle = join(dir, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', PYTHON, program, join(dir, 'truth.json')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return { truth: JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as T, bundle };
}

/** Python that writes the program's own "(deleted)" lines of /proc/self/maps to truth.txt, then waits to be ended. */
export const DELETED_MAPS_THEN_WAIT = `
with open("truth.txt", "w") as out:
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("(deleted)"):
            out.write(line)
time.sleep(120)
`;

/**
 * `orphanmap capture --backend B --duration S -- python3 prog.py`, `program`
 * (ending with DELETED_MAPS_THEN_WAIT) run in a workspace of its own: the
 * capture ends it once it has read its maps, so it still maps its files then.
 * The bundle, and the "(deleted)" lines the program wrote.
 */
export function captureUntilEnded(name: string, program: string, backend: 'strace' | 'bpftrace', seconds: number): { bundle: string; truth: string[] } {
  const dir = workspace(name);
  writeFileSync(join(dir, 'prog.py'), program);
  const bundle = join(dir, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', backend, '--duration', String(seconds), '--out', bundle, '--', PYTHON, 'prog.py'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return { bundle, truth: readFileSync(join(dir, 'truth.txt'), 'utf8').split('\n').filter(Boolean) };
}

/**
 * `python3 PROGRAM ARGS…` the two ways a user takes a launched trace of it,
 * each into DIR: under `strace -f -ttt -T -yy` with the recommended filter
 * (DIR/trace.txt), or `orphanmap capture --backend bpftrace` (DIR/bundle).
 * Returns what `orphanmap analyze` reads.
 */
export function tracePython(dir: string, how: 'strace' | 'capture-bpftrace', program: string, args: string[]): string {
  if (how === 'strace') {
    const trace = join(dir, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, program, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    return trace;
  }
  const bundle = join(dir, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, program, ...args], { encoding: 'utf8', timeout: 100_000 });
  expect(run.status, run.stderr).toBe(0);
  return bundle;
}

/** `orphanmap capture --backend B --pid PID` of the driver while its threads wait. */
export async function captureAttached(dir: string, backend: 'strace' | 'bpftrace'): Promise<Captured> {
  const observer = new Observer(dir);
  await observer.listening();
  const driver = track(spawn(PYTHON, driverArgs(dir, true), { stdio: ['ignore', 'pipe', 'pipe'] }));
  const driverDone = exited(driver);
  await observer.ready();
  const bundle = join(dir, 'bundle');
  const capture = exited(track(spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', String(driver.pid), '--out', bundle])));
  // meta.json is first written once the tracer has attached.
  await until(`capture --pid (${backend}) to attach`, () => existsSync(join(bundle, 'meta.json')), 60_000);
  observer.go();
  checkDriver(await driverDone, `capture --pid --backend ${backend}`);
  const captured = await capture;
  if (captured.code !== 0) throw new Error(`capture --pid failed (${captured.code}): ${captured.stderr}`);
  return { dir, truth: await observer.truth(), input: bundle };
}

/** `orphanmap live -- CMD` without a terminal: NDJSON findings on stdout. */
export async function liveLaunched(dir: string, backend: 'strace' | 'bpftrace'): Promise<Captured> {
  const observer = new Observer(dir);
  await observer.listening();
  const live = await exited(
    track(spawn(process.execPath, [CLI, 'live', '--backend', backend, '--save', join(dir, 'bundle'), '--', PYTHON, ...driverArgs(dir, false)], { stdio: ['ignore', 'pipe', 'pipe'] })),
  );
  checkDriver(live, `live --backend ${backend}`);
  if (live.code !== 0) throw new Error(`live failed (${live.code}): ${live.stderr}`);
  return { dir, truth: await observer.truth(), input: null, ndjson: live.stdout };
}

/**
 * `orphanmap capture --backend strace --pid PID --out BUNDLE`, once strace has
 * attached and the start snapshots are written (fds-start.txt comes after
 * maps-start.txt): what the process does from then on is in the trace.
 * `stop()` sends SIGINT and gives the capture's exit.
 */
export async function attachStrace(pid: number, bundle: string): Promise<{ stop: () => Promise<Exited> }> {
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  const captured = exited(capture);
  await until('strace to attach', () => tracerPid(pid) !== 0, 20_000);
  await until('the start snapshots', () => existsSync(join(bundle, 'fds-start.txt')), 20_000);
  return {
    stop: () => {
      capture.kill('SIGINT');
      return captured;
    },
  };
}

/**
 * test/scenarios/busy-orphans.c, compiled in `dir` and started: its threads
 * make and orphan mappings under DIR/w/d once DIR/go exists, for at most
 * `workSeconds` (SIGUSR1 ends the work early), then it writes DIR/done (its
 * record: the deleted mappings of its own /proc/self/maps) and waits.
 */
export function startBusyOrphans(dir: string, workSeconds: number, threads: number): { program: ChildProcess; go: string; doneFile: string } {
  const binary = join(dir, 'busy-orphans');
  execFileSync('cc', ['-O2', '-pthread', '-o', binary, join(REPO, 'test', 'scenarios', 'busy-orphans.c')], { stdio: 'pipe' });
  const go = join(dir, 'go');
  const doneFile = join(dir, 'done');
  const program = spawn(binary, [join(dir, 'w', 'd'), go, doneFile, String(workSeconds), String(threads), '1000'], { stdio: 'ignore' });
  return { program, go, doneFile };
}

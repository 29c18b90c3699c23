// The review 7 capture tests' scenario: a C parent with many children
// (test/scenarios/review7-kids.c), compiled once per file, and what /proc
// says of them. Not a test file itself.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { procStatus } from '../support/proc.js';
import { CLI, REPO, requireTool } from '../support/tools.js';

/** Compiles review7-kids.c into `dir`; returns the binary's path. */
export function compileKids(dir: string): string {
  requireTool('cc');
  const binary = join(dir, 'review7-kids');
  execFileSync('cc', ['-O2', '-o', binary, join(REPO, 'test', 'scenarios', 'review7-kids.c')], { stdio: 'pipe' });
  return binary;
}

/** The children of `pid`, from /proc/PID/task/*\/children. */
export function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text !== '') kids.push(...text.split(/\s+/).map(Number));
  }
  return kids;
}

/** Field 4 of /proc/PID/stat (after the comm, which may hold anything). */
export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
}

/** The processes among `pids` that are traced or stopped now, as "PID State TracerPid". */
export function tracedOrStopped(pids: number[]): string[] {
  const bad: string[] = [];
  for (const pid of pids) {
    const status = procStatus(pid);
    if (status === null) bad.push(`${pid} gone`);
    else if (status.tracerPid !== 0 || /[tT]/.test(status.state)) bad.push(`${pid} ${status.state} ${status.tracerPid}`);
  }
  return bad;
}

/** The bundle's maps-end.N.txt files, by pid. */
export function endFiles(bundle: string): number[] {
  return readdirSync(bundle)
    .map((name) => /^maps-end\.(\d+)\.txt$/.exec(name)?.[1])
    .filter((pid): pid is string => pid !== undefined)
    .map(Number);
}

export interface Capture {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code and when it came (Date.now()). */
  done: Promise<{ code: number | null; at: number }>;
}

/** `orphanmap capture ARGS` from dist/. */
export function startCapture(args: string[], started: ChildProcess[]): Capture {
  const child = spawn(process.execPath, [CLI, 'capture', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  return { child, stderr: () => stderr, done };
}

/** Kills the program and its children by pid (never a group or a name). */
export function killProgram(pid: number | undefined): void {
  if (pid === undefined || !existsSync(`/proc/${pid}`)) return;
  for (const kid of childrenOf(pid)) if (kid > 1) process.kill(kid, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
}

// What /proc says about a process: whether it is traced, stopped, whose child.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStatus {
  /** The State letter: R, S, D, T (stopped), t (tracing stop), Z… */
  state: string;
  /** The pid of the process tracing it; 0 when none. */
  tracerPid: number;
  ppid: number;
}

/** /proc/PID/status, or null when the process is gone. */
export function procStatus(pid: number): ProcStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  return {
    state: /^State:\s*(\S)/m.exec(text)?.[1] ?? '?',
    tracerPid: Number(/^TracerPid:\s*(\d+)/m.exec(text)?.[1]),
    ppid: Number(/^PPid:\s*(\d+)/m.exec(text)?.[1]),
  };
}

/** The pid tracing `pid` (0: none); throws when the process is gone. */
export function tracerPid(pid: number): number {
  const status = procStatus(pid);
  if (status === null) throw new Error(`process ${pid} is gone`);
  return status.tracerPid;
}

/** A process found by its command line. */
export interface Proc {
  pid: number;
  argv: string[];
  tracerPid: number | null;
}

/** Live processes (not zombies, not this one) with an argument that contains `needle` (a test's unique temp dir): ours and nobody else's. */
export function processesWith(needle: string): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
        .split('\0')
        .filter((arg) => arg !== '');
      if (!argv.some((arg) => arg.includes(needle))) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      const tracer = /^TracerPid:\s+(\d+)/m.exec(status);
      found.push({ pid: Number(entry), argv, tracerPid: tracer === null ? null : Number(tracer[1]) });
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

/** `address path` of each mapping of a file under `dir` that /proc/PID/maps lines show `(deleted)`, sorted. */
export function deletedMappingsIn(maps: string, dir: string): string[] {
  return maps
    .split('\n')
    .filter((line) => line.endsWith(' (deleted)') && line.includes(` ${dir}/`))
    .map((line) => `0x${line.slice(0, line.indexOf('-'))} ${line.slice(line.indexOf(` ${dir}/`) + 1, -' (deleted)'.length)}`)
    .sort();
}

/** Kills (SIGKILL) the children a test started that still run, and empties the list: for an afterEach, whatever the test's outcome. */
export function killStillRunning(children: ChildProcess[]): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** SIGKILL to each pid that is still there (processes a test made that are not its children), and empties the list. */
export function killPids(pids: number[]): void {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The children of process `pid`'s main thread, from /proc; none once it is gone. */
export function childrenOf(pid: number): number[] {
  let listed: string;
  try {
    listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return [];
  }
  return listed
    .split(/\s+/)
    .filter((entry) => entry !== '')
    .map(Number);
}

/** Whether process `pid`'s command line holds `text`; false for one gone since it was listed (a script's subshells come and go). */
export function cmdlineHas(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** The program process `pid` runs (/proc/PID/exe), or "gone". */
export function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return 'gone';
  }
}

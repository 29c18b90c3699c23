// A test of several slow steps (a tracer's attach, a capture, an analysis)
// run one bounded step at a time: a run that is too slow then fails naming
// the step, how long each before it took, and what the processes of the
// capture were doing, rather than with the runner's "Test timed out" (which
// a blocking spawnSync also gives, as it holds the runner's timer).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { CLI } from './tools.js';

export class Phases {
  private readonly done: string[] = [];

  /** `work`, or an error once `ms` have gone: the step, the steps before, and the capture's processes then. */
  async run<T>(what: string, work: Promise<T>, ms: number): Promise<T> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms; before it: ${this.done.join(', ') || 'nothing'}\n${captureProcesses()}`)), ms);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
      this.done.push(`${what} ${Date.now() - started} ms`);
    }
  }
}

/** ps of the processes a capture runs (orphanmap, its script, strace, bpftrace) and of python3 programs. */
function captureProcesses(): string {
  const ps = spawnSync('ps', ['-eo', 'pid,ppid,stat,wchan:30,etime,args'], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((line, k) => k === 0 || /capture|strace|bpftrace|python3/.test(line))
    .join('\n');
}

/** The built CLI run without blocking the runner: its status and output, the process pushed onto `started`. */
export function cliAsync(args: string[], started: ChildProcess[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

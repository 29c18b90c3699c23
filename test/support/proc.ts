// What /proc says about a process: whether it is traced, stopped, whose child.
import { readFileSync } from 'node:fs';

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

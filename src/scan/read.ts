// Reading /proc for `scan`: the I/O edge. Every error a live /proc can give
// (a process exiting between readdir and read, another user's process, a kernel
// thread, a /proc without some file) becomes a counted skip, never a throw.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeProcess, type ProcessScan, type ScanResult, type ScanSkip, type SkipReason } from './aggregate.js';

/** The few /proc operations scan needs; tests swap in a fake. */
export interface ProcReader {
  /** Names in the /proc root. */
  list(): Promise<string[]>;
  /** A file's text, by path relative to the root ("123/maps", "sys/vm/max_map_count"). */
  read(relative: string): Promise<string>;
  /** Whether a path relative to the root exists. */
  exists(relative: string): Promise<boolean>;
}

export function procfsReader(root = '/proc'): ProcReader {
  return {
    list: () => readdir(root),
    read: (relative) => readFile(join(root, relative), 'utf8'),
    exists: (relative) =>
      stat(join(root, relative)).then(
        () => true,
        () => false,
      ),
  };
}

export interface ScanOptions {
  /** Only these processes; all numeric entries of /proc when absent. */
  pids?: readonly number[];
  reader?: ProcReader;
  /** Reads in flight at once. */
  concurrency?: number;
  /** For tests: the clock. */
  now?: () => number;
}

export async function scanProcesses(options: ScanOptions = {}): Promise<ScanResult> {
  const reader = options.reader ?? procfsReader();
  const now = options.now ?? Date.now;
  const time = now();
  const startedAt = performance.now();
  const [pids, maxMapCount] = await Promise.all([options.pids !== undefined ? [...options.pids] : listPids(reader), readMaxMapCount(reader)]);

  const processes: ProcessScan[] = [];
  const skipped: ScanSkip[] = [];
  await forEachLimited(pids, options.concurrency ?? 16, async (pid) => {
    const outcome = await readProcess(reader, pid);
    if ('reason' in outcome) skipped.push(outcome);
    else processes.push(summarizeProcess(outcome, maxMapCount));
  });
  processes.sort((a, b) => a.pid - b.pid);
  skipped.sort((a, b) => a.pid - b.pid);
  return { time, durationMs: performance.now() - startedAt, maxMapCount, processes, skipped };
}

export async function listPids(reader: ProcReader): Promise<number[]> {
  const names = await reader.list();
  const pids: number[] = [];
  for (const name of names) if (/^[0-9]+$/.test(name)) pids.push(Number(name));
  return pids.sort((a, b) => a - b);
}

/** vm.max_map_count, or null when this /proc does not expose it. */
export async function readMaxMapCount(reader: ProcReader): Promise<number | null> {
  try {
    const value = Number((await reader.read('sys/vm/max_map_count')).trim());
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

export async function readProcess(reader: ProcReader, pid: number): Promise<{ pid: number; comm: string; maps: string } | ScanSkip> {
  let maps: string;
  try {
    maps = await reader.read(`${pid}/maps`);
  } catch (error) {
    return { pid, ...(await classifyError(reader, pid, error)) };
  }
  if (maps.length === 0) {
    // Kernel threads have no mm; a zombie has released its own. Either way nothing to count.
    // A process that exited during the read also reads empty.
    return { pid, reason: 'no-address-space', detail: 'empty maps' };
  }
  let comm = '';
  try {
    comm = (await reader.read(`${pid}/comm`)).replace(/\n$/, '');
  } catch {
    // comm is a label only; a missing one does not lose the scan.
  }
  return { pid, comm, maps };
}

async function classifyError(reader: ProcReader, pid: number, error: unknown): Promise<{ reason: SkipReason; detail: string }> {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'error';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { reason: 'denied', detail: code };
    case 'ESRCH':
      return { reason: 'vanished', detail: code };
    case 'ENOENT':
      // Gone, or a /proc (gVisor, an old kernel, a restricted container) without this file.
      return (await reader.exists(String(pid))) ? { reason: 'unreadable', detail: 'no maps file' } : { reason: 'vanished', detail: code };
    default:
      return { reason: 'unreadable', detail: code };
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

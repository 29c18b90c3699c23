// `orphanmap scan`: mappings of deleted files and map-count headroom, from /proc
// alone. No tracing, so it is cheap enough for cron or a metrics agent.
// Registration and the options' rules; the work is in scan-run.ts, loaded
// when the command runs.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { ProcReader } from '../scan/read.js';
import { formatOption, pidsOption } from './options.js';

export const SCAN_FORMATS = ['text', 'json', 'prom'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

export interface ScanFlags {
  pid?: number[];
  format: ScanFormat;
  watch?: number;
  top: number;
  all?: boolean;
  out?: string;
}

/** Where scan writes and what stops a watch; tests pass their own. */
export interface ScanIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Ends --watch; by default SIGINT does. */
  signal?: AbortSignal;
  reader?: ProcReader;
  /** The watch's clock; by default the wall clock and timers. */
  clock?: WatchClock;
}

export interface WatchClock {
  now(): number;
  /** Resolves after `ms`, rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * The shortest --watch interval, and the least pause between two scans when
 * one takes longer than the interval: a scan of every process takes about
 * 10 ms, so anything shorter is a busy loop that shows nothing new.
 */
export const MIN_WATCH_SECONDS = 0.1;
/** The longest: Node runs a timer longer than 2^31-1 ms (24.8 days) after 1 ms, so a longer wait would be a busy loop too. */
export const MAX_WATCH_SECONDS = 86_400;

export function registerScan(program: Command, io?: Partial<ScanIo>): void {
  program
    .command('scan')
    .description('count mappings of deleted files and map-count headroom per process, from /proc (no tracing)')
    .addOption(pidsOption('only these processes (default: every readable process)'))
    .addOption(formatOption(SCAN_FORMATS, 'text', "output format; prom is for node_exporter's textfile collector"))
    .option('--watch <seconds>', 'scan again every S seconds and show growth per hour and when vm.max_map_count would be reached', parseSeconds)
    .option('--top <n>', 'patterns and files listed per process (prom: patterns before "other")', parseTop, 5)
    .option('--all', 'text: list every scanned process, not only those mapping deleted files or near the limit')
    .option('-o, --out <file>', 'write to this file, replaced atomically on each scan (for the textfile collector)')
    .action(async (flags: ScanFlags) => {
      process.exitCode = await runScan(flags, {
        stdout: io?.stdout ?? process.stdout,
        stderr: io?.stderr ?? process.stderr,
        ...(io?.signal !== undefined ? { signal: io.signal } : {}),
        ...(io?.reader !== undefined ? { reader: io.reader } : {}),
        ...(io?.clock !== undefined ? { clock: io.clock } : {}),
      });
    });
}

function parseSeconds(value: string): number {
  const seconds = value.trim() === '' ? Number.NaN : Number(value);
  checkWatch(seconds, `"${value}"`);
  return seconds;
}

export function checkWatch(seconds: number, shown: string): void {
  if (!(seconds >= MIN_WATCH_SECONDS && seconds <= MAX_WATCH_SECONDS)) {
    throw new UsageError(`--watch needs seconds from ${MIN_WATCH_SECONDS} to ${MAX_WATCH_SECONDS} (a day), not ${shown}`);
  }
}

function parseTop(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--top needs a count from 1 to 1000, not "${value}"`);
  return n;
}

/**
 * Runs one scan, or a watch until the signal; returns the exit status. A
 * --pid that cannot be scanned (no such process, permission denied, no
 * address space) is a UsageError (exit 2) before anything is written.
 */
export async function runScan(flags: ScanFlags, io: ScanIo): Promise<number> {
  const { runScan: run } = await import('./scan-run.js');
  return run(flags, io);
}

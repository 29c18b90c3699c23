// `orphanmap scan`: mappings of deleted files and map-count headroom, from /proc
// alone. No tracing, so it is cheap enough for cron or a metrics agent.
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { safeJson } from '../report/json.js';
import type { ScanResult, ScanSkip } from '../scan/aggregate.js';
import { GrowthTracker, type ProcessGrowth } from '../scan/growth.js';
import { formatProm } from '../scan/prom.js';
import { scanProcesses, type ProcReader } from '../scan/read.js';
import { formatScanText, scanJson } from '../scan/text.js';
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

const WALL_CLOCK: WatchClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

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

function checkWatch(seconds: number, shown: string): void {
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
  if (flags.watch === undefined) {
    const result = await scanOnce(flags, io);
    refuseUnscannedPids(result, flags);
    await emit(render(result, flags, undefined, false), flags, io);
    return 0;
  }
  checkWatch(flags.watch, String(flags.watch));

  const clock = io.clock ?? WALL_CLOCK;
  const interval = flags.watch * 1000;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  const outer = io.signal;
  if (outer !== undefined) {
    if (outer.aborted) return EXIT_INTERRUPTED;
    outer.addEventListener('abort', stop, { once: true });
  } else {
    process.on('SIGINT', stop);
  }
  const tracker = new GrowthTracker();
  const gone = new Set<number>();
  try {
    for (let round = 0; ; round++) {
      const started = clock.now();
      const result = await scanOnce(flags, io);
      if (controller.signal.aborted) return EXIT_INTERRUPTED;
      if (round === 0) refuseUnscannedPids(result, flags);
      else warnAboutGonePids(result, flags, gone, io);
      const growth = tracker.record(result);
      await emit(render(result, flags, growth, true), flags, io);
      try {
        await clock.sleep(Math.max(MIN_WATCH_SECONDS * 1000, interval - (clock.now() - started)), controller.signal);
      } catch {
        return EXIT_INTERRUPTED;
      }
    }
  } finally {
    if (outer !== undefined) outer.removeEventListener('abort', stop);
    else process.off('SIGINT', stop);
  }
}

function scanOnce(flags: ScanFlags, io: ScanIo): Promise<ScanResult> {
  return scanProcesses({
    ...(flags.pid !== undefined ? { pids: flags.pid } : {}),
    ...(io.reader !== undefined ? { reader: io.reader } : {}),
  });
}

function render(result: ScanResult, flags: ScanFlags, growth: ReadonlyMap<number, ProcessGrowth> | undefined, watching: boolean): string {
  switch (flags.format) {
    case 'text':
      return (
        formatScanText(result, { top: flags.top, all: flags.all === true || flags.pid !== undefined, ...(growth !== undefined ? { growth } : {}) }) + (watching && flags.out === undefined ? '\n' : '')
      );
    case 'json':
      // Watching: one compact document per line, for jq and log shippers.
      return watching ? `${safeJson(scanJson(result, growth))}\n` : `${safeJson(scanJson(result, growth), 2)}\n`;
    case 'prom':
      return formatProm(result, { topPatterns: flags.top, ...(growth !== undefined ? { growth } : {}) }) + (watching && flags.out === undefined ? '\n' : '');
    default:
      return assertNever(flags.format);
  }
}

async function emit(text: string, flags: ScanFlags, io: ScanIo): Promise<void> {
  if (flags.out === undefined) {
    io.stdout.write(text);
    return;
  }
  // The textfile collector may read at any moment: never let it see half a file.
  const temporary = `${flags.out}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, flags.out);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot write ${flags.out}: ${message}`);
  }
}

/** Only --pid lists processes whose absence is an error; unlisted processes come and go. */
function refuseUnscannedPids(result: ScanResult, flags: ScanFlags): void {
  if (flags.pid === undefined || result.skipped.length === 0) return;
  throw new UsageError(`cannot scan ${result.skipped.map((skip) => `pid ${skip.pid} (${skipText(skip)})`).join(', ')}`);
}

/** While watching, a requested process that exits is said once on stderr; the watch goes on for the rest. */
function warnAboutGonePids(result: ScanResult, flags: ScanFlags, gone: Set<number>, io: ScanIo): void {
  if (flags.pid === undefined) return;
  for (const skip of result.skipped) {
    if (gone.has(skip.pid)) continue;
    gone.add(skip.pid);
    io.stderr.write(`orphanmap: warning: pid ${skip.pid}: ${skipText(skip)}\n`);
  }
}

function skipText(skip: ScanSkip): string {
  switch (skip.reason) {
    case 'vanished':
      return 'no such process';
    case 'denied':
      return 'permission denied (run as root or as its user)';
    case 'no-address-space':
      return 'no address space: a kernel thread or a zombie';
    case 'unreadable':
      return `its maps are unreadable (${skip.detail})`;
    default:
      return assertNever(skip.reason);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${String(value)}`);
}

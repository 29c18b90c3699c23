// `orphanmap scan`: mappings of deleted files and map-count headroom, from /proc
// alone. No tracing, so it is cheap enough for cron or a metrics agent.
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { safeJson } from '../report/json.js';
import type { ScanResult } from '../scan/aggregate.js';
import { GrowthTracker, type ProcessGrowth } from '../scan/growth.js';
import { formatProm } from '../scan/prom.js';
import { scanProcesses, type ProcReader } from '../scan/read.js';
import { formatScanText, scanJson } from '../scan/text.js';

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
}

export function registerScan(program: Command, io?: Partial<ScanIo>): void {
  program
    .command('scan')
    .description('count mappings of deleted files and map-count headroom per process, from /proc (no tracing)')
    .option('--pid <pid...>', 'only these processes (default: every readable process)', collectPids)
    .addOption(new Option('-f, --format <format>', 'output format; prom is for node_exporter\'s textfile collector').choices(SCAN_FORMATS).default('text'))
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
      });
    });
}

function collectPids(value: string, previous: number[] | undefined): number[] {
  const pid = Number(value);
  if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--pid needs a process id, not "${value}"`);
  return [...(previous ?? []), pid];
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--watch needs a number of seconds, not "${value}"`);
  return seconds;
}

function parseTop(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--top needs a count from 1 to 1000, not "${value}"`);
  return n;
}

/** Runs one scan, or a watch until the signal; returns the exit status. */
export async function runScan(flags: ScanFlags, io: ScanIo): Promise<number> {
  if (flags.watch === undefined) {
    const result = await scanOnce(flags, io);
    await emit(render(result, flags, undefined, false), flags, io);
    warnAboutRequested(result, flags, io);
    return 0;
  }

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
  try {
    for (let round = 0; ; round++) {
      const started = Date.now();
      const result = await scanOnce(flags, io);
      if (controller.signal.aborted) return EXIT_INTERRUPTED;
      const growth = tracker.record(result);
      await emit(render(result, flags, growth, true), flags, io);
      if (round === 0) warnAboutRequested(result, flags, io);
      try {
        await sleep(Math.max(0, interval - (Date.now() - started)), undefined, { signal: controller.signal });
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
      return formatScanText(result, { top: flags.top, all: flags.all === true || flags.pid !== undefined, ...(growth !== undefined ? { growth } : {}) }) + (watching && flags.out === undefined ? '\n' : '');
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

/** A --pid that could not be scanned is worth a line on stderr; unlisted processes are not. */
function warnAboutRequested(result: ScanResult, flags: ScanFlags, io: ScanIo): void {
  if (flags.pid === undefined) return;
  for (const skip of result.skipped) {
    const why = skip.reason === 'vanished' ? 'no such process' : skip.reason === 'denied' ? 'permission denied' : skip.reason === 'no-address-space' ? 'no address space (kernel thread or zombie)' : `unreadable (${skip.detail})`;
    io.stderr.write(`orphanmap: warning: pid ${skip.pid}: ${why}\n`);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected format ${String(value)}`);
}

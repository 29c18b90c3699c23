// `orphanmap scan`'s work, loaded when the command runs (scan.ts registers it).
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { safeJson } from '../report/json.js';
import type { ScanResult, ScanSkip } from '../scan/aggregate.js';
import { GrowthTracker, type ProcessGrowth } from '../scan/growth.js';
import { formatProm } from '../scan/prom.js';
import { scanProcesses } from '../scan/read.js';
import { formatScanText, scanJson } from '../scan/text.js';
import { openReportOutput } from './output.js';
import { checkWatch, MIN_WATCH_SECONDS, type ScanFlags, type ScanIo, type WatchClock } from './scan.js';

const WALL_CLOCK: WatchClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

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
  // The textfile collector may read at any moment: never let it see half a
  // file. scan runs as root beside directories others may write (a
  // collector's group-writable directory, /tmp): the report's writer makes
  // its temporary file under a random name, exclusively, without following a
  // link, and renames it through the directory's descriptor, so nothing
  // planted there is written through or left in place (review 2, F6).
  const output = openReportOutput(flags.out);
  try {
    output.write(text);
    await output.close();
  } catch (error) {
    output.abort();
    throw error;
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

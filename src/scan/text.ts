// `scan --format text` and `--format json`. Pure. comm and paths come from
// other users' processes: every one goes through escapeControl before printing.
import { escapeControl, formatBytes, formatCount } from '../report/sanitize.js';
import { reportOrder, scanTotals, topPatterns, type ProcessScan, type ScanResult } from './aggregate.js';
import type { ProcessGrowth, Projection } from './growth.js';

export interface TextOptions {
  /** Patterns and files listed per process. */
  top: number;
  /** Every scanned process, not only those with deleted mappings or little headroom. */
  all: boolean;
  growth?: ReadonlyMap<number, ProcessGrowth>;
}

/** A process is shown without --all when it maps deleted files or has used this share of max_map_count. */
const CROWDED_SHARE = 0.5;

export function formatScanText(result: ScanResult, options: TextOptions): string {
  const totals = scanTotals(result);
  const out: string[] = [];
  const max = result.maxMapCount;
  out.push(
    `orphanmap scan at ${new Date(result.time).toISOString()}: ${plural(totals.processes, 'process', 'processes')}, ` +
      `${plural(totals.deletedMappings, 'mapping')} of deleted files (${formatBytes(totals.deletedBytes)}), ` +
      `vm.max_map_count ${max === null ? 'unknown' : formatCount(max)}`,
  );

  const ordered = reportOrder(result.processes);
  const shown = options.all ? ordered : ordered.filter((p) => p.deletedMappings > 0 || (max !== null && p.mappings >= max * CROWDED_SHARE));
  const growth = options.growth;
  if (shown.length > 0) {
    const header = ['PID', 'COMM', 'MAPS', 'HEADROOM', 'DELETED', 'DELETED SIZE'];
    if (growth !== undefined) header.push('MAPS/h', 'DELETED/h', 'AT MAX_MAP_COUNT');
    const rows = shown.map((p) => {
      const row = [String(p.pid), escapeControl(p.comm), formatCount(p.mappings), p.headroom === null ? '?' : formatCount(p.headroom), formatCount(p.deletedMappings), formatBytes(p.deletedBytes)];
      if (growth !== undefined) {
        const g = growth.get(p.pid);
        row.push(rateText(g?.mappingsPerHour ?? null), rateText(g?.deletedMappingsPerHour ?? null), g === undefined ? '' : projectionText(g.projection, result.time));
      }
      return row;
    });
    const details = new Map(shown.map((p) => [p.pid, detailLines(p, options.top)]));
    out.push('', ...table(header, rows, [true, false, true, true, true, true, true, true, false], (index) => details.get(shown[index]!.pid) ?? []));
  }

  const hidden = result.processes.length - shown.length;
  if (hidden > 0) {
    const fullest = ordered.filter((p) => !shown.includes(p)).reduce<ProcessScan | null>((best, p) => (best === null || p.mappings > best.mappings ? p : best), null);
    const share = fullest !== null && max !== null ? ` (${((fullest.mappings / max) * 100).toFixed(1)}% of max)` : '';
    out.push(
      '',
      `${plural(hidden, 'other process maps', 'other processes map')} no deleted files` +
        (fullest === null ? '' : `; the most mappings: pid ${fullest.pid} ${escapeControl(fullest.comm)} with ${formatCount(fullest.mappings)}${share}`) +
        ' (--all lists them)',
    );
  }
  const skipped = totals.skipped;
  const skippedTotal = Object.values(skipped).reduce((a, b) => a + b, 0);
  if (skippedTotal > 0) {
    out.push(
      `not scanned: ${skipped['no-address-space']} without an address space (kernel threads, zombies), ${skipped.vanished} exited during the scan, ` +
        `${skipped.denied} permission denied, ${skipped.unreadable} unreadable`,
    );
  }
  out.push(`scan took ${result.durationMs.toFixed(1)} ms`);
  return `${out.join('\n')}\n`;
}

function detailLines(process: ProcessScan, top: number): string[] {
  const linked =
    process.linkedMappings > 0 ? [`    (${plural(process.linkedMappings, 'mapping')} of files that print "(deleted)" but still have a link, as a file named so has, are not counted)`] : [];
  if (process.deletedFiles.length === 0) return linked;
  const lines: string[] = [];
  for (const t of topPatterns(process.patterns, top)) {
    lines.push(`    ${escapeControl(t.pattern)}: ${plural(t.files, 'file')}, ${plural(t.mappings, 'mapping')}, ${formatBytes(t.bytes)}`);
  }
  const files = process.deletedFiles.slice(0, top);
  // Bytes mapped, as /proc/PID/maps counts them: a mapping may reach past its file's end (Tokyo Cabinet maps 64 MiB of a
  // file of 1 MiB), so they are no file's size (review 59, M4).
  lines.push(`    deleted files, by bytes mapped:`);
  for (const file of files) lines.push(`      ${formatBytes(file.bytes).padStart(10)}  ${plural(file.mappings.length, 'mapping').padEnd(11)} ${escapeControl(file.path)}`);
  if (process.deletedFiles.length > files.length) lines.push(`      … ${process.deletedFiles.length - files.length} more (--top N or --format json)`);
  if (process.anonymousDeletedMappings > 0)
    lines.push(`    (${plural(process.anonymousDeletedMappings, 'memfd/shared-memory/O_TMPFILE mapping')} also print "(deleted)"; they never had a file name and are not counted)`);
  if (process.deletedMappingsByName > 0)
    lines.push(
      `    (${plural(process.deletedMappingsByName, 'mapping')} counted by the name /proc prints alone: whether the file has a link left could not be asked ` +
        '(its /proc/PID/map_files entry takes CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), and a file named "… (deleted)" prints the same)',
    );
  lines.push(...linked);
  return lines;
}

function table(header: string[], rows: string[][], right: boolean[], after: (row: number) => string[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header)];
  rows.forEach((row, index) => {
    out.push(line(row), ...after(index));
  });
  return out;
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : words}`;
}

function rateText(perHour: number | null): string {
  if (perHour === null) return '…';
  const rounded = Math.abs(perHour) >= 10 ? perHour.toFixed(0) : perHour.toFixed(1);
  return perHour > 0 ? `+${rounded}` : rounded;
}

/** "in 3.2 h (14:02)", "not growing", "reached", "…" for one sample. */
export function projectionText(projection: Projection, _now: number): string {
  switch (projection.kind) {
    case 'unknown':
      return projection.why === 'one-sample' ? '…' : 'unknown';
    case 'not-growing':
      return 'not growing';
    case 'at-limit':
      return 'reached';
    case 'eta':
      return `in ${durationText(projection.hours)} (${new Date(projection.at).toISOString().slice(0, 16).replace('T', ' ')}Z)`;
    default:
      return assertNever(projection);
  }
}

export function durationText(hours: number): string {
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min`;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  if (hours < 24 * 365) return `${(hours / 24).toFixed(1)} days`;
  return `${(hours / 24 / 365).toFixed(1)} years`;
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

export const SCAN_SCHEMA = 'orphanmap/scan@1';

/** The JSON document of one scan; with growth when watching. */
export function scanJson(result: ScanResult, growth?: ReadonlyMap<number, ProcessGrowth>): object {
  const totals = scanTotals(result);
  return {
    schema: SCAN_SCHEMA,
    time: new Date(result.time).toISOString(),
    durationMs: Math.round(result.durationMs * 10) / 10,
    maxMapCount: result.maxMapCount,
    summary: {
      processes: totals.processes,
      deletedMappings: totals.deletedMappings,
      deletedBytes: totals.deletedBytes,
      deletedMappingsByName: totals.deletedMappingsByName,
      skipped: { vanished: totals.skipped.vanished, denied: totals.skipped.denied, noAddressSpace: totals.skipped['no-address-space'], unreadable: totals.skipped.unreadable },
    },
    processes: reportOrder(result.processes).map((p) => (growth === undefined ? p : { ...p, growth: growth.get(p.pid) ?? null })),
    skipped: result.skipped,
  };
}

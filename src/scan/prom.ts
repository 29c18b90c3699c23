// `scan --format prom`: the Prometheus text exposition format (version 0.0.4),
// for node_exporter's textfile collector. Pure.
import { scanTotals, topPatterns, SKIP_REASONS, type ProcessScan, type ScanResult } from './aggregate.js';
import { escapeControl } from '../report/sanitize.js';
import type { ProcessGrowth } from './growth.js';

export interface PromOptions {
  /** Patterns per process before the rest is summed as "other". */
  topPatterns: number;
  /** Rates from --watch, by pid. */
  growth?: ReadonlyMap<number, ProcessGrowth>;
}

/**
 * A label value as the text view shows it, then in the format's own escapes.
 * comm, pattern and path come from other users' processes and their files:
 * the format itself escapes only backslash, " and newline, so ESC, BEL, C1 controls and
 * bidi overrides would reach whoever reads the metrics (a terminal running
 * curl, a dashboard) raw. escapeControl turns them into visible text first
 * (ESC becomes the four characters \x1b, a newline the two characters \n), and a Prometheus parser
 * then reads back exactly that text.
 */
export function escapeLabelValue(value: string): string {
  return escapeExposition(escapeControl(value));
}

/** The format's three escapes (backslash, double quote, newline); everything else is taken as it is. */
function escapeExposition(value: string): string {
  return value.replace(/[\\"\n]/g, (char) => (char === '\\' ? '\\\\' : char === '"' ? '\\"' : '\\n'));
}

/** HELP text escapes backslash and newline, not the double quote. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (char) => (char === '\\' ? '\\\\' : '\\n'));
}

type Labels = Record<string, string>;

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, help: string, samples: readonly (readonly [Labels, number])[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${numberText(value)}`);
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function processLabels(process: ProcessScan): Labels {
  return { pid: String(process.pid), comm: process.comm };
}

export function formatProm(result: ScanResult, options: PromOptions): string {
  const out = new Exposition();
  const processes = result.processes;
  const each = (value: (p: ProcessScan) => number) => processes.map((p) => [processLabels(p), value(p)] as const);

  if (result.maxMapCount !== null) {
    out.family('orphanmap_vm_max_map_count', 'Value of the vm.max_map_count sysctl: the most memory mappings one process may have.', [[{}, result.maxMapCount]]);
  }
  out.family(
    'orphanmap_process_mappings',
    'Memory mappings (VMAs) of the process, as counted against vm.max_map_count.',
    each((p) => p.mappings),
  );
  out.family(
    'orphanmap_process_deleted_mappings',
    'Memory mappings of files that were unlinked while mapped ("(deleted)" in /proc/PID/maps).',
    each((p) => p.deletedMappings),
  );
  out.family(
    'orphanmap_process_deleted_mapped_bytes',
    'Bytes of address space mapping files that were unlinked while mapped.',
    each((p) => p.deletedBytes),
  );

  const withDeleted = processes.filter((p) => p.patterns.length > 0);
  const byPattern = withDeleted.flatMap((p) => topPatterns(p.patterns, options.topPatterns).map((t) => [{ ...processLabels(p), pattern: t.pattern }, t] as const));
  out.family(
    'orphanmap_process_deleted_pattern_mappings',
    `Mappings of unlinked files by file pattern (e.g. *.index.deleted); the top ${options.topPatterns} patterns per process, the rest as pattern="other".`,
    byPattern.map(([labels, t]) => [labels, t.mappings]),
  );
  out.family(
    'orphanmap_process_deleted_pattern_mapped_bytes',
    `Bytes of address space mapping unlinked files by file pattern; the top ${options.topPatterns} patterns per process, the rest as pattern="other".`,
    byPattern.map(([labels, t]) => [labels, t.bytes]),
  );

  const growth = options.growth;
  if (growth !== undefined) {
    const rate = (pick: (g: ProcessGrowth) => number | null) =>
      processes.flatMap((p) => {
        const value = growth.get(p.pid);
        const picked = value === undefined ? null : pick(value);
        return picked === null ? [] : [[processLabels(p), picked] as const];
      });
    out.family(
      'orphanmap_process_mappings_growth_per_hour',
      'Change of the map count per hour, fitted over the scans of this watch.',
      rate((g) => g.mappingsPerHour),
    );
    out.family(
      'orphanmap_process_deleted_mappings_growth_per_hour',
      'Change of the mappings of unlinked files per hour, fitted over the scans of this watch.',
      rate((g) => g.deletedMappingsPerHour),
    );
    out.family(
      'orphanmap_process_max_map_count_eta_seconds',
      'Seconds until the map count reaches vm.max_map_count at the fitted rate; absent when not growing.',
      rate((g) => (g.projection.kind === 'eta' ? Math.round(g.projection.hours * 3600) : g.projection.kind === 'at-limit' ? 0 : null)),
    );
  }

  const totals = scanTotals(result);
  out.family('orphanmap_scan_processes', 'Processes seen by the last scan, by outcome (scanned, or why not).', [
    [{ result: 'scanned' }, totals.processes],
    ...SKIP_REASONS.map((reason) => [{ result: reason.replace(/-/g, '_') }, totals.skipped[reason]] as const),
  ]);
  out.family('orphanmap_scan_duration_seconds', 'Time the last scan took.', [[{}, Math.round(result.durationMs) / 1000]]);
  out.family('orphanmap_scan_timestamp_seconds', 'When the last scan ran, in seconds since the epoch.', [[{}, Math.floor(result.time / 1000)]]);
  return out.text();
}

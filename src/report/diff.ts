// `orphanmap diff <before> <after>`: the same counts on two reports (a broker
// before and after the fix), by kind and by file pattern, and what changed.
import { FINDING_KINDS, SEVERITY_OF, type Finding, type FindingKind, type Severity } from '../engine/findings.js';
import { code, heading, paragraph, strong, table, text, type Block } from './document.js';
import { BENIGN, HELD_WHEN_UNLINKED, kindAndSeverity, mayBeFalse, plural, SEVERITY_WORD, STILL_MAPPED_AT_THE_END, tally } from './finding-view.js';
import { renderJira } from './jira.js';
import { safeJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './report.js';
import { escapeControl, formatBytes } from './sanitize.js';
import { patternGroups } from './ticket.js';

export const DIFF_SCHEMA = 'orphanmap/diff@1';
export const DIFF_FORMATS = ['text', 'json', 'markdown', 'jira'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export interface DiffRow {
  before: number;
  after: number;
  change: number;
}

export interface DiffSide {
  inputs: Report['inputs'];
  findings: number;
  /** Findings by severity; `info` are known benign (JVM hsperfdata at exit). */
  errors: number;
  warnings: number;
  benign: number;
  /** Bytes the orphans (unlinked-while-mapped, not benign) held when their files were unlinked. */
  heldWhenUnlinkedBytes: number;
  /** Orphans still mapped at the end of the trace, and their bytes. */
  stillMappedAtEnd: number;
  stillMappedAtEndBytes: number;
  /**
   * Orphans released only when their process exited: held until then (a
   * reader left open keeps each until the JVM ends; review 46, L5: the fix of
   * such a leak left the errors nearly as many, 540 of these became 18).
   */
  releasedAtExit: number;
  /**
   * What the analysis of this side could not know or had to assume, as
   * `analyze` says it (Report.warnings): an unfinished capture, lost events,
   * missing strace flags. A verdict is only as good as the captures it compares.
   */
  analysisWarnings: string[];
  unparsedLines: number;
}

export interface ReportDiff {
  schema: typeof DIFF_SCHEMA;
  before: DiffSide;
  after: DiffSide;
  byKind: (DiffRow & { kind: FindingKind; severity: Severity })[];
  byPattern: (DiffRow & { pattern: string; kind: FindingKind })[];
}

export function diffReports(before: Report, after: Report): ReportDiff {
  const side = (report: Report): DiffSide => {
    const t = tally(report.findings);
    return {
      inputs: report.inputs,
      findings: t.findings,
      errors: t.errors,
      warnings: t.warnings,
      benign: t.benign,
      heldWhenUnlinkedBytes: t.heldWhenUnlinkedBytes,
      stillMappedAtEnd: t.stillMappedAtEnd,
      stillMappedAtEndBytes: t.stillMappedAtEndBytes,
      releasedAtExit: t.orphanResolutions['process-exited'],
      analysisWarnings: report.warnings,
      unparsedLines: report.summary.unparsedLines,
    };
  };
  const row = (b: number, a: number): DiffRow => ({ before: b, after: a, change: a - b });
  // Benign findings are a row of their own (severity info), never counted with the errors.
  const byKind: ReportDiff['byKind'] = [];
  for (const kind of FINDING_KINDS) {
    const real = (f: Finding) => f.kind === kind && f.severity !== 'info';
    byKind.push({ kind, severity: SEVERITY_OF[kind], ...row(count(before.findings, real), count(after.findings, real)) });
    const benign = (f: Finding) => f.kind === kind && f.severity === 'info';
    const b = count(before.findings, benign);
    const a = count(after.findings, benign);
    if (a + b > 0) byKind.push({ kind, severity: 'info', ...row(b, a) });
  }
  const beforeGroups = patternGroups(before.findings);
  const afterGroups = patternGroups(after.findings);
  const keys = new Map<string, { pattern: string; kind: FindingKind }>();
  for (const group of [...beforeGroups, ...afterGroups]) keys.set(`${group.kind}\u0000${group.pattern}`, { pattern: group.pattern, kind: group.kind });
  const sizeOf = (groups: typeof beforeGroups, key: { pattern: string; kind: FindingKind }) => groups.find((group) => group.kind === key.kind && group.pattern === key.pattern)?.findings.length ?? 0;
  const byPattern = [...keys.values()]
    .sort((a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0))
    .map((key) => ({ ...key, ...row(sizeOf(beforeGroups, key), sizeOf(afterGroups, key)) }));
  return { schema: DIFF_SCHEMA, before: side(before), after: side(after), byKind, byPattern };
}

function count(findings: readonly Finding[], keep: (finding: Finding) => boolean): number {
  return findings.filter(keep).length;
}

/** Exit status 3 is due when the after side still has a finding at or above the threshold, not counting those that may be false. */
export function afterFailsOn(after: Report, threshold: 'error' | 'warning' | undefined): boolean {
  if (threshold === undefined) return false;
  return after.findings.some((f) => !mayBeFalse(f) && (f.severity === 'error' || (threshold === 'warning' && f.severity === 'warning')));
}

export function diffVerdict(diff: ReportDiff): string {
  return `${verdictWords(diff)}${caveat(diff)}`;
}

function verdictWords(diff: ReportDiff): string {
  const { before: b, after: a } = diff;
  const counts =
    `errors ${b.errors} → ${a.errors}, warnings ${b.warnings} → ${a.warnings}; ` +
    `${HELD_WHEN_UNLINKED} ${formatBytes(b.heldWhenUnlinkedBytes)} → ${formatBytes(a.heldWhenUnlinkedBytes)}, ` +
    `${STILL_MAPPED_AT_THE_END} ${formatBytes(b.stillMappedAtEndBytes)} → ${formatBytes(a.stillMappedAtEndBytes)}`;
  const atExit = b.releasedAtExit + a.releasedAtExit > 0 ? `, released when the process exited ${b.releasedAtExit} → ${a.releasedAtExit}` : '';
  const benign = b.benign + a.benign > 0 ? `; ${BENIGN} ${b.benign} → ${a.benign}` : '';
  if (a.errors === 0 && a.warnings === 0 && b.errors === 0 && b.warnings === 0) return `no findings on either side (${counts}${atExit}${benign}).`;
  if (a.errors === 0 && a.warnings === 0) return `fixed: no mapping outlives its file after the change (${counts}${atExit}${benign}).`;
  if (a.errors < b.errors || (a.errors === b.errors && a.warnings < b.warnings)) return `better, not fixed: ${counts}${atExit}${benign}.`;
  if (a.errors === b.errors && a.warnings === b.warnings) return `no change: ${counts}${atExit}${benign}.`;
  return `worse: ${counts}${atExit}${benign}.`;
}

/** " But the after side's analysis has 2 warnings (below): …", when a side's analysis warned or could not read lines. */
function caveat(diff: ReportDiff): string {
  const sides = (['before', 'after'] as const).filter((which) => diff[which].analysisWarnings.length > 0 || diff[which].unparsedLines > 0);
  if (sides.length === 0) return '';
  const what = sides.map(
    (which) =>
      `the ${which} side's analysis has ${plural(diff[which].analysisWarnings.length, 'warning', 'warnings')}${diff[which].unparsedLines > 0 ? ` and ${plural(diff[which].unparsedLines, 'unreadable line', 'unreadable lines')}` : ''}`,
  );
  return ` But ${what.join(', and ')} (below): read them before trusting the comparison.`;
}

/** Each side's warnings, in words, as the trace gave them (unescaped): "before", "…". */
function sideWarnings(diff: ReportDiff): { which: 'before' | 'after'; text: string }[] {
  const lines: { which: 'before' | 'after'; text: string }[] = [];
  for (const which of ['before', 'after'] as const) {
    for (const warning of diff[which].analysisWarnings) lines.push({ which, text: warning });
    if (diff[which].unparsedLines > 0) lines.push({ which, text: `${plural(diff[which].unparsedLines, 'unreadable line', 'unreadable lines')} (orphanmap analyze names them)` });
  }
  return lines;
}

export function formatDiff(diff: ReportDiff, format: DiffFormat): string {
  switch (format) {
    case 'json':
      return `${safeJson(diff, 2)}\n`;
    case 'markdown':
      return renderMarkdown(diffDocument(diff));
    case 'jira':
      return renderJira(diffDocument(diff));
    case 'text':
      return diffText(diff);
  }
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

function diffDocument(diff: ReportDiff): Block[] {
  const inputs = (which: DiffSide) => which.inputs.map((input) => escapeControl(input.path)).join(', ');
  return [
    heading(1, 'orphanmap diff'),
    paragraph(strong(diffVerdict(diff))),
    table(
      ['', 'inputs', 'SHA-256'],
      (['before', 'after'] as const).map((which) => [which, code(inputs(diff[which])), code(diff[which].inputs.map((input) => input.sha256).join(', '))]),
    ),
    heading(2, 'By kind'),
    table(
      ['kind', 'severity', 'before', 'after', 'change'],
      diff.byKind.map((row) => [code(row.kind), SEVERITY_WORD[row.severity], String(row.before), String(row.after), signed(row.change)]),
    ),
    heading(2, 'By file pattern'),
    diff.byPattern.length === 0
      ? paragraph(text('No findings on either side.'))
      : table(
          ['file pattern', 'kind', 'before', 'after', 'change'],
          diff.byPattern.map((row) => [code(row.pattern), code(row.kind), String(row.before), String(row.after), signed(row.change)]),
        ),
    ...warningBlocks(diff),
  ];
}

function warningBlocks(diff: ReportDiff): Block[] {
  const warnings = sideWarnings(diff);
  if (warnings.length === 0) return [];
  return [heading(2, 'Warnings'), { type: 'list', items: warnings.map((warning) => [strong(warning.which), text(`: ${warning.text}`)]) }];
}

function diffText(diff: ReportDiff): string {
  const out = [`orphanmap diff: ${diffVerdict(diff)}`, ''];
  out.push(`  before  ${diff.before.inputs.map((input) => escapeControl(input.path)).join(', ')}`);
  out.push(`  after   ${diff.after.inputs.map((input) => escapeControl(input.path)).join(', ')}`, '');
  const rows: string[][] = [['kind / file pattern', 'before', 'after', 'change']];
  for (const row of diff.byKind) rows.push([kindAndSeverity(row.kind, row.severity), String(row.before), String(row.after), signed(row.change)]);
  for (const row of diff.byPattern) rows.push([`  ${escapeControl(row.pattern)}  ${row.kind}`, String(row.before), String(row.after), signed(row.change)]);
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  for (const cells of rows) out.push(`  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}`);
  const warnings = sideWarnings(diff);
  if (warnings.length > 0) out.push('', 'warnings:', ...warnings.map((warning) => `  ${warning.which}: ${escapeControl(warning.text)}`));
  return `${out.join('\n')}\n`;
}

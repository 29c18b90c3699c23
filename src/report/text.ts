// The text report: what an engineer reads first. A verdict, the counts, the
// findings by file pattern, what to distrust (warnings, unreadable lines),
// then one block per finding: a report of thousands of findings must not
// bury its warnings under them (review 46, L6). The words and numbers come
// from finding-view.ts, shared with every other view.
import type { Finding } from '../engine/findings.js';
import {
  bySeverity,
  describePlace,
  endStateText,
  endingsText,
  findingCountsText,
  heldWhenUnlinked,
  reportHeadline,
  mappingText,
  mappingView,
  remapText,
  resolutionText,
  SEVERITY_TAG,
  tally,
  BPFTRACE_TIMES,
  unlinkedFirst,
  unlinkedText,
} from './finding-view.js';
import { NO_REDACTION, type Redaction } from './redact.js';
import type { Report } from './report.js';
import { escapeControl, formatBytes, formatCount } from './sanitize.js';
import { diagnosis, groupCount, patternGroups } from './ticket.js';
import type { Inline } from './document.js';

/** @param redaction what each finding is drawn through (the rest of the report went through it already: redactAllButFindings) */
export function formatText(report: Report, redaction: Redaction = NO_REDACTION): string {
  const out: string[] = [];
  out.push(verdict(report), '');
  const s = report.summary;
  const t = tally(report.findings);
  out.push(
    `  lines ${formatCount(s.lines)}   events ${formatCount(s.events)}   processes ${formatCount(s.processes)}   unreadable lines ${formatCount(s.unparsedLines)}`,
    `  findings: ${findingCountsText(t)}`,
  );
  if (t.orphans > 0) out.push(`  ${endStateText(t)}`);
  if (report.inputs.some((input) => input.format === 'bpftrace')) out.push(`  ${BPFTRACE_TIMES}`);
  out.push('');
  if (report.findings.length > 1) out.push(...patternLines(report, redaction), '');
  if (report.warnings.length > 0) {
    out.push('warnings:');
    for (const warning of report.warnings) out.push(`  - ${escapeControl(warning)}`);
    out.push('');
  }
  if (s.unparsedLines > 0) {
    out.push(`unreadable lines (${report.unparsedSamples.length} of ${formatCount(s.unparsedLines)} shown):`);
    for (const sample of report.unparsedSamples) {
      out.push(`  ${escapeControl(sample.file)}:${sample.line}: ${escapeControl(sample.reason)}: ${escapeControl(sample.text)}`);
    }
    out.push('');
  }
  const ordered = [...report.findings].sort(bySeverity);
  for (const finding of ordered) out.push(...findingBlock(redaction.finding(finding), report.mapsLines[finding.id]), '');
  // What they mean and what to do, as the ticket says it (review 11: only Markdown and Jira said it).
  const meaning = diagnosis(report, redaction);
  if (meaning.length > 0) {
    out.push('what it means:');
    for (const block of meaning) if (block.type === 'paragraph') out.push(`  ${block.content.map(plainInline).join('')}`);
    out.push('');
  }
  return out.join('\n');
}

/**
 * The findings by file pattern and kind, as the Markdown summary groups them
 * (patternGroups), one aligned line each: the pattern, the kind, how many
 * (benign apart), what they held when unlinked, and how they ended.
 */
function patternLines(report: Report, redaction: Redaction): string[] {
  const rows = patternGroups(report.findings, redaction.path).map((group) => {
    const real = group.findings.filter((f) => f.severity !== 'info');
    const held = real.reduce((sum, f) => sum + heldWhenUnlinked(f), 0);
    return [escapeControl(group.pattern), group.kind, groupCount(group.findings), held > 0 ? `${formatBytes(held)} held` : '', endingsText(real.length > 0 ? real : group.findings)];
  });
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => `    ${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('   ')}`.trimEnd());
  return ['  by file pattern:', ...lines];
}

/** An inline of the document model as plain text: a link as its text and address. */
function plainInline(inline: Inline): string {
  return escapeControl(inline.type === 'link' ? `${inline.text} (${inline.url})` : inline.text);
}

/** The headline: escaped, as it may name a file (an undecided verdict's place, a bundle's trace file, review 24). */
export function verdict(report: Report): string {
  return `orphanmap: ${escapeControl(reportHeadline(report))}`;
}

function findingBlock(finding: Finding, mapsLine: string | undefined): string[] {
  const lines = [`${SEVERITY_TAG[finding.severity].padEnd(7)} ${finding.id} ${finding.kind}  pid ${finding.pid}`];
  lines.push(`  file      ${escapeControl(finding.path)}`);
  const earlier = finding.names.filter((name) => name !== finding.path);
  if (earlier.length > 0) lines.push(`  was       ${earlier.map(escapeControl).join(' → ')}`);
  lines.push(`  mapping   ${mappingText(mappingView(finding))}`);
  const unlinked = finding.kind === 'unlinked-while-mapped' || finding.unlinkedAt !== null ? `  unlinked  ${unlinkedText(finding)}` : null;
  if (unlinked !== null && unlinkedFirst(finding)) lines.push(unlinked);
  lines.push(`  mapped    ${describePlace(finding.mappedAt)}`);
  if (finding.remappedAt !== null) lines.push(`  remapped  ${[describePlace(finding.remappedAt), remapText(finding)].filter((part) => part !== '').join('  ')}`);
  if (unlinked !== null && !unlinkedFirst(finding)) lines.push(unlinked);
  lines.push(`  now       ${resolutionText(finding)}`);
  if (mapsLine !== undefined) lines.push(`  maps      ${escapeControl(mapsLine)}`);
  if (finding.note !== null) lines.push(`  note      ${escapeControl(finding.note)}`);
  return lines;
}

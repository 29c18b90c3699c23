// The text report: what an engineer reads first. A verdict, the counts, one
// block per finding, then what to distrust (warnings, unreadable lines).
import { pageEnd } from '../engine/address-space.js';
import type { At, Finding } from '../engine/findings.js';
import { orphanedBytes, type Report } from './report.js';
import { escapeControl, formatBytes, formatCount } from './sanitize.js';

export function formatText(report: Report): string {
  const out: string[] = [];
  out.push(verdict(report), '');
  const s = report.summary;
  out.push(
    `  lines ${formatCount(s.lines)}   events ${formatCount(s.events)}   processes ${formatCount(s.processes)}   unreadable lines ${formatCount(s.unparsedLines)}`,
    `  findings: ${s.findings['unlinked-while-mapped']} unlinked-while-mapped (error), ${s.findings['remapped-without-unmap']} remapped-without-unmap (warning)`,
    '',
  );
  // Errors first: the orphans are what the reader came for; their causes follow.
  const ordered = [...report.findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  for (const finding of ordered) out.push(...findingBlock(finding, report.mapsLines[finding.id]), '');
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
  return out.join('\n');
}

const SEVERITY_RANK = { error: 0, warning: 1, info: 2 } as const;

export function verdict(report: Report): string {
  const orphans = report.findings.filter((f) => f.kind === 'unlinked-while-mapped');
  const benign = orphans.filter((f) => f.severity === 'info');
  const real = orphans.filter((f) => !benign.includes(f));
  const remaps = report.findings.filter((f) => f.kind === 'remapped-without-unmap').length;
  if (orphans.length === 0 && remaps === 0) return 'orphanmap: no mapping outlived its file.';
  const pids = [...new Set(real.map((f) => f.pid))];
  const parts: string[] = [];
  if (real.length > 0) {
    parts.push(`${real.length} mapping${real.length === 1 ? '' : 's'} outlived ${real.length === 1 ? 'its file' : 'their files'} (${formatBytes(orphanedBytes(real))} of deleted files still mapped) in ${pids.length === 1 ? `process ${pids[0]}` : `${pids.length} processes`}`);
  } else {
    parts.push('no mapping outlived its file');
  }
  if (remaps > 0) parts.push(`${remaps} resize${remaps === 1 ? '' : 's'} mapped a file again without unmapping the old mapping`);
  if (benign.length > 0) parts.push(`${benign.length} benign (JVM hsperfdata at exit)`);
  return `orphanmap: ${parts.join('; ')}.`;
}

function findingBlock(finding: Finding, mapsLine: string | undefined): string[] {
  const label = { error: 'ERROR  ', warning: 'WARNING', info: 'INFO   ' }[finding.severity];
  const lines = [`${label} ${finding.id} ${finding.kind}  pid ${finding.pid}`];
  lines.push(`  file      ${escapeControl(finding.path)}`);
  const earlier = finding.names.filter((name) => name !== finding.path);
  if (earlier.length > 0) lines.push(`  was       ${earlier.map(escapeControl).join(' → ')}`);
  const start = Number.parseInt(finding.address.slice(2), 16);
  lines.push(`  mapping   ${finding.address}-0x${pageEnd(start, finding.length).toString(16)} (${formatBytes(finding.length)}, ${formatCount(finding.length)} bytes)`);
  lines.push(`  mapped    ${describePlace(finding.mappedAt)}`);
  if (finding.remappedAt !== null) lines.push(`  remapped  ${describePlace(finding.remappedAt)}  new mapping at ${finding.newAddress}`);
  if (finding.kind === 'unlinked-while-mapped' || finding.unlinkedAt !== null) lines.push(`  unlinked  ${describePlace(finding.unlinkedAt)}`);
  lines.push(`  now       ${resolutionText(finding)}`);
  if (mapsLine !== undefined) lines.push(`  maps      ${escapeControl(mapsLine)}`);
  if (finding.note !== null) lines.push(`  note      ${finding.note}`);
  return lines;
}

/** Where and when, as every view prints it: file:line, time, thread (and its name when known). */
export function describePlace(place: At | null, separator = '  '): string {
  if (place === null) return '(before the trace)';
  const parts = [`${escapeControl(place.file)}:${place.line}`];
  if (place.time !== null) parts.push(place.time);
  if (place.tid !== null && place.tid !== 0) parts.push(place.comm === undefined ? `tid ${place.tid}` : `tid ${place.tid} (${escapeControl(place.comm)})`);
  return parts.join(separator);
}

export function resolutionText(finding: Finding): string {
  const delay = finding.delayMs === null ? '' : ` ${formatDelay(finding.delayMs)} later`;
  switch (finding.resolution) {
    case 'unmapped':
      return `unmapped${delay}${finding.resolvedAt === null ? '' : ` at ${describePlace(finding.resolvedAt)}`}`;
    case 'process-exited':
      return `released when the process exited or exec'd${delay}`;
    case 'still-mapped': {
      const confirm = finding.confirmedByMaps === null ? '' : finding.confirmedByMaps ? ' (confirmed by maps-end.txt)' : ' (NOT in maps-end.txt: released after the trace ended?)';
      return `still mapped at the end of the trace${confirm}`;
    }
    case null:
      return 'still mapped (trace goes on)';
  }
}

export function formatDelay(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

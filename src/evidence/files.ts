// The evidence directory's text files other than the reports, each from the
// report as shown (redacted when asked). Pure: no I/O here.
import type { Finding } from '../engine/findings.js';
import type { MapsLine } from '../ingest/bundle.js';
import { isDeletedFile } from '../parse/maps.js';
import { headline, kindAndSeverity, listWords } from '../report/finding-view.js';
import type { Report } from '../report/report.js';
import { escapeControl } from '../report/sanitize.js';
import { timeline } from '../report/ticket.js';

/**
 * Text handed to `write` piece by piece, in order: a file of 30,000 findings'
 * JSON or trace lines is written as it is made, never held whole.
 */
export type TextProducer = (write: (text: string) => void) => void;

/** A file of the evidence directory: its name and what it is, for README.txt. */
export interface EvidenceFile {
  name: string;
  what: string;
  content: string | TextProducer;
}

/**
 * The trace lines of each finding's file, grouped by file: findings that share
 * a file (a resize and the unlink it explains) share its lines. These are the
 * lines the engine keeps of a file's life (its first calls and its most
 * recent ones), not the whole trace; carets mark the orphaned address.
 */
export function writeTraceLines(report: Report, write: (text: string) => void): void {
  const groups = new Map<string, Finding[]>();
  for (const finding of report.findings) {
    if (finding.evidence.length === 0) continue;
    const key = `${finding.pid} ${finding.evidence.map((line) => `${line.file}:${line.line}`).join(' ')}`;
    const group = groups.get(key) ?? [];
    group.push(finding);
    groups.set(key, group);
  }
  write(
    [
      "# orphanmap: the trace lines of each finding's file, as the analysis kept them",
      '# (the first calls on the file and the most recent ones; not the whole trace).',
      '# Each line is FILE:LINE, two spaces, then the raw trace line; carets mark the orphaned mapping.',
    ].join('\n'),
  );
  if (groups.size === 0) write('\n\n# No finding: no file to show.');
  for (const findings of groups.values()) {
    const out: string[] = [];
    // The unlink finding's mapping is the one that outlived the file.
    const primary = findings.find((f) => f.kind === 'unlinked-while-mapped') ?? findings[0]!;
    const earlier = [...new Set(findings.flatMap((f) => f.names))].filter((name) => name !== primary.path);
    out.push(
      '',
      `## ${listWords(findings.map((f) => `${f.id} ${kindAndSeverity(f.kind, f.severity)}`))}, pid ${primary.pid}, mapping at ${listWords([...new Set(findings.map((f) => f.address))])}`,
      `## file ${escapeControl(primary.path)}${earlier.length > 0 ? ` (earlier ${earlier.length === 1 ? 'name' : 'names'}: ${earlier.map(escapeControl).join(', ')})` : ''}`,
      ...timeline(primary, true),
    );
    // Each group's lines are read (evidence is read from the trace when asked) and written before the next.
    write(`\n${out.join('\n')}`);
  }
  write('\n');
}

/**
 * The lines of the bundle's maps-end.txt that matter: every mapping of a
 * deleted file, and the mapping holding each finding's address, in the order
 * /proc printed them, so the file is still /proc/PID/maps text. The lines
 * and the report are redacted alike, or neither is.
 */
export function mapsEndText(mapsEnd: readonly MapsLine[], shown: Report): string {
  const findingLines = new Set(Object.values(shown.mapsLines));
  const kept = mapsEnd.filter((line) => isDeletedFile(line) || findingLines.has(line.text));
  return kept.map((line) => `${line.text}\n`).join('');
}

export interface AnalysisFacts {
  orphanmapVersion: string;
  node: string;
  command: string;
}

/** What the capture's meta.json says of the traced host and process, and what made this evidence. */
export function environmentJson(shown: Report, facts: AnalysisFacts): unknown {
  return {
    schema: 'orphanmap/evidence-environment@1',
    capture: shown.environment,
    ...(shown.environment === null ? { note: 'not a capture bundle: the traced host and process are not known beyond the trace' } : {}),
    analysis: {
      orphanmap: facts.orphanmapVersion,
      node: facts.node,
      command: facts.command,
      inputs: shown.inputs,
    },
  };
}

export function readmeText(shown: Report, files: readonly Pick<EvidenceFile, 'name' | 'what'>[], command: string, redacted: boolean): string {
  const width = Math.max(...files.map((file) => file.name.length), 'SHA256SUMS'.length);
  const lines = [
    'orphanmap evidence',
    '',
    `orphanmap: ${headline(shown.findings)}`,
    '',
    'Files (check them with: sha256sum -c SHA256SUMS)',
    ...files.map((file) => `  ${file.name.padEnd(width)}  ${file.what}`),
    `  ${'SHA256SUMS'.padEnd(width)}  SHA-256 of every file above`,
    '',
    'Inputs',
    ...shown.inputs.map((input) => `  ${escapeControl(input.path)}  ${input.format}  sha256 ${input.sha256}`),
    '',
    'Made by',
    `  ${escapeControl(command)}`,
  ];
  if (redacted) lines.push('', 'Redacted (--redact): path components are replaced by stable short hashes, the same in every file; suffixes, numbers and system directories are kept.');
  return `${lines.join('\n')}\n`;
}

/** `sha256sum -c` format: the digest of what was written, two spaces, the name; sorted by name. */
export function sha256sums(files: readonly { name: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((file) => `${file.sha256}  ${file.name}\n`)
    .join('');
}

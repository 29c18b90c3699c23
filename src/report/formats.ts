// Output formats, by name. Formatters draw the report they are given and
// never redact: a redacted report is built once (see Redaction in redact.ts)
// and every format draws that same report, so a name hashes the same in all.
import type { Finding } from '../engine/findings.js';
import { safeJson } from './json.js';
import { renderJira } from './jira.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './report.js';
import { formatText } from './text.js';
import { reportDocument } from './ticket.js';

export const OUTPUT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface FormatOptions {
  /** The command that produced the report, for "how to reproduce" (redacted with the report when it is). */
  command: string;
}

/** The whole report in one format; NDJSON is written line by line as findings come (ndjsonLine). */
export function formatReport(report: Report, format: Exclude<OutputFormat, 'ndjson'>, options: FormatOptions): string {
  switch (format) {
    case 'text':
      return formatText(report);
    case 'json':
      return `${safeJson(report, 2)}\n`;
    case 'markdown':
      return renderMarkdown(reportDocument(report, options));
    case 'jira':
      return renderJira(reportDocument(report, options));
  }
}

/** One NDJSON line: a finding as `--format json` writes it, control, C1 and bidi characters escaped alike. */
export function ndjsonLine(finding: Finding): string {
  return `${safeJson(finding)}\n`;
}

/** The command as typed, quoted for a shell where needed: what "how to reproduce" shows. */
export function commandLine(argv: readonly string[]): string {
  return ['orphanmap', ...argv].map((arg) => (/^[\w./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

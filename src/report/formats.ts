// Output formats, by name. Formatters draw the report they are given; when
// the run redacts, that report's small parts are redacted already and each
// finding goes through the run's one Redaction as it is drawn (see
// redactAllButFindings), so a name hashes the same in every format.
import type { Finding } from '../engine/findings.js';
import { safeJson } from './json.js';
import { renderJira } from './jira.js';
import { renderMarkdown } from './markdown.js';
import type { Redaction } from './redact.js';
import { type Report, writeShownReportJson } from './report.js';
import { formatText } from './text.js';
import { reportDocument } from './ticket.js';

export const OUTPUT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface FormatOptions {
  /** The command that produced the report, for "how to reproduce" (redacted with the report when it is). */
  command: string;
  /**
   * The redaction each finding is drawn through: the report's other parts
   * went through it already (redactAllButFindings). None for a report drawn
   * as it is (not redacted, or redacted whole).
   */
  redaction?: Redaction;
}

/** The whole report in one format; NDJSON is written line by line as findings come (ndjsonLine). */
export function formatReport(report: Report, format: Exclude<OutputFormat, 'ndjson'>, options: FormatOptions): string {
  switch (format) {
    case 'text':
      return formatText(report, options.redaction);
    case 'json': {
      if (options.redaction === undefined) return `${safeJson(report, 2)}\n`;
      const pieces: string[] = [];
      writeShownReportJson(report, options.redaction, (piece) => pieces.push(piece));
      return pieces.join('');
    }
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

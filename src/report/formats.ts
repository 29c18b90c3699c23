// Output formats other than text, by name.
import { formatJira } from './jira.js';
import { safeJson } from './json.js';
import { formatMarkdown } from './markdown.js';
import { redactCommand, redactReport } from './redact.js';
import type { Report } from './report.js';

export const OUTPUT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface FormatOptions {
  redact: boolean;
  /** The command that produced the report, for "how to reproduce". */
  command: string;
}

export function formatReport(report: Report, format: Exclude<OutputFormat, 'text' | 'ndjson'>, options: FormatOptions): string {
  const shown = options.redact ? redactReport(report) : report;
  const command = options.redact ? redactCommand(options.command) : options.command;
  switch (format) {
    case 'json':
      return `${safeJson(shown, 2)}\n`;
    case 'markdown':
      return formatMarkdown(shown, { command });
    case 'jira':
      return formatJira(shown, { command });
  }
}

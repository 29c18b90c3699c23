// Output formats other than text, by name.
import type { Report } from './report.js';

export const OUTPUT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface FormatOptions {
  redact: boolean;
  /** The command that produced the report, for "how to reproduce". */
  command: string;
}

export function formatReport(report: Report, format: Exclude<OutputFormat, 'text' | 'ndjson'>, options: FormatOptions): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'markdown':
    case 'jira':
      void options;
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}

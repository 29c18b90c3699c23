// `e`: the selected finding's evidence as a Markdown and a Jira file, through
// the same formatters as `analyze --format markdown|jira`, so a ticket pasted
// from the TUI reads like one made on the command line.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { FINDING_KINDS, type Finding, type FindingKind } from '../engine/findings.js';
import { formatReport } from '../report/formats.js';
import { REPORT_SCHEMA, type Report } from '../report/report.js';
import type { Counters } from './store.js';

/** What a report needs beyond the finding: the analysis when there is one, else what the store counted. */
export interface ExportContext {
  /** The command line to show under "how to reproduce". */
  command: string;
  /** Directory the files go to (default: the current directory). */
  dir?: string;
  redact?: boolean;
  /** The whole report when the input has been read to its end (analyze). */
  report?: () => Report | null;
  /** Otherwise, the counters so far (live, or a file still being read). */
  counters?: () => Counters;
  inputs?: Report['inputs'];
}

export function reportForFinding(finding: Finding, context: ExportContext): Report {
  const full = context.report?.() ?? null;
  const findings = [full?.findings.find((item) => item.id === finding.id) ?? finding];
  const counts = Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>;
  for (const item of findings) counts[item.kind]++;
  if (full !== null) {
    const mapsLine = full.mapsLines[finding.id];
    return { ...full, summary: { ...full.summary, findings: counts }, findings, mapsLines: mapsLine === undefined ? {} : { [finding.id]: mapsLine } };
  }
  const c = context.counters?.();
  return {
    schema: REPORT_SCHEMA,
    inputs: context.inputs ?? [],
    summary: { lines: c?.lines ?? 0, events: c?.events ?? 0, unparsedLines: c?.unparsedLines ?? 0, processes: c?.processes ?? 0, findings: counts },
    unparsedSamples: [],
    findings,
    warnings: [],
    environment: null,
    mapsLines: {},
  };
}

/** Writes orphanmap-<id>-pid<pid>.md and .jira.txt; returns their paths as the user should read them. */
export async function exportFinding(finding: Finding, context: ExportContext): Promise<string[]> {
  const dir = context.dir ?? process.cwd();
  await mkdir(dir, { recursive: true });
  const report = reportForFinding(finding, context);
  const options = { redact: context.redact === true, command: context.command };
  const base = join(dir, `orphanmap-${finding.id}-pid${finding.pid}`);
  const files: [string, string][] = [
    [`${base}.md`, formatReport(report, 'markdown', options)],
    [`${base}.jira.txt`, formatReport(report, 'jira', options)],
  ];
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([path]) => shownPath(path));
}

function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.length > 0 && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : path;
}

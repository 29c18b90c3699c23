// `orphanmap report`: the evidence directory an engineer attaches to a ticket.
// The reports are exactly what `analyze --format markdown|jira|json` writes;
// the rest (chart, the findings' trace lines, the maps lines at the end, the
// environment, README.txt) is built here from the same report. Redacted
// through one Redaction: the report's small parts, the maps lines and the
// command once, each finding as a file draws it. SHA256SUMS is written last:
// a directory without it is incomplete.
import { UsageError } from '../errors.js';
import { analyze } from '../ingest/analyze.js';
import { tally } from '../report/finding-view.js';
import { commandLine } from '../report/formats.js';
import { safeJson } from '../report/json.js';
import { renderJira } from '../report/jira.js';
import { renderMarkdown } from '../report/markdown.js';
import type { MapsLine } from '../ingest/bundle.js';
import { redaction, type Redaction } from '../report/redact.js';
import { buildReport, redactAllButFindings, type Report, writeShownReportJson } from '../report/report.js';
import { formatBytes, formatCount } from '../report/sanitize.js';
import { reportDocument } from '../report/ticket.js';
import { writeChart, type ChartModel } from './chart.js';
import { environmentJson, mapsEndText, readmeText, sha256sums, writeTraceLines, type EvidenceFile } from './files.js';
import { createEvidenceDir } from './out-dir.js';
import { deletedSeries, type TraceSpan } from './series.js';

export interface EvidenceOptions {
  out: string;
  redact: boolean;
  /** The arguments the evidence was made with (orphanmap's, without the program), for "how to reproduce" and README.txt. */
  argv: readonly string[];
  /** orphanmap's version, for environment.json. */
  version: string;
}

export interface EvidenceResult {
  dir: string;
  files: string[];
  /** The report as shown: its parts but its findings redacted when the run redacts (redactAllButFindings). */
  report: Report;
}

export async function writeEvidence(inputs: readonly string[], options: EvidenceOptions): Promise<EvidenceResult> {
  if (inputs.length === 0) throw new UsageError('no input: name a trace file or a capture bundle directory');
  if (inputs.includes('-')) throw new UsageError('report reads its inputs twice (the findings, then the time the trace covers): give a file or a bundle, not - for stdin');
  // Like analyze's --out, the directory is made before anything is read: a bad path is said at once.
  const dir = await createEvidenceDir(options.out);
  try {
    let files: EvidenceFile[];
    let report: Report;
    try {
      const analysis = await analyze(inputs);
      // With the paths the warnings name, which are known only now, replaced whole.
      const redact = redaction(options.redact, inputs).withWholePaths(analysis.warningPaths);
      report = redactAllButFindings(buildReport(analysis), redact);
      const span = analysis.span;
      files = evidenceFiles(report, {
        span,
        mapsEnd: analysis.bundle?.mapsEnd ?? null,
        mapsEndOthers: analysis.bundle?.mapsEndOthers ?? new Map(),
        redaction: redact,
        command: commandLine(options.argv, redact),
        version: options.version,
      });
    } catch (error) {
      await dir.discard();
      throw error;
    }
    const written: { name: string; sha256: string }[] = [];
    for (const file of files) written.push({ name: file.name, sha256: await dir.write(file.name, file.content) });
    await dir.write('SHA256SUMS', sha256sums(written));
    return { dir: dir.path, files: [...files.map((file) => file.name), 'SHA256SUMS'], report };
  } finally {
    await dir.close();
  }
}

export interface EvidenceInputs {
  span: TraceSpan | null;
  /** The bundle's maps-end.txt as read (not redacted). */
  mapsEnd: readonly MapsLine[] | null;
  /** What the analysis kept of the bundle's maps-end.N.txt (not redacted: OthersMapsEnd.kept), by pid: each process's with a finding is copied as maps-end.txt is. */
  mapsEndOthers?: ReadonlyMap<number, readonly MapsLine[]>;
  /** The redaction `shown`'s parts went through (redactAllButFindings): it redacts each finding as it is drawn, and the maps lines. */
  redaction: Redaction;
  /** The command as shown, already redacted an argument at a time (commandLine). */
  command: string;
  version: string;
}

/**
 * Every file but SHA256SUMS, in the order README.txt lists them, from the
 * report as shown (its parts but its findings redacted with inputs.redaction:
 * redactAllButFindings; each finding is redacted only where a file draws it).
 * Pure: the JSON report, the chart and the trace lines, which grow with the
 * findings, are made as they are written.
 */
export function evidenceFiles(shown: Report, inputs: EvidenceInputs): EvidenceFile[] {
  const redact = inputs.redaction;
  const command = inputs.command;
  // One document for both markups, as formatReport draws each: its tables go over every finding (leaky80: 0.3 s each).
  const ticket = reportDocument(shown, { command, redaction: redact });
  const files: EvidenceFile[] = [
    { name: 'report.md', what: 'the report in GitHub-flavoured Markdown, to paste into an issue', content: renderMarkdown(ticket) },
    { name: 'report.jira', what: 'the same report in Jira wiki markup, to paste into a ticket', content: renderJira(ticket) },
    // As `analyze --format json` writes it: a finding at a time (31,208 findings held whole took 949 MiB).
    { name: 'report.json', what: 'every finding with its evidence (schema orphanmap/report@1)', content: (write) => writeShownReportJson(shown, redact, write) },
    // Drawn as it is written, as the reports that grow with the findings are: its series too is made only then.
    { name: 'chart.svg', what: "mappings of deleted files and their bytes over the trace's time, unlinks marked", content: (write) => writeChart(chartModel(shown, inputs.span), write) },
    { name: 'trace-lines.txt', what: "the trace lines of each finding's file (not the whole trace)", content: (write) => writeTraceLines(shown, write, redact) },
  ];
  // Each line redacted as it is written: a copy of every line was the whole of maps-end.txt again.
  const redactLine = (text: string) => redact.mapsLine(text);
  if (inputs.mapsEnd !== null) {
    files.push({
      name: 'maps-end.txt',
      what: "/proc/PID/maps at the end of the capture: mappings of deleted files and the findings' mappings",
      content: mapsEndText(inputs.mapsEnd, shown, redactLine),
    });
  }
  const withFindings = new Set(shown.findings.map((finding) => finding.pid));
  for (const [pid, lines] of inputs.mapsEndOthers ?? []) {
    if (!withFindings.has(pid)) continue;
    files.push({
      name: `maps-end.${pid}.txt`,
      what: `/proc/${pid}/maps at the end of the capture (another traced process): mappings of deleted files`,
      content: mapsEndText(lines, shown, redactLine),
    });
  }
  files.push({
    name: 'environment.json',
    what:
      shown.environment === null ? 'how the evidence was made (the input was not a capture bundle: no host facts)' : "the capture's host, process and tracer (meta.json) and how the evidence was made",
    // Display-safe as report.json is: meta.json's strings and the inputs' names may hold bidi overrides and C1 controls.
    content: `${safeJson(environmentJson(shown, { orphanmapVersion: inputs.version, node: process.version, command }), 2)}\n`,
  });
  const readme = { name: 'README.txt', what: 'this list' };
  files.push({ ...readme, content: readmeText(shown, [...files, readme], command, redact.on) });
  return files;
}

export function chartModel(shown: Report, span: TraceSpan | null): ChartModel {
  const meta = shown.environment;
  const limit =
    meta?.maxMapCount === undefined
      ? null
      : { maxMapCount: meta.maxMapCount, mapCountStart: meta.mapCountStart ?? null, mapCountEnd: meta.mapCountEnd ?? null, pid: meta.pid ?? null, comm: meta.comm ?? null };
  const inputs = [...new Set(shown.inputs.map((input) => input.path))].join(', ');
  if (span === null) return { title: 'Mappings of deleted files over the trace', subtitle: inputs, series: null, limit };
  const series = deletedSeries(shown.findings, span);
  const t = tally(shown.findings);
  const subtitle = [
    inputs,
    `peak ${formatCount(series.peak.count)} (${formatBytes(series.peak.bytes)})`,
    `still mapped at the end: ${t.stillMappedAtEnd === 0 ? 'none' : `${formatCount(t.stillMappedAtEnd)} (${formatBytes(t.stillMappedAtEndBytes)})`}`,
  ].join(' · ');
  return { title: 'Mappings of deleted files over the trace', subtitle, series, limit };
}

// `orphanmap analyze <input...>`: post-hoc analysis of traces and bundles.
import type { Command } from 'commander';
import { EXIT_FINDINGS, InputError } from '../errors.js';
import { analyze, type Analysis } from '../ingest/analyze.js';
import { commandLine, formatReport, ndjsonLine, OUTPUT_FORMATS, type OutputFormat } from '../report/formats.js';
import { redaction, type Redaction } from '../report/redact.js';
import { writeSafeJson } from '../report/json.js';
import { buildReport, findingFilter, type FindingFilter, type Report } from '../report/report.js';
import { escapeControl } from '../report/sanitize.js';
import { loadInkInteractively } from '../tui/terminal.js';
import { failOnOption, failsOn, formatOption, pathOption, pidOption, redactOption, type FailOn } from './options.js';
import { openReportOutput, type ReportOutput } from './output.js';

interface AnalyzeFlags {
  format: OutputFormat;
  out?: string;
  tui?: boolean;
  pid?: number;
  path?: string;
  failOn?: FailOn;
  redact?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyze strace/bpftrace traces, -ff sets or capture bundles for mappings that outlive their files')
    .argument('<input...>', 'trace files, a capture bundle directory, strace -ff files (trace.<tid>), or - for stdin')
    .addOption(formatOption(OUTPUT_FORMATS, 'text'))
    .option('-o, --out <file>', 'write the report to a file instead of stdout (replaced whole, or left as it was if the run fails)')
    .option('--tui', 'browse the findings in the interactive terminal UI (falls back to the report without a terminal)')
    .addOption(pidOption('only findings of this process (thread group id)'))
    .addOption(pathOption())
    .addOption(failOnOption('exit 3 when a finding of this severity or worse is reported'))
    .addOption(redactOption("in every format (text, json, ndjson, markdown, jira) and in the TUI's exports"))
    .action(async (inputs: string[], flags: AnalyzeFlags) => {
      process.exitCode = await runAnalyze(inputs, flags);
    });
}

async function runAnalyze(inputs: string[], flags: AnalyzeFlags): Promise<number> {
  const filter: FindingFilter = {};
  if (flags.pid !== undefined) filter.pid = flags.pid;
  if (flags.path !== undefined) filter.path = flags.path;
  // Decided once for the run: the report, NDJSON lines, exports and the command line all go through it.
  const redact = redaction(flags.redact === true, inputs);
  if (flags.tui === true) {
    loadInkInteractively();
    const { runAnalyzeTui } = await import('../tui/run.js');
    // Without a terminal the UI is not drawn: fall through to the report.
    if (await runAnalyzeTui(inputs, filter, undefined, redact)) return 0;
  }
  // Opened before anything is read: a bad --out is said at once.
  const output = openReportOutput(flags.out);
  try {
    const report = await analyzeInto(output, inputs, flags, filter, redact);
    await output.close();
    return failsOn(
      report.findings.map((finding) => finding.severity),
      flags.failOn,
    )
      ? EXIT_FINDINGS
      : 0;
  } catch (error) {
    output.abort();
    throw error;
  }
}

async function analyzeInto(output: ReportOutput, inputs: string[], flags: AnalyzeFlags, filter: FindingFilter, redact: Redaction): Promise<Report> {
  const keep = findingFilter(filter);
  const streaming = flags.format === 'ndjson';
  const analysis = await analyze(inputs, {
    ...(flags.pid === undefined ? {} : { pid: flags.pid }),
    ...(streaming
      ? {
          onChange: (change, engine) => {
            if (!keep(change.finding)) return;
            output.write(ndjsonLine(redact.finding({ ...change.finding, evidence: engine.evidenceOf(change.finding) })));
          },
        }
      : {}),
  });
  if (flags.failOn !== undefined) refuseEmptyInputs(analysis, `--fail-on ${flags.failOn} cannot tell that nothing leaked`);
  // Said on stderr too: a report of nothing must not read as "nothing leaked".
  // (ndjson's stderr summary below prints every warning, this one included.)
  if (analysis.pidNotice !== null && !streaming) process.stderr.write(`orphanmap: warning: ${escapeControl(redact.text(analysis.pidNotice))}\n`);
  const report = buildReport(analysis, filter, redact);
  // JSON is streamed a finding at a time: the report of 25,000 findings is never one string (issue #14, goal 3).
  if (flags.format === 'json') writeSafeJson(report, (text) => output.write(text));
  else if (flags.format !== 'ndjson') output.write(formatReport(report, flags.format, { command: redact.text(commandLine(process.argv.slice(2))) }));
  else if (report.warnings.length > 0 || report.summary.unparsedLines > 0) process.stderr.write(stderrSummary(report));
  return report;
}

/**
 * An input with no lines at all proves nothing: where the answer is a verdict
 * (`--fail-on`, `diff`), it is an error rather than a pass.
 */
export function refuseEmptyInputs(analysis: Analysis, why: string): void {
  const empty = analysis.emptyInputs[0];
  if (empty !== undefined) throw new InputError(`empty input: no trace lines, so ${why}`, empty);
}

function stderrSummary(report: Report): string {
  const lines = report.warnings.map((warning) => `orphanmap: warning: ${escapeControl(warning)}`);
  if (report.summary.unparsedLines > 0)
    lines.push(`orphanmap: ${report.summary.unparsedLines} unreadable lines (first: ${escapeControl(report.unparsedSamples[0]?.file ?? '')}:${report.unparsedSamples[0]?.line})`);
  return `${lines.join('\n')}\n`;
}

// `orphanmap analyze`'s work, loaded when the command runs (analyze.ts
// registers it): the inputs analyzed, then the report, the NDJSON stream or the TUI.
import type { Severity } from '../engine/findings.js';
import { EXIT_FINDINGS, InputError } from '../errors.js';
import { type Analysis, analyze } from '../ingest/analyze.js';
import { redaction, type Redaction } from '../report/redact.js';
import { buildReport, findingFilter, type FindingFilter, redactAllButFindings, type Report, writeReportJson } from '../report/report.js';
import { mayBeFalse } from '../report/finding-view.js';
import { escapeControl } from '../report/sanitize.js';
import { loadInkInteractively } from '../tui/terminal.js';
import { refuseEmptyInputs, type AnalyzeFlags } from './analyze.js';
import { failingCount, failsOn } from './options.js';
import { openReportOutput, refuseUndecided, type ReportOutput, stderrSummary } from './output.js';

export async function runAnalyze(inputs: string[], flags: AnalyzeFlags): Promise<number> {
  const filter: FindingFilter = {};
  if (flags.pid !== undefined) filter.pid = flags.pid;
  if (flags.path !== undefined) filter.path = flags.path;
  // Decided once for the run: the report, NDJSON lines, exports and the command line all go through it.
  const redact = redaction(flags.redact === true, inputs);
  if (flags.tui === true) {
    loadInkInteractively();
    const { runAnalyzeTui } = await import('../tui/run.js');
    // Without a terminal the UI is not drawn: fall through to the report.
    const shown = await runAnalyzeTui(inputs, filter, undefined, redact);
    if (shown !== null) {
      if (flags.failOn === undefined) return 0;
      // The findings on the screen decide, as the report's would (review 23: exit 0 with an error on screen).
      refuseUnjudged(shown, flags.failOn, redact);
      return decide(verdictOf(buildReport(shown, filter), shown.undecided, redact), flags);
    }
  }
  // Opened before anything is read: a bad --out is said at once.
  const output = openReportOutput(flags.out);
  let verdict: Verdict;
  try {
    verdict = await analyzeInto(output, inputs, flags, filter, redact);
    await output.close();
  } catch (error) {
    output.abort();
    throw error;
  }
  return decide(verdict, flags);
}

/** --fail-on's exit status, once the report is written (or the TUI closed): it is what the user reads to settle a doubt. */
function decide(verdict: Verdict, flags: AnalyzeFlags): number {
  if (failsOn(verdict.severities, flags.failOn)) return EXIT_FINDINGS;
  if (flags.failOn === undefined) return 0;
  refuseUndecided({ ...verdict, failingMayBeFalse: failingCount(verdict.mayBeFalse, flags.failOn) }, `--fail-on ${flags.failOn} cannot tell that nothing leaked`);
  return 0;
}

/** Inputs --fail-on cannot judge at all, refused before the verdict: nothing traced, or a --pid the trace does not have. */
function refuseUnjudged(analysis: Analysis, failOn: AnalyzeFlags['failOn'], redact: Redaction): void {
  if (failOn === undefined) return;
  const why = `--fail-on ${failOn} cannot tell that nothing leaked`;
  refuseEmptyInputs(analysis, why);
  // A pid the trace does not have matches no finding: a pass would be the typo's, not the process's.
  if (analysis.pidNotice !== null) throw new InputError(`${redact.text(analysis.pidNotice)}; ${why}`);
}

/** What --fail-on decides on: the severities of the findings; with none failing, whether anything leaves the verdict undecided (refuseUndecided). */
interface Verdict {
  /** Of the findings but those that may be false (mayBeFalse). */
  severities: Severity[];
  /** Of those that may be false. */
  mayBeFalse: Severity[];
  mappingsInDoubt: number;
  undecided: string | null;
}

/** Writes the report; what --fail-on decides on. */
async function analyzeInto(output: ReportOutput, inputs: string[], flags: AnalyzeFlags, filter: FindingFilter, redact: Redaction): Promise<Verdict> {
  const keep = findingFilter(filter);
  const streaming = flags.format === 'ndjson';
  // The formatters are loaded for the format asked for (JSON needs none of them).
  const ndjsonChangeLine = streaming ? (await import('../report/formats.js')).ndjsonChangeLine : null;
  const analysis = await analyze(inputs, {
    ...(flags.pid === undefined ? {} : { pid: flags.pid }),
    ...(ndjsonChangeLine !== null
      ? {
          onChange: (change, engine) => {
            const line = keep(change.finding) ? ndjsonChangeLine(change, engine, redact) : null;
            if (line !== null) output.write(line);
          },
        }
      : {}),
  });
  // The paths the warnings name are known only now: what follows the stream of findings replaces them whole.
  const shownRedaction = redact.withWholePaths(analysis.warningPaths);
  refuseUnjudged(analysis, flags.failOn, shownRedaction);
  // Said on stderr too: a report of nothing must not read as "nothing leaked".
  // (ndjson's stderr summary below prints every warning, this one included.)
  if (analysis.pidNotice !== null && !streaming) process.stderr.write(`orphanmap: warning: ${escapeControl(shownRedaction.text(analysis.pidNotice))}\n`);
  // Streamed or drawn a finding at a time, each redacted as it is written or drawn: the report of 25,000 findings
  // is never one JSON string (issue #14, goal 3), nor are 25,000 redacted findings held at once.
  const report = buildReport(analysis, filter);
  if (flags.format === 'json') {
    writeReportJson(report, shownRedaction, (text) => output.write(text));
    return verdictOf(report, analysis.undecided, shownRedaction);
  }
  const shown = redactAllButFindings(report, shownRedaction);
  if (flags.format !== 'ndjson') {
    const { commandLine, formatReport } = await import('../report/formats.js');
    output.write(formatReport(shown, flags.format, { command: commandLine(process.argv.slice(2), shownRedaction), redaction: shownRedaction }));
  } else if (shown.warnings.length > 0 || shown.summary.unparsedLines > 0) process.stderr.write(stderrSummary(shown));
  return verdictOf(report, analysis.undecided, shownRedaction);
}

const verdictOf = (report: Report, undecided: string | undefined, redact: Redaction): Verdict => ({
  severities: report.findings.filter((finding) => !mayBeFalse(finding)).map((finding) => finding.severity),
  mayBeFalse: report.findings.filter(mayBeFalse).map((finding) => finding.severity),
  mappingsInDoubt: report.summary.mappingsInDoubt,
  undecided: undecided === undefined ? null : redact.text(undecided),
});

// `orphanmap diff`'s work, loaded when the command runs (diff.ts registers it).
import { EXIT_FINDINGS } from '../errors.js';
import { analyze } from '../ingest/analyze.js';
import { afterFailsOn, diffReports, formatDiff } from '../report/diff.js';
import { mayBeFalse } from '../report/finding-view.js';
import { redaction, type Redaction } from '../report/redact.js';
import { buildReport, type Report } from '../report/report.js';
import { refuseEmptyInputs } from './analyze.js';
import type { DiffFlags } from './diff.js';
import { failingCount } from './options.js';
import { openReportOutput, refuseUndecided } from './output.js';

export async function runDiff(beforePath: string, afterPath: string, flags: DiffFlags): Promise<number> {
  const output = openReportOutput(flags.out);
  let after: Side;
  try {
    // One redaction for both sides: a file that is on both hashes the same on both.
    const redact = redaction(flags.redact === true, [beforePath, afterPath]);
    const before = await sideReport(beforePath, redact);
    after = await sideReport(afterPath, redact);
    output.write(formatDiff(diffReports(before.report, after.report), flags.format));
    await output.close();
  } catch (error) {
    output.abort();
    throw error;
  }
  if (afterFailsOn(after.report, flags.failOn)) return EXIT_FINDINGS;
  // After the diff is written: its warnings say why.
  if (flags.failOn !== undefined) {
    const failingMayBeFalse = failingCount(
      after.report.findings.filter(mayBeFalse).map((finding) => finding.severity),
      flags.failOn,
    );
    refuseUndecided(
      { undecided: after.undecided, mappingsInDoubt: after.report.summary.mappingsInDoubt, failingMayBeFalse },
      `--fail-on ${flags.failOn} cannot tell that nothing leaks after the change`,
    );
  }
  return 0;
}

/** A side's report, and why its trace may lack what a verdict needs, in words (Analysis.undecided), redacted as the report is. */
interface Side {
  report: Report;
  undecided: string | null;
}

/** An empty side (`/dev/null`, a capture that wrote nothing) would read as "fixed": refused. */
async function sideReport(path: string, redact: Redaction): Promise<Side> {
  const analysis = await analyze([path]);
  refuseEmptyInputs(analysis, 'it cannot be compared (a diff needs a trace on both sides)');
  // Its warnings are part of the diff (an unfinished capture on the after side reads as "fixed" otherwise).
  const shown = redact.withWholePaths(analysis.warningPaths);
  return { report: buildReport(analysis, {}, shown), undecided: analysis.undecided === undefined ? null : shown.text(analysis.undecided) };
}

// `orphanmap diff <before> <after>`: compare two traces or bundles (a broker
// before and after the fix) by kind and by file pattern.
import type { Command } from 'commander';
import { EXIT_FINDINGS } from '../errors.js';
import { analyze } from '../ingest/analyze.js';
import { afterFailsOn, DIFF_FORMATS, diffReports, formatDiff, type DiffFormat } from '../report/diff.js';
import { redaction, type Redaction } from '../report/redact.js';
import { buildReport, type Report } from '../report/report.js';
import { refuseEmptyInputs } from './analyze.js';
import { failOnOption, formatOption, redactOption, type FailOn } from './options.js';
import { openReportOutput } from './output.js';

interface DiffFlags {
  format: DiffFormat;
  out?: string;
  failOn?: FailOn;
  redact?: boolean;
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare findings before and after a change (two traces or capture bundles), by kind and by file pattern')
    .argument('<before>', 'trace file or capture bundle directory before the change')
    .argument('<after>', 'trace file or capture bundle directory after the change')
    .addOption(formatOption(DIFF_FORMATS, 'text'))
    .option('-o, --out <file>', 'write the comparison to a file instead of stdout (replaced whole, or left as it was if the run fails)')
    .addOption(failOnOption('exit 3 when the after side still has a finding of this severity or worse'))
    .addOption(redactOption('the same on both sides, in every format'))
    .action(async (before: string, after: string, flags: DiffFlags) => {
      process.exitCode = await runDiff(before, after, flags);
    });
}

export async function runDiff(beforePath: string, afterPath: string, flags: DiffFlags): Promise<number> {
  const output = openReportOutput(flags.out);
  try {
    // One redaction for both sides: a file that is on both hashes the same on both.
    const redact = redaction(flags.redact === true, [beforePath, afterPath]);
    const before = await sideReport(beforePath, redact);
    const after = await sideReport(afterPath, redact);
    output.write(formatDiff(diffReports(before, after), flags.format));
    await output.close();
    return afterFailsOn(after, flags.failOn) ? EXIT_FINDINGS : 0;
  } catch (error) {
    output.abort();
    throw error;
  }
}

/** An empty side (`/dev/null`, a capture that wrote nothing) would read as "fixed": refused. */
async function sideReport(path: string, redact: Redaction): Promise<Report> {
  const analysis = await analyze([path]);
  refuseEmptyInputs(analysis, 'it cannot be compared (a diff needs a trace on both sides)');
  return buildReport(analysis, {}, redact);
}

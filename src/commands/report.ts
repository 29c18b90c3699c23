// `orphanmap report <input...> --out DIR`: the evidence directory for a ticket
// (reports, chart, the findings' trace lines, maps at the end, environment,
// SHA256SUMS). Registration only; the work is in src/evidence/, loaded by
// report-run.ts when the command runs.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { redactOption } from './options.js';

export interface ReportFlags {
  out?: string;
  redact?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write an evidence directory for a ticket: Markdown, Jira and JSON reports, an SVG chart, the findings' trace lines, maps at the end, the environment and SHA256SUMS")
    .argument('<input...>', 'trace files, a capture bundle directory, or strace -ff files (trace.<tid>)')
    .option('-o, --out <dir>', 'a new directory (created, mode 0700; its parent must exist), or an empty directory you own that no one else can write to')
    .addOption(redactOption('the same in every file'))
    .action(async (inputs: string[], flags: ReportFlags) => {
      if (flags.out === undefined) throw new UsageError('report needs --out DIR');
      const { writeReportDir } = await import('./report-run.js');
      await writeReportDir(inputs, flags.out, flags.redact === true);
    });
}

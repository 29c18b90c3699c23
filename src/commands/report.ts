// `orphanmap report <input...> --out DIR`: the evidence directory for a ticket
// (reports, chart, the findings' trace lines, maps at the end, environment,
// SHA256SUMS). The work is in src/evidence/.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { headline } from '../report/finding-view.js';
import { commandLine } from '../report/formats.js';
import { escapeControl } from '../report/sanitize.js';
import { writeEvidence } from '../evidence/write.js';
import { redactOption } from './options.js';
import { packageVersion } from './version.js';

interface ReportFlags {
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
      const result = await writeEvidence(inputs, { out: flags.out, redact: flags.redact === true, command: commandLine(process.argv.slice(2)), version: packageVersion() });
      process.stderr.write(`orphanmap: ${escapeControl(headline(result.report.findings))}\norphanmap: wrote ${result.files.join(', ')}\n`);
      process.stdout.write(`${escapeControl(result.dir)}\n`);
    });
}

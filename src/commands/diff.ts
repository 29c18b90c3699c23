// `orphanmap diff <before> <after>`: compare two traces or bundles (a broker
// before and after the fix) by kind and by file pattern.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT_FINDINGS } from '../errors.js';
import { analyze } from '../ingest/analyze.js';
import { afterFailsOn, DIFF_FORMATS, diffReports, formatDiff, type DiffFormat } from '../report/diff.js';
import { redactReport } from '../report/redact.js';
import { buildReport } from '../report/report.js';

interface DiffFlags {
  format: DiffFormat;
  out?: string;
  failOn?: 'error' | 'warning';
  redact?: boolean;
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare findings before and after a change (two traces or capture bundles), by kind and by file pattern')
    .argument('<before>', 'trace file or capture bundle directory before the change')
    .argument('<after>', 'trace file or capture bundle directory after the change')
    .addOption(new Option('-f, --format <format>', 'output format').choices(DIFF_FORMATS).default('text'))
    .option('-o, --out <file>', 'write the comparison to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'exit 3 when the after side still has a finding of this severity or worse').choices(['error', 'warning']))
    .option('--redact', 'replace path components with stable short hashes')
    .action(async (before: string, after: string, flags: DiffFlags) => {
      process.exitCode = await runDiff(before, after, flags);
    });
}

export async function runDiff(beforePath: string, afterPath: string, flags: DiffFlags): Promise<number> {
  let before = buildReport(await analyze([beforePath]));
  let after = buildReport(await analyze([afterPath]));
  if (flags.redact === true) {
    before = redactReport(before);
    after = redactReport(after);
  }
  const output = flags.out === undefined ? process.stdout : createWriteStream(flags.out);
  output.write(formatDiff(diffReports(before, after), flags.format));
  if (output !== process.stdout) await new Promise<void>((resolve) => output.end(resolve));
  return afterFailsOn(after, flags.failOn) ? EXIT_FINDINGS : 0;
}

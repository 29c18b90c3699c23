// `orphanmap analyze <input...>`: post-hoc analysis of traces and bundles.
// Registration only (options and description, cheap to load for every
// command and --help); the work is in analyze-run.ts, loaded when it runs.
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { Analysis } from '../ingest/analyze.js';
import type { OutputFormat } from '../report/formats.js';
import { failOnOption, formatOption, pathOption, pidOption, redactOption, type FailOn } from './options.js';

export interface AnalyzeFlags {
  format: OutputFormat;
  out?: string;
  tui?: boolean;
  pid?: number;
  path?: string;
  failOn?: FailOn;
  redact?: boolean;
}

/**
 * report/formats.ts's OUTPUT_FORMATS, spelled out here so that registering
 * the command does not load every formatter; test/cli-lazy.test.ts checks
 * that the two lists are the same.
 */
export const ANALYZE_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const satisfies readonly OutputFormat[];

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyze strace/bpftrace traces, -ff sets or capture bundles for mappings that outlive their files')
    .argument('<input...>', 'trace files, a capture bundle directory, strace -ff files (trace.<tid>), or - for stdin')
    .addOption(formatOption(ANALYZE_FORMATS, 'text'))
    .option('-o, --out <file>', 'write the report to a file instead of stdout (replaced whole, or left as it was if the run fails; a symbolic link, FIFO or socket of another user is refused)')
    .option('--tui', 'browse the findings in the interactive terminal UI (falls back to the report without a terminal)')
    .addOption(pidOption('only findings of this process (thread group id)'))
    .addOption(pathOption())
    .addOption(failOnOption('exit 3 when a finding of this severity or worse is reported'))
    .addOption(redactOption("in every format (text, json, ndjson, markdown, jira) and in the TUI's exports"))
    .action(async (inputs: string[], flags: AnalyzeFlags) => {
      const { runAnalyze } = await import('./analyze-run.js');
      process.exitCode = await runAnalyze(inputs, flags);
    });
}

/**
 * An input with no lines at all proves nothing: where the answer is a verdict
 * (`--fail-on`, `diff`), it is an error rather than a pass. Nor does a bundle
 * that holds nothing of its process (one that exited before the tracer
 * attached: untracedTarget), whatever lines its trace has, nor a trace
 * without a bundle that holds no event (noEventTraced).
 */
export function refuseEmptyInputs(analysis: Analysis, why: string): void {
  if (analysis.untraced !== undefined) throw new InputError(`${analysis.untraced.why}, so ${why}`, analysis.untraced.input);
  const empty = analysis.emptyInputs[0];
  if (empty !== undefined) throw new InputError(`empty input: no trace lines, so ${why}`, empty);
}

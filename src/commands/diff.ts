// `orphanmap diff <before> <after>`: compare two traces or bundles (a broker
// before and after the fix) by kind and by file pattern. Registration only;
// the work is in diff-run.ts, loaded when the command runs.
import type { Command } from 'commander';
import type { DiffFormat } from '../report/diff.js';
import { failOnOption, formatOption, redactOption, type FailOn } from './options.js';

export interface DiffFlags {
  format: DiffFormat;
  out?: string;
  failOn?: FailOn;
  redact?: boolean;
}

/**
 * report/diff.ts's DIFF_FORMATS, spelled out here so that registering the
 * command does not load the report code; test/cli-lazy.test.ts checks that
 * the two lists are the same.
 */
export const DIFF_COMMAND_FORMATS = ['text', 'json', 'markdown', 'jira'] as const satisfies readonly DiffFormat[];

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare findings before and after a change (two traces or capture bundles), by kind and by file pattern')
    .argument('<before>', 'trace file or capture bundle directory before the change')
    .argument('<after>', 'trace file or capture bundle directory after the change')
    .addOption(formatOption(DIFF_COMMAND_FORMATS, 'text'))
    .option('-o, --out <file>', 'write the comparison to a file instead of stdout (replaced whole, or left as it was if the run fails; a symbolic link, FIFO or socket of another user is refused)')
    .addOption(failOnOption('exit 3 when the after side still has a finding of this severity or worse'))
    .addOption(redactOption('the same on both sides, in every format'))
    .action(async (before: string, after: string, flags: DiffFlags) => {
      process.exitCode = await runDiff(before, after, flags);
    });
}

/** Compares the two sides and writes the comparison; the exit status. */
export async function runDiff(beforePath: string, afterPath: string, flags: DiffFlags): Promise<number> {
  const { runDiff: run } = await import('./diff-run.js');
  return run(beforePath, afterPath, flags);
}

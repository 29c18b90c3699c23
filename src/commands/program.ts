// The commands, wired to Commander. Each command lives in this directory and
// registers itself (its options and description: cheap to load); its work is
// in <name>-run.ts, imported by its action when it runs, so that `--version`,
// `--help` and one command do not load every other command's code (issue
// #14, goal 2; test/cli-lazy.test.ts). src/cli.ts loads this module.
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE } from '../errors.js';
import { escapeControl } from '../report/sanitize.js';
import { registerAnalyze } from './analyze.js';
import { registerCapture } from './capture.js';
import { registerDiff } from './diff.js';
import { registerDoctor } from './doctor.js';
import { registerLive } from './live.js';
import { registerReport } from './report.js';
import { registerScan } from './scan.js';
import { packageVersion } from './version.js';

/**
 * Runs the command `argv` names. Commander's own outcomes (help, version, a
 * usage mistake it has already explained) come back as an exit status; any
 * other error is thrown for src/cli.ts to explain.
 */
export async function runProgram(argv: readonly string[]): Promise<number | undefined> {
  const program = new Command('orphanmap')
    .description('Find memory mappings that outlive their files (deleted-but-mapped), from strace or bpftrace traces.')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError()
    // Commander writes its own messages, and they quote the arguments: an unknown option or command may be a file name
    // another user planted for a glob to pick up, escape sequences and all (review 20, R20-5). Each line escaped as our
    // messages are. Set before the commands are made: they copy it.
    .configureOutput({ writeErr: (text) => process.stderr.write(escapeLines(text)) });
  registerAnalyze(program);
  registerReport(program);
  registerDiff(program);
  registerScan(program);
  registerCapture(program);
  registerLive(program);
  registerDoctor(program);
  try {
    // An argument holding a byte that is not UTF-8 is read again from its bytes (loaded only then: most runs have none).
    const args = argv.some((arg) => arg.includes('\ufffd')) ? (await import('./argv-bytes.js')).argvFromBytes(argv) : argv;
    await program.parseAsync(args);
    return undefined;
  } catch (error) {
    // Commander already printed its message; help and version are not failures.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
}

/** Commander's text, its lines kept: every other control character escaped. */
function escapeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeControl(line))
    .join('\n');
}

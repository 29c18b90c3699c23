#!/usr/bin/env node
// Commander wiring only. Each command lives in src/commands/ and registers
// itself there (its options and description: cheap to load); its work is in
// src/commands/<name>-run.ts, imported by its action when it runs, so that
// `--version`, `--help` and one command do not load every other command's
// code (issue #14, goal 2; test/cli-lazy.test.ts). This file is the one place
// that turns errors into exit codes.
import { Command, CommanderError } from 'commander';
import { describeSystemError, EXIT_INTERNAL, EXIT_USAGE, OrphanmapError } from './errors.js';
import { escapeControl } from './report/sanitize.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerDiff } from './commands/diff.js';
import { registerScan } from './commands/scan.js';
import { registerCapture } from './commands/capture.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLive } from './commands/live.js';
import { registerReport } from './commands/report.js';
import { packageVersion } from './commands/version.js';

/** ORPHANMAP_DEBUG=1: every error also shows its stack and its causes. */
const DEBUG = process.env.ORPHANMAP_DEBUG !== undefined && process.env.ORPHANMAP_DEBUG !== '' && process.env.ORPHANMAP_DEBUG !== '0';

// `orphanmap analyze … | head` closes our stdout early: that is the reader's
// choice, not an error. (A live capture's watchdog still detaches the tracer.)
// Any other failure to write stdout fails the run once it is over (reports
// write through commands/output.ts, which says which write failed).
let stdoutFailure: NodeJS.ErrnoException | null = null;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  stdoutFailure ??= error;
});
// `orphanmap analyze … --fail-on error 2>&1 | head` closes stderr too: what is
// left to say goes unsaid, and the exit status stays the verdict's. Unhandled,
// the write's EPIPE crashed the run with exit 1, "a bug", in place of the
// verdict's 2 or 3 (review 70, L1).
process.stderr.on('error', () => {});

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
  const argv = process.argv.some((arg) => arg.includes('\ufffd')) ? (await import('./commands/argv-bytes.js')).argvFromBytes(process.argv) : process.argv;
  await program.parseAsync(argv);
  if (stdoutFailure !== null) {
    process.stderr.write(`orphanmap: stdout: error: cannot write: ${describeSystemError(stdoutFailure)}\n`);
    process.exitCode = EXIT_USAGE;
  }
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

/** Commander's text, its lines kept: every other control character escaped. */
function escapeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeControl(line))
    .join('\n');
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message; help and version are not failures.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  // A message may quote a bundle, a trace or a path (a file name holding
  // escape sequences, meta.json's first bytes): it is printed escaped, here,
  // so that no message can forget to be.
  if (error instanceof OrphanmapError) {
    process.stderr.write(`orphanmap: ${escapeControl(error.format())}\n`);
    if (DEBUG) process.stderr.write(debugText(error));
    return error.exitCode;
  }
  // Node loads orphanmap's own modules many files at once: under an open-file limit of a few dozen, that load fails
  // before any input is read (a CI run under `ulimit -n 40`). The limit is the user's to raise; it is no bug.
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EMFILE' || code === 'ENFILE') {
    process.stderr.write(`orphanmap: error: the open-file limit is too low (${escapeControl(message)}); raise it (ulimit -n 65536) and run again\n`);
    if (DEBUG) process.stderr.write(debugText(error));
    return EXIT_USAGE;
  }
  process.stderr.write(`orphanmap: internal error: ${escapeControl(message)}\n`);
  process.stderr.write(DEBUG ? debugText(error) : 'orphanmap: (set ORPHANMAP_DEBUG=1 to see where it happened)\n');
  return EXIT_INTERNAL;
}

/** The stack of an error and of each of its causes, for ORPHANMAP_DEBUG: each line escaped as messages are. */
function debugText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const code = current instanceof OrphanmapError ? ` [${current.code}]` : '';
    parts.push(`${depth === 0 ? '' : 'caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}${code}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return `${parts.join('\n').split('\n').map(escapeControl).join('\n')}\n`;
}

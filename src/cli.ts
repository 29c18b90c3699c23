#!/usr/bin/env node
// The entry point: it loads the commands (src/commands/program.ts) and is the
// one place that turns errors into exit codes. It loads little else itself:
// the commands are loaded inside the `try` below, so that an open-file limit
// too low for Node to load orphanmap's own files (it opens several at once)
// gets a message that says what to do, not Node's stack trace.
import { describeSystemError, EXIT_INTERNAL, EXIT_USAGE, OrphanmapError } from './errors.js';
import { escapeControl } from './report/sanitize.js';

/** ORPHANMAP_DEBUG=1: every error also shows its stack and its causes. */
const DEBUG = process.env.ORPHANMAP_DEBUG !== undefined && process.env.ORPHANMAP_DEBUG !== '' && process.env.ORPHANMAP_DEBUG !== '0';
// The CLI runs bundled (rolldown.config.mjs): a stack names the module and line of dist/ a frame is in, through the
// bundle's source maps, rather than a chunk's. Before the commands load: a map is read when its file is.
if (DEBUG) process.setSourceMapsEnabled(true);

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

try {
  const { runProgram } = await import('./commands/program.js');
  const status = await runProgram(process.argv);
  if (status !== undefined) process.exitCode = status;
  else if (stdoutFailure !== null) {
    process.stderr.write(`orphanmap: stdout: error: cannot write: ${describeSystemError(stdoutFailure)}\n`);
    process.exitCode = EXIT_USAGE;
  }
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
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

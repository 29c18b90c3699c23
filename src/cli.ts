#!/usr/bin/env node
// Commander wiring only. Each command lives in src/commands/ and registers
// itself; this file is the one place that turns errors into exit codes.
import { Command, CommanderError } from 'commander';
import { OrphanmapError, EXIT_USAGE } from './errors.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerDiff } from './commands/diff.js';
import { registerScan } from './commands/scan.js';
import { registerCapture } from './commands/capture.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLive } from './commands/live.js';
import { registerReport } from './commands/report.js';

// `orphanmap analyze … | head` closes our stdout early: that is the reader's
// choice, not an error. (A live capture's watchdog still detaches the tracer.)
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('orphanmap')
  .description('Find memory mappings that outlive their files (deleted-but-mapped), from strace or bpftrace traces.')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

registerAnalyze(program);
registerReport(program);
registerDiff(program);
registerScan(program);
registerCapture(program);
registerLive(program);
registerDoctor(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message; help and version are not failures.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof OrphanmapError) {
    process.stderr.write(`orphanmap: ${error.format()}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`orphanmap: internal error: ${message}\n`);
  return 1;
}

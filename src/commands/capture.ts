// `orphanmap capture`: record a bundle (trace + /proc snapshots + meta.json)
// without analysing it, for `orphanmap analyze BUNDLE` later or elsewhere.
import type { Command } from 'commander';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import type { Backend } from '../capture/scripts.js';
import { startCapture, type CaptureResult } from '../capture/supervise.js';
import { backendOption, durationOption, pidOption, targetOf } from './options.js';
import { openReportOutput } from './output.js';

export interface CaptureFlags {
  pid?: number;
  backend: Backend;
  out?: string;
  duration?: number;
}

export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description('Record a capture bundle (raw trace, /proc/PID/maps at start and end, meta.json) without analysing it')
    .usage('(--pid N | -- CMD...) [--backend strace|bpftrace] --out DIR [--duration S]')
    .addOption(pidOption('attach to a running process (all threads, and what it forks)'))
    .addOption(backendOption())
    .option('--out <dir>', 'bundle directory: a new path (created, mode 0700), or an empty directory you own that no one else can write to')
    .addOption(durationOption('stop after this many seconds'))
    .argument('[command...]', 'command to run under the tracer, after --')
    .action(async (command: string[], flags: CaptureFlags) => {
      const result = await runCapture(command, flags);
      const output = openReportOutput(undefined);
      output.write(`${result.bundleDir}\n`);
      await output.close();
      // Ctrl-C, SIGTERM or SIGHUP: the bundle is complete up to then, but the
      // capture did not end the way it was asked to (duration, target exit).
      if (result.stopped) process.exitCode = EXIT_INTERRUPTED;
    });
}

export async function runCapture(command: string[], flags: CaptureFlags): Promise<CaptureResult> {
  if (flags.out === undefined) throw new UsageError('capture needs --out DIR');
  const target = targetOf('capture', flags.pid, command);
  const pid = flags.pid;
  const durationSeconds = flags.duration;
  const handle = startCapture({
    backend: flags.backend,
    outDir: flags.out,
    ...target,
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
  });
  process.stderr.write(
    `orphanmap: capturing with ${flags.backend} into ${handle.bundleDir}${durationSeconds ? ` for ${durationSeconds} s` : ''}; Ctrl-C stops ${pid !== undefined ? 'and detaches' : 'and ends the command'}\n`,
  );
  return handle.done;
}

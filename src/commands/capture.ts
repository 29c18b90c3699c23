// `orphanmap capture`: record a bundle (trace + /proc snapshots + meta.json)
// without analysing it, for `orphanmap analyze BUNDLE` later or elsewhere.
// Registration only; the work is in capture-run.ts, loaded when it runs.
import type { Command } from 'commander';
import type { Backend } from '../capture/scripts.js';
import { backendOption, durationOption, pidOption } from './options.js';

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
      const { captureCommand } = await import('./capture-run.js');
      process.exitCode = await captureCommand(command, flags);
    });
}

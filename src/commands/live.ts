// `orphanmap live`: capture and analyze at once. The tracer writes the raw
// trace into a bundle on disk (a crash of orphanmap loses nothing) and the
// engine follows that file as it grows. With a terminal the TUI shows the
// findings; without one each finding is printed as an NDJSON line.
// Registration and the capture's guard; the work is in live-run.ts, loaded
// when the command runs.
import type { Command } from 'commander';
import type { Backend } from '../capture/scripts.js';
import type { CaptureHandle, CaptureMeta } from '../capture/supervise.js';
import { escapeControl } from '../report/sanitize.js';
import { backendOption, durationOption, pathOption, pidOption, redactOption } from './options.js';

export interface LiveFlags {
  pid?: number;
  backend: Backend;
  save?: string;
  path?: string;
  duration?: number;
  redact?: boolean;
}

export function registerLive(program: Command): void {
  program
    .command('live')
    .description('trace a running process (or a command) and show mappings that outlive their files as they happen')
    .usage('(--pid N | -- CMD...) [--backend strace|bpftrace] [--save DIR] [--path GLOB] [--duration S] [--redact]')
    .addOption(pidOption('attach to a running process (all threads, and what it forks)'))
    .addOption(backendOption())
    .option('--save <dir>', 'keep the capture bundle here (default: a new directory under the temp dir)')
    .addOption(pathOption())
    .addOption(durationOption('stop after this many seconds'))
    .addOption(redactOption("in the NDJSON lines and in the TUI's exports (the screen shows the real paths)"))
    .argument('[command...]', 'command to run under the tracer, after --')
    .action(async (command: string[], flags: LiveFlags) => {
      const { runLive } = await import('./live-run.js');
      process.exitCode = await runLive(command, flags);
    });
}

/**
 * Runs `body` while the capture runs. However it ends, the capture is stopped
 * (a no-op once it has ended or detached) and its end awaited, so the tracer
 * never stays attached. The body's error wins the exit status; a different
 * error of the capture after it is said on stderr, not lost.
 */
export async function withCapture<T>(handle: Pick<CaptureHandle, 'stop' | 'done'>, body: () => Promise<T>, warn: (text: string) => void): Promise<T> {
  let result: T;
  try {
    result = await body();
  } catch (error) {
    handle.stop();
    try {
      await handle.done;
    } catch (captureError) {
      if (captureError !== error) warn(`orphanmap: warning: the capture failed too: ${escapeControl(captureError instanceof Error ? captureError.message : String(captureError))}\n`);
    }
    throw error;
  }
  // The body has seen the capture end (or the user quit): this stop is a no-op then, and done's own error is thrown here.
  handle.stop();
  await handle.done;
  return result;
}

/** Whether q can offer to leave a launched program running, from what the capture script wrote. */
export function detachOffer(meta: CaptureMeta | null): { ok: true } | { ok: false; why: string } {
  if (meta === null || meta.canDetach !== false) return { ok: true };
  return { ok: false, why: meta.noDetachReason ?? 'the tracer ends the program when it lets go of it' };
}

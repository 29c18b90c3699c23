// `orphanmap capture`'s work, loaded when the command runs (capture.ts registers it).
import { startCapture, type CaptureResult } from '../capture/supervise.js';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { escapeControl } from '../report/sanitize.js';
import type { CaptureFlags } from './capture.js';
import { targetOf } from './options.js';
import { openReportOutput } from './output.js';

/** Captures, then prints the bundle's directory; the exit status. */
export async function captureCommand(command: string[], flags: CaptureFlags): Promise<number> {
  const result = await runCapture(command, flags);
  const output = openReportOutput(undefined);
  // Where the bundle is now, which whoever owns a directory above it may have
  // renamed to anything: escaped, so that it is one line and drives no terminal.
  output.write(`${escapeControl(result.bundleDir)}\n`);
  await output.close();
  // Ctrl-C, SIGTERM or SIGHUP: the bundle is complete up to then, but the
  // capture did not end the way it was asked to (duration, target exit).
  return result.stopped ? EXIT_INTERRUPTED : 0;
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
    `orphanmap: capturing with ${flags.backend} into ${escapeControl(handle.bundleDir)}${durationSeconds ? ` for ${durationSeconds} s from the attach` : ''}; Ctrl-C stops ${pid !== undefined ? 'and detaches' : 'and ends the command'}\n`,
  );
  return handle.done;
}

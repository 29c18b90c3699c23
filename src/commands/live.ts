// `orphanmap live`: capture and analyze at once. The tracer writes the raw
// trace into a bundle on disk (a crash of orphanmap loses nothing) and the
// engine follows that file as it grows. With a terminal the TUI shows the
// findings; without one each finding is printed as an NDJSON line.
import { createHash } from 'node:crypto';
import { access, mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { BACKENDS, type Backend } from '../capture/scripts.js';
import { readBundleMeta, startCapture, type CaptureHandle, type CaptureMeta } from '../capture/supervise.js';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { analyzeLiveBundle, type Analysis } from '../ingest/analyze.js';
import { buildReport, findingFilter, type FindingFilter, type Report } from '../report/report.js';
import { hasTerminal, loadInkInteractively } from '../tui/terminal.js';

interface LiveFlags {
  pid?: string;
  backend: Backend;
  save?: string;
  path?: string;
  duration?: string;
}

export function registerLive(program: Command): void {
  program
    .command('live')
    .description('trace a running process (or a command) and show mappings that outlive their files as they happen')
    .usage('(--pid N | -- CMD...) [--backend strace|bpftrace] [--save DIR] [--path GLOB]')
    .option('--pid <n>', 'attach to a running process (all threads, and what it forks)')
    .addOption(new Option('--backend <name>', 'tracer').choices([...BACKENDS]).default('strace'))
    .option('--save <dir>', 'keep the capture bundle here (default: a new directory under the temp dir)')
    .option('--path <glob>', 'only findings whose file (any of its names) matches')
    .option('--duration <seconds>', 'stop after this many seconds')
    .argument('[command...]', 'command to run under the tracer, after --')
    .action(async (command: string[], flags: LiveFlags) => {
      process.exitCode = await runLive(command, flags);
    });
}

async function runLive(command: string[], flags: LiveFlags): Promise<number> {
  const pid = flags.pid === undefined ? undefined : positiveInt(flags.pid, '--pid');
  if ((pid === undefined) === (command.length === 0)) throw new UsageError('live needs --pid N or -- CMD ARGS..., not both');
  const durationSeconds = flags.duration === undefined ? undefined : positiveNumber(flags.duration, '--duration');
  const outDir = flags.save ?? (await mkdtemp(join(tmpdir(), 'orphanmap-live-')));
  const filter: FindingFilter = flags.path === undefined ? {} : { path: flags.path };

  const tui = hasTerminal();
  const handle = startCapture({
    backend: flags.backend,
    outDir,
    ...(pid !== undefined ? { pid } : { command }),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    // The TUI owns the keyboard: a launched command must not read it, and
    // Ctrl-C arrives as a key, not a signal. Its output goes to command.log in
    // the bundle, so that if the user leaves it running (q, then d) it never
    // writes into a pipe that ends with orphanmap.
    ...(tui ? { stdin: 'ignore' as const, onStderr: () => undefined, logCommand: true } : {}),
  });
  process.stderr.write(`orphanmap: tracing with ${flags.backend}; the bundle is saved in ${handle.bundleDir}\n`);
  try {
    await waitForBundleStart(handle);
  } catch (error) {
    handle.stop();
    await handle.done.catch(() => undefined);
    throw error;
  }
  let stopped: boolean;
  try {
    ({ stopped } = tui ? await liveInTui(handle, flags, pid, command, filter) : await liveAsNdjson(handle, filter));
  } finally {
    // Whatever failed here, the tracer must not stay attached (after a detach this is a no-op).
    handle.stop();
    await handle.done.catch(() => undefined);
  }
  if (tui) process.stderr.write(await endOfCaptureText(handle.bundleDir));
  process.stderr.write(`orphanmap: capture finished; analyze it again with: orphanmap analyze ${handle.bundleDir}\n`);
  return stopped ? EXIT_INTERRUPTED : 0;
}

async function liveAsNdjson(handle: CaptureHandle, filter: FindingFilter): Promise<{ stopped: boolean; analysis: Analysis }> {
  const keep = findingFilter(filter);
  const analysis = await analyzeLiveBundle(handle.bundleDir, handle.done, {
    onChange: (change, engine) => {
      if (keep(change.finding)) process.stdout.write(`${JSON.stringify({ ...change.finding, evidence: engine.evidenceOf(change.finding) })}\n`);
    },
  });
  const { stopped } = await handle.done;
  return { stopped, analysis };
}

async function liveInTui(handle: CaptureHandle, flags: LiveFlags, pid: number | undefined, command: string[], filter: FindingFilter): Promise<{ stopped: boolean }> {
  loadInkInteractively();
  const { startTui } = await import('../tui/run.js');
  const meta = await readBundleMeta(handle.bundleDir).catch(() => null);
  const targetPid = pid ?? (typeof meta?.pid === 'number' ? meta.pid : null);
  const launched = command.length > 0;
  const program = `${meta?.comm ?? command[0] ?? 'the program'}${targetPid === null ? '' : ` (pid ${targetPid})`}`;
  const detach = detachOffer(meta);
  const log = join(handle.bundleDir, 'command.log');
  let analysis: Analysis | null = null;
  let report: Report | null = null;
  const session = startTui({
    source: { kind: 'live', pid: targetPid, command: launched ? command.join(' ') : null, backend: flags.backend },
    quit: {
      asks: launched,
      program,
      detach,
      note: launched
        ? `asks what becomes of ${program}: s stops it (SIGTERM, then SIGKILL after 3 s); d${detach.ok ? ` leaves it running, untraced, its output going to ${log}` : ` is not offered (${detach.why})`}; c goes back. Once the capture has ended, q just quits.`
        : `stops the capture and detaches from pid ${targetPid ?? '?'}: the process runs on, untraced.`,
    },
    onQuit: (how) => (how === 'detach' ? handle.detach() : handle.stop()),
    keep: findingFilter(filter),
    export: {
      command: `orphanmap analyze ${handle.bundleDir}`,
      dir: handle.bundleDir,
      // Once the capture has ended, the whole report; before, the trace as it stands.
      report: () => (report ??= analysis === null ? null : buildReport(analysis, filter)),
      inputs: () => traceSoFar(handle.bundleDir, flags.backend),
    },
  });
  const maxMapCount = await readNumber('/proc/sys/vm/max_map_count');
  const pollMaps = () => {
    if (targetPid === null) return;
    void mapCount(targetPid).then((count) => session.store.counters({ mapCount: count, maxMapCount }));
  };
  pollMaps();
  const poll = setInterval(pollMaps, 1000);
  try {
    const result = await analyzeLiveBundle(handle.bundleDir, handle.done, session.analyzeOptions());
    analysis = result;
    session.store.counters({ lostEvents: result.lostEvents });
    session.store.finish();
    await handle.done;
    // The capture is over (target exited or the user quit); the findings stay on screen until q.
    await session.waitUntilExit();
    // Quitting the UI is the normal way to end a live session, not an interruption.
    return { stopped: false };
  } finally {
    clearInterval(poll);
    session.close();
  }
}

/** Whether q can offer to leave a launched program running, from what the capture script wrote. */
export function detachOffer(meta: CaptureMeta | null): { ok: true } | { ok: false; why: string } {
  if (meta === null || meta.canDetach !== false) return { ok: true };
  return { ok: false, why: meta.noDetachReason ?? 'the tracer ends the program when it lets go of it' };
}

/**
 * A live export's inputs while the capture runs: the bundle's trace as it
 * stands, with the SHA-256 of the bytes written so far, and a caveat saying so.
 */
async function traceSoFar(dir: string, backend: Backend): Promise<{ inputs: Report['inputs']; warnings: string[] }> {
  const path = join(dir, 'trace.txt');
  const hash = createHash('sha256');
  let bytes = 0;
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, bytes);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await file.close();
  }
  return {
    inputs: [{ path, format: backend, sha256: hash.digest('hex') }],
    warnings: [`exported while the capture was still running: the SHA-256 covers the first ${bytes} bytes of ${path}; \`orphanmap analyze ${dir}\` reads the finished bundle`],
  };
}

/** What became of the target, from the finished bundle: said once the TUI has left the screen. */
async function endOfCaptureText(dir: string): Promise<string> {
  const meta = await readBundleMeta(dir).catch(() => null);
  if (meta === null) return '';
  const who = `pid ${meta.pid ?? '?'}${meta.comm === undefined ? '' : ` (${meta.comm})`}`;
  switch (meta.exitReason) {
    case 'detached':
      return `orphanmap: detached: ${who} runs on, untraced${meta.mode === 'launched' ? `; its output goes to ${join(dir, 'command.log')}` : ''}\n`;
    case 'interrupted':
      return meta.mode === 'launched' ? `orphanmap: stopped ${who} (SIGTERM, then SIGKILL if it had not ended after 3 s)\n` : `orphanmap: detached from ${who}; it runs on, untraced\n`;
    case 'target-exited':
      return `orphanmap: ${who} exited\n`;
    default:
      return '';
  }
}

/** meta.json appears once the tracer is attached (or the command started). */
async function waitForBundleStart(handle: CaptureHandle): Promise<void> {
  let finished = false;
  void handle.done.then(
    () => (finished = true),
    () => (finished = true),
  );
  for (;;) {
    try {
      await access(join(handle.bundleDir, 'meta.json'));
      return;
    } catch {
      if (finished) {
        await handle.done; // rethrows the capture's own error
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function bundlePid(dir: string): Promise<number | null> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { pid?: unknown };
    return typeof meta.pid === 'number' ? meta.pid : null;
  } catch {
    return null;
  }
}

async function mapCount(pid: number): Promise<number | null> {
  try {
    const maps = await readFile(`/proc/${pid}/maps`, 'latin1');
    return maps.split('\n').length - 1;
  } catch {
    return null;
  }
}

async function readNumber(path: string): Promise<number | null> {
  try {
    return Number((await readFile(path, 'utf8')).trim());
  } catch {
    return null;
  }
}

function positiveInt(text: string, flag: string): number {
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${flag} needs a positive integer, got '${text}'`);
  return Number(text);
}

function positiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!(value > 0)) throw new UsageError(`${flag} needs a positive number, got '${text}'`);
  return value;
}

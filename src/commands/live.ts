// `orphanmap live`: capture and analyze at once. The tracer writes the raw
// trace into a bundle on disk (a crash of orphanmap loses nothing) and the
// engine follows that file as it grows. With a terminal the TUI shows the
// findings; without one each finding is printed as an NDJSON line.
import { access, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { BACKENDS, type Backend } from '../capture/scripts.js';
import { startCapture, type CaptureHandle } from '../capture/supervise.js';
import { EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { analyzeLiveBundle, type Analysis } from '../ingest/analyze.js';
import { findingFilter, type FindingFilter } from '../report/report.js';
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
    // Ctrl-C arrives as a key, not a signal.
    ...(tui ? { stdin: 'ignore' as const, onStderr: () => undefined } : {}),
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
    // Whatever failed here, the tracer must not stay attached.
    handle.stop();
    await handle.done.catch(() => undefined);
  }
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
  const targetPid = pid ?? (await bundlePid(handle.bundleDir));
  const session = startTui({
    source: { kind: 'live', pid: targetPid, command: command.length > 0 ? command.join(' ') : null, backend: flags.backend },
    onQuit: () => handle.stop(),
    keep: findingFilter(filter),
    export: { command: `orphanmap analyze ${handle.bundleDir}`, dir: process.cwd() },
  });
  const maxMapCount = await readNumber('/proc/sys/vm/max_map_count');
  const poll = setInterval(() => {
    if (targetPid === null) return;
    void mapCount(targetPid).then((count) => session.store.counters({ mapCount: count, maxMapCount }));
  }, 1000);
  try {
    const analysis = await analyzeLiveBundle(handle.bundleDir, handle.done, session.analyzeOptions());
    session.store.counters({ lostEvents: analysis.lostEvents });
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

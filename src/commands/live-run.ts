// `orphanmap live`'s work, loaded when the command runs (live.ts registers it).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../capture/scripts.js';
import { readBundleMeta, startCapture, type CaptureHandle, type CaptureResult } from '../capture/supervise.js';
import { CaptureError, describeSystemError, EXIT_INTERRUPTED, OrphanmapError } from '../errors.js';
import { analyzeLiveBundle, type Analysis } from '../ingest/analyze.js';
import { ndjsonChangeLine } from '../report/formats.js';
import { redaction, type Redaction } from '../report/redact.js';
import { buildReport, findingFilter, type FindingFilter, redactAllButFindings, type Report } from '../report/report.js';
import { escapeControl } from '../report/sanitize.js';
import { verdict } from '../report/text.js';
import type { QuitHow } from '../tui/run.js';
import { hasTerminal, loadInkInteractively } from '../tui/terminal.js';
import { detachOffer, withCapture, type LiveFlags } from './live.js';
import { targetOf } from './options.js';
import { stderrSummary } from './output.js';

export async function runLive(command: string[], flags: LiveFlags): Promise<number> {
  const target = targetOf('live', flags.pid, command);
  const pid = flags.pid;
  const durationSeconds = flags.duration;
  const outDir = flags.save ?? (await mkdtemp(join(tmpdir(), 'orphanmap-live-')));
  const filter: FindingFilter = flags.path === undefined ? {} : { path: flags.path };
  const redact = redaction(flags.redact === true);

  const tui = hasTerminal();
  const handle = startCapture({
    backend: flags.backend,
    outDir,
    ...target,
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    // The TUI owns the keyboard: a launched command must not read it, and
    // Ctrl-C arrives as a key, not a signal. Its output goes to command.log in
    // the bundle, so that if the user leaves it running (q, then d) it never
    // writes into a pipe that ends with orphanmap.
    ...(tui ? { stdin: 'ignore' as const, onStderr: () => undefined, logCommand: true } : {}),
  });
  process.stderr.write(`orphanmap: tracing with ${flags.backend}; the bundle is saved in ${escapeControl(handle.bundleDir)}\n`);
  // The view starts once the tracer has attached: bpftrace compiles its probes first, and the screen stayed silent meanwhile.
  if (flags.backend === 'bpftrace') process.stderr.write('orphanmap: waiting for bpftrace to attach (it compiles its probes first: 8-40 s)…\n');
  // Throws only the capture's own error, once the capture has ended: nothing to stop.
  await waitForBundleStart(handle);
  let stopped: boolean;
  let verdictAfter: string | null = null;
  try {
    ({ stopped, verdictAfter = null } = await withCapture(
      handle,
      (): Promise<{ stopped: boolean; verdictAfter?: string }> => (tui ? liveInTui(handle, flags, pid, command, filter, redact) : liveAsNdjson(handle, filter, redact)),
      (text) => process.stderr.write(text),
    ));
  } catch (error) {
    throw await followingFailed(error, handle);
  }
  // The finished bundle, where it is now (whoever owns a directory above it
  // may have renamed it): what the capture itself checked and read.
  const result = await handle.done;
  if (tui) process.stderr.write(endOfCaptureText(result));
  if (verdictAfter !== null) process.stderr.write(`${verdictAfter}\n`);
  process.stderr.write(`orphanmap: capture finished; analyze it again with: orphanmap analyze ${escapeControl(result.bundleDir)}\n`);
  return stopped ? EXIT_INTERRUPTED : 0;
}

/**
 * The live view follows the bundle by its path. Whoever owns a directory above
 * it can rename it meanwhile (docs/safety.md), and a read then fails with a
 * system error (ENOENT): said as such, with where the capture left the bundle,
 * rather than as an internal error. orphanmap's own errors pass unchanged.
 */
async function followingFailed(error: unknown, handle: CaptureHandle): Promise<unknown> {
  if (error instanceof OrphanmapError || typeof (error as NodeJS.ErrnoException | null)?.code !== 'string') return error;
  const now = await handle.done.then(
    (result) => result.bundleDir,
    () => null,
  );
  const moved = now !== null && now !== handle.bundleDir ? `; the capture left it in ${escapeControl(now)}: orphanmap analyze that directory` : '; was it moved or renamed during the capture?';
  return new CaptureError(`following the bundle as it was written failed: ${escapeControl(describeSystemError(error))}${moved}`, escapeControl(handle.bundleDir), error);
}

async function liveAsNdjson(handle: CaptureHandle, filter: FindingFilter, redact: Redaction): Promise<{ stopped: boolean; analysis: Analysis }> {
  const keep = findingFilter(filter);
  const analysis = await analyzeLiveBundle(handle.bundleDir, handle.done, {
    onChange: (change, engine) => {
      const line = keep(change.finding) ? ndjsonChangeLine(change, engine, redact) : null;
      if (line !== null) process.stdout.write(line);
    },
  });
  const { stopped } = await handle.done;
  // As analyze --format ndjson leaves them: what the analysis could not know, on stderr at the end.
  const shown = redactAllButFindings(buildReport(analysis, filter), redact.withWholePaths(analysis.warningPaths));
  if (shown.warnings.length > 0 || shown.summary.unparsedLines > 0) process.stderr.write(stderrSummary(shown));
  return { stopped, analysis };
}

/**
 * The view, until the user quits it (or a signal ends it): whether a signal did, and the verdict of the whole bundle,
 * said once the view has left the screen. A user who quits while the capture ends never sees what the end added to
 * the view (review 88, H1: the findings of `--pid` read from the maps at the end, a file removed by a process the
 * trace does not follow, were in no line the terminal kept).
 */
async function liveInTui(
  handle: CaptureHandle,
  flags: LiveFlags,
  pid: number | undefined,
  command: string[],
  filter: FindingFilter,
  redact: Redaction,
): Promise<{ stopped: boolean; verdictAfter: string }> {
  loadInkInteractively();
  const { startTui, checkedByMapsInto } = await import('../tui/run.js');
  // Only for words on the quit question (the program's name, whether detach
  // is offered): the capture goes on without them, and a bundle it cannot
  // finish fails handle.done, which is awaited below.
  const meta = await readBundleMeta(handle.bundleDir).catch(() => null);
  const targetPid = pid ?? (typeof meta?.pid === 'number' ? meta.pid : null);
  const launched = command.length > 0;
  // comm is the target's to choose (escape sequences included).
  const program = escapeControl(`${meta?.comm ?? command[0] ?? 'the program'}${targetPid === null ? '' : ` (pid ${targetPid})`}`);
  const detach = detachOffer(meta);
  const log = escapeControl(join(handle.bundleDir, 'command.log'));
  let analysis: Analysis | null = null;
  let report: Report | null = null;
  let quitHow: QuitHow | null = null;
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
    onQuit: (how) => {
      quitHow = how;
      if (how === 'detach') handle.detach();
      else handle.stop();
    },
    keep: findingFilter(filter),
    export: {
      command: redact.text(`orphanmap analyze ${redact.on ? '--redact ' : ''}${handle.bundleDir}`),
      redaction: redact,
      dir: handle.bundleDir,
      // Once the capture has ended, the whole report; before, the trace as it stands.
      report: () => (report ??= analysis === null ? null : buildReport(analysis, filter)),
      warningPaths: () => analysis?.warningPaths ?? [],
      inputs: () => traceSoFar(handle.bundleDir, flags.backend),
    },
  });
  const maxMapCount = await readNumber('/proc/sys/vm/max_map_count');
  // One read at a time: a process with 10^6 mappings takes seconds to read, and reads begun every second piled up.
  let counting = false;
  const pollMaps = () => {
    if (targetPid === null || counting) return;
    counting = true;
    void mapCount(targetPid).then((count) => {
      counting = false;
      session.store.counters({ mapCount: count, maxMapCount });
    });
  };
  pollMaps();
  const poll = setInterval(pollMaps, 1000);
  // Quitting (q, or a signal: kill, a closed terminal) closes the UI at
  // once; the capture's stop takes seconds more (bpftrace's ~5): said meanwhile.
  let captureEnded = false;
  void handle.done.then(
    () => (captureEnded = true),
    () => (captureEnded = true),
  );
  void session.waitUntilExit().then(
    () => {
      if (captureEnded) return;
      const signal = session.endedBy();
      if (signal !== null) process.stderr.write(`orphanmap: ${signal}: stopping the capture and finishing the bundle\n`);
      else if (quitHow === 'detach') process.stderr.write(`orphanmap: detaching from ${program} and finishing the bundle…\n`);
      else if (quitHow !== null) process.stderr.write(`orphanmap: stopping: ${launched && quitHow === 'stop' ? `ending ${program}, ` : ''}finishing the bundle…\n`);
    },
    () => undefined,
  );
  try {
    const result = await analyzeLiveBundle(handle.bundleDir, handle.done, session.analyzeOptions());
    analysis = result;
    checkedByMapsInto(session.store, result);
    session.store.counters({ lostEvents: result.lostEvents });
    session.store.finish();
    await handle.done;
    // The capture is over (target exited or the user quit); the findings stay on screen until q.
    await session.waitUntilExit();
    // Quitting the UI is the normal way to end a live session, not an
    // interruption; a signal is one, as it is for `capture` (exit 130).
    const shown = redactAllButFindings(buildReport(result, filter), redact.withWholePaths(result.warningPaths));
    return { stopped: session.endedBy() !== null, verdictAfter: verdict(shown) };
  } finally {
    clearInterval(poll);
    session.close();
    // The screen comes back before anything else is said: an error written
    // while the alternate screen is up (the capture's reason for failing) is
    // erased with it when the terminal leaves it.
    await session.waitUntilExit();
  }
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

/**
 * What became of the target, from the finished bundle: said once the TUI has
 * left the screen. The target chose its comm, and the bundle's path may be
 * anyone's choice: both escaped.
 */
function endOfCaptureText({ meta, bundleDir }: CaptureResult): string {
  const who = escapeControl(`pid ${meta.pid ?? '?'}${meta.comm === undefined ? '' : ` (${meta.comm})`}`);
  switch (meta.exitReason) {
    case 'detached':
      return `orphanmap: detached: ${who} runs on, untraced${meta.mode === 'launched' ? `; its output goes to ${escapeControl(join(bundleDir, 'command.log'))}` : ''}\n`;
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

/**
 * The target's map count now; null once it has exited (the header then
 * shows none). Newlines counted chunk by chunk: the text is never held (a
 * target that maps 10^5 files by long names has maps of hundreds of MB).
 */
export async function mapCount(pid: number): Promise<number | null> {
  try {
    let count = 0;
    for await (const chunk of createReadStream(`/proc/${pid}/maps`) as AsyncIterable<Buffer>) {
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) count++;
    }
    return count;
  } catch {
    return null;
  }
}

/** vm.max_map_count; null where /proc/sys is not readable (a container): the header leaves the limit out. */
async function readNumber(path: string): Promise<number | null> {
  try {
    return Number((await readFile(path, 'utf8')).trim());
  } catch {
    return null;
  }
}

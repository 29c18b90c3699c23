// Starting the TUI: for `analyze --tui` (a file read while the screen shows
// it) and for `live` (a capture that pushes into the store). Without a
// terminal on both stdin and stdout, nothing is rendered and the caller prints
// text instead.
import { render } from 'ink';
import { createElement } from 'react';
import type { Finding } from '../engine/findings.js';
import { analyze, type Analysis, type AnalyzeOptions } from '../ingest/analyze.js';
import { commandLine } from '../report/formats.js';
import { NO_REDACTION, type Redaction } from '../report/redact.js';
import { notClearText } from '../report/finding-view.js';
import { buildReport, findingFilter, type FindingFilter, type Report } from '../report/report.js';
import { App, type QuitHow, type QuitOptions } from './App.js';
import { defaultExportDir, exportTarget, type ExportContext } from './export.js';
import { engineFeed, type EngineFeed } from './feed.js';
import type { SourceInfo } from './snapshot.js';
import { TuiStore } from './store.js';

export type { EngineFeed } from './feed.js';
export type { QuitHow, QuitOptions } from './App.js';
export { engineFeed } from './feed.js';

export interface TuiStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** True when both ends are terminals: the only case the TUI draws in. */
export function canUseTui(streams: TuiStreams = { stdin: process.stdin, stdout: process.stdout }): boolean {
  return streams.stdin.isTTY === true && streams.stdout.isTTY === true;
}

export interface StartTuiOptions {
  source: SourceInfo;
  /** Called once when the user quits (q, F10, Ctrl-C, or a choice in the quit question): the live code stops or detaches here. */
  onQuit?: (how: QuitHow) => void;
  /** What q offers (live -- CMD asks; the default just quits). */
  quit?: QuitOptions;
  /** The reproducing command, the report when there is one, and where exports go. */
  export?: Omit<ExportContext, 'counters'> & { dir: string; createParents?: boolean };
  /** Findings outside the user's --pid/--path filter are counted but not listed. */
  keep?: (finding: Finding) => boolean;
  streams?: TuiStreams;
  throttleMs?: number;
}

export interface TuiSession {
  store: TuiStore;
  /** Feeds engine changes and stats into the store, for live capture code. */
  feed: EngineFeed;
  /** Resolves when the UI has exited (the user quit, or `close` was called). */
  waitUntilExit(): Promise<void>;
  /** Options for analyze()/analyzeLiveBundle() that feed this session's store as lines are read. */
  analyzeOptions(): AnalyzeOptions;
  /** Closes the UI from the program's side (e.g. the traced process is gone and the user asked to exit). */
  close(): void;
  /** The signal (SIGTERM, SIGHUP, SIGINT from kill) that closed the UI; null while it is up, or when something else closed it. */
  endedBy(): NodeJS.Signals | null;
}

/** The alternate screen keeps the user's scrollback as it was. */
const ENTER_ALT_SCREEN = '\u001b[?1049h';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';
/**
 * SGR mouse reports, for the wheel: only with ORPHANMAP_MOUSE=1, because a
 * program that takes the mouse takes click-and-drag selection away (Shift
 * gives it back in most terminals). Without it, terminals that scroll the
 * alternate screen with the wheel send ↑/↓, which scroll just the same.
 */
const MOUSE_ON = '\u001b[?1000h\u001b[?1006h';
const MOUSE_OFF = '\u001b[?1006l\u001b[?1000l';
/**
 * Signals that end the UI from outside: kill, a closed terminal, a Ctrl-C
 * sent with kill -INT (in the UI's raw mode the key sends none). Ink's own
 * exit hook unmounts and kills the process again at once, before the screen
 * is restored: the shell was left in the alternate screen.
 */
const END_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** OSC 52: puts text on the terminal's clipboard where the terminal (and tmux's set-clipboard) allows it. */
export function osc52(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

export function startTui(options: StartTuiOptions): TuiSession {
  const streams = options.streams ?? { stdin: process.stdin, stdout: process.stdout };
  const store = new TuiStore({ source: options.source, throttleMs: options.throttleMs ?? 100 });
  const context: ExportContext = { command: 'orphanmap', ...options.export, counters: () => store.getSnapshot().counters };
  const exporter = exportTarget(options.export?.dir ?? defaultExportDir(), context, { createParents: options.export?.createParents === true });
  let quitCalled = false;
  const onQuit = (how: QuitHow) => {
    if (quitCalled) return;
    quitCalled = true;
    options.onQuit?.(how);
  };
  const mouse = process.env.ORPHANMAP_MOUSE === '1';
  streams.stdout.write(ENTER_ALT_SCREEN + (mouse ? MOUSE_ON : ''));
  // However the process ends, the terminal gets its normal screen and mouse back.
  const restore = () => streams.stdout.write((mouse ? MOUSE_OFF : '') + LEAVE_ALT_SCREEN);
  const instance = render(
    createElement(App, {
      store,
      onQuit,
      exporter,
      onCopy: (text: string) => streams.stdout.write(osc52(text)),
      ...(options.quit === undefined ? {} : { quit: options.quit }),
    }),
    { stdin: streams.stdin, stdout: streams.stdout, exitOnCtrlC: false, patchConsole: false },
  );
  const feed = engineFeed(store, options.keep);
  // A listener of ours keeps ink's hook from killing the process: the UI
  // unmounts, the screen is restored, and the caller ends as the signal asks.
  let endedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    endedBy ??= signal;
    instance.unmount();
  };
  for (const signal of END_SIGNALS) process.on(signal, onSignal);
  const exited = instance.waitUntilExit().finally(() => {
    for (const signal of END_SIGNALS) process.off(signal, onSignal);
    store.dispose();
    restore();
  });
  return {
    store,
    feed,
    analyzeOptions: () => analyzeOptionsFor(store, feed),
    waitUntilExit: () => exited.then(() => undefined),
    close: () => instance.unmount(),
    endedBy: () => endedBy,
  };
}

/** Progress goes to the store as it comes; engine counters at most every 100 ms (stats() walks every mapping). */
export function analyzeOptionsFor(store: TuiStore, feed: EngineFeed): AnalyzeOptions {
  let lastSample = 0;
  return {
    onChange: feed.onChange,
    onProgress: (progress, engine) => {
      store.progress(progress);
      const now = Date.now();
      if (now - lastSample >= 100) {
        lastSample = now;
        feed.sample(engine);
      }
    },
  };
}

/**
 * `analyze --tui`: show the analysis as it reads, then let the user browse
 * until they quit. Returns false, having drawn nothing, when stdin or stdout
 * is not a terminal; the caller then prints the text report.
 */
export async function runAnalyzeTui(
  inputs: string[],
  filter: FindingFilter,
  streams: TuiStreams = { stdin: process.stdin, stdout: process.stdout },
  redaction: Redaction = NO_REDACTION,
): Promise<Analysis | null> {
  if (!canUseTui(streams)) return null;
  // Reading stdin as the trace would take the keyboard away.
  if (inputs.includes('-')) return null;
  let analysis: Analysis | null = null;
  let report: Report | null = null;
  const chosen = process.env.ORPHANMAP_EXPORT_DIR;
  const session = startTui({
    source: { kind: 'file', names: inputs },
    streams,
    export: {
      command: reproducingCommand(process.argv.slice(2), redaction),
      redaction,
      // Built at the first export, not at the end of reading: a report of every finding with its evidence is big.
      report: () => (report ??= analysis === null ? null : buildReport(analysis, filter)),
      warningPaths: () => analysis?.warningPaths ?? [],
      dir: chosen !== undefined && chosen !== '' ? chosen : defaultExportDir(),
      createParents: chosen !== undefined && chosen !== '',
    },
    keep: findingFilter(filter),
  });
  // Once the screen is back, end as the signal would have (the shell sees
  // status 128+n), our listener gone: even in the middle of a long read.
  void session.waitUntilExit().then(
    () => {
      const signal = session.endedBy();
      if (signal !== null) process.kill(process.pid, signal);
    },
    () => undefined /* ink's own failure: thrown by the wait below */,
  );
  try {
    analysis = await readIntoStore(inputs, session.store, session.feed);
  } catch (error) {
    session.close();
    await session.waitUntilExit();
    throw error;
  }
  await session.waitUntilExit();
  return analysis;
}

/**
 * `analyze --tui`'s reading, without the terminal: the findings go into the
 * store as they are decided, then the final counters and the trace's span
 * (its first and last event times: the chart's axis).
 */
export async function readIntoStore(inputs: readonly string[], store: TuiStore, feed: EngineFeed): Promise<Analysis> {
  const result = await analyze(inputs, analyzeOptionsFor(store, feed));
  feed.sample(result.engine);
  checkedByMapsInto(store, result);
  const undecided = notClearText(result.engine.mappingsInDoubt().length, result.undecided ?? null, result.engine.removedUnseen());
  store.finish({ lines: result.lines, events: result.events, unparsedLines: result.unparsedLines, lostEvents: result.lostEvents }, result.warnings, result.untraced?.why ?? null, undecided);
  store.traceSpan(result.span);
  return result;
}

/**
 * A bundle's check against its maps at the end, done after the run: what
 * confirms each finding, and the maps line at its address, as the text
 * report has them (the report's own lookup, so the two never differ).
 */
export function checkedByMapsInto(store: TuiStore, analysis: Analysis): void {
  if (analysis.bundle === null) return;
  store.checkedByMaps(analysis.engine.findings(), buildReport(analysis).mapsLines, analysis.engine);
}

/** The command line that reproduces the analysis: this one, without --tui (a ticket reader wants the report). */
export function reproducingCommand(argv: readonly string[] = process.argv.slice(2), redaction: Redaction = NO_REDACTION): string {
  return commandLine(
    argv.filter((arg) => arg !== '--tui'),
    redaction,
  );
}

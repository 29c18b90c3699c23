// Starting the TUI: for `analyze --tui` (a file read while the screen shows
// it) and for `live` (a capture that pushes into the store). Without a
// terminal on both stdin and stdout, nothing is rendered and the caller prints
// text instead.
import { render } from 'ink';
import { createElement } from 'react';
import type { Finding } from '../engine/findings.js';
import { analyze, type AnalyzeOptions } from '../ingest/analyze.js';
import { buildReport, findingFilter, type FindingFilter, type Report } from '../report/report.js';
import { App } from './App.js';
import { exportFinding, type ExportContext } from './export.js';
import { engineFeed, type EngineFeed } from './feed.js';
import { TuiStore, type SourceInfo } from './store.js';

export type { EngineFeed } from './feed.js';
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
  /** Called once when the user quits (q, Ctrl-C): the live code detaches the tracer here. */
  onQuit?: () => void;
  /** Where `e` writes, the command line for the report, and the report when there is one. */
  export?: Omit<ExportContext, 'counters'>;
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
}

/** The alternate screen keeps the user's scrollback as it was. */
const ENTER_ALT_SCREEN = '\u001b[?1049h';
const LEAVE_ALT_SCREEN = '\u001b[?1049l';

export function startTui(options: StartTuiOptions): TuiSession {
  const streams = options.streams ?? { stdin: process.stdin, stdout: process.stdout };
  const store = new TuiStore({ source: options.source, throttleMs: options.throttleMs ?? 100 });
  const context: ExportContext = { command: 'orphanmap', ...options.export, counters: () => store.getSnapshot().counters };
  let quitCalled = false;
  const onQuit = () => {
    if (quitCalled) return;
    quitCalled = true;
    options.onQuit?.();
  };
  streams.stdout.write(ENTER_ALT_SCREEN);
  const instance = render(
    createElement(App, { store, onQuit, onExport: (finding: Finding) => exportFinding(finding, context) }),
    { stdin: streams.stdin, stdout: streams.stdout, exitOnCtrlC: false, patchConsole: false },
  );
  const feed = engineFeed(store, options.keep);
  const exited = instance.waitUntilExit().finally(() => {
    store.dispose();
    streams.stdout.write(LEAVE_ALT_SCREEN);
  });
  return {
    store,
    feed,
    analyzeOptions: () => analyzeOptionsFor(store, feed),
    waitUntilExit: () => exited.then(() => undefined),
    close: () => instance.unmount(),
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
export async function runAnalyzeTui(inputs: string[], filter: FindingFilter, streams: TuiStreams = { stdin: process.stdin, stdout: process.stdout }): Promise<boolean> {
  if (!canUseTui(streams)) return false;
  // Reading stdin as the trace would take the keyboard away.
  if (inputs.includes('-')) return false;
  let report: Report | null = null;
  const session = startTui({
    source: { kind: 'file', names: inputs },
    streams,
    export: { command: commandLine(), report: () => report },
    keep: findingFilter(filter),
  });
  const { store, feed } = session;
  try {
    const analysis = await analyze(inputs, session.analyzeOptions());
    feed.sample(analysis.engine);
    report = buildReport(analysis, filter);
    store.finish({ lines: analysis.lines, events: analysis.events, unparsedLines: analysis.unparsedLines, lostEvents: analysis.lostEvents }, analysis.warnings);
  } catch (error) {
    session.close();
    await session.waitUntilExit();
    throw error;
  }
  await session.waitUntilExit();
  return true;
}

function commandLine(): string {
  return ['orphanmap', ...process.argv.slice(2)].map((arg) => (/^[\w./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

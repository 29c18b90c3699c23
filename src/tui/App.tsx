// The TUI's root: lays out the views for the terminal's size and turns keys
// into view changes (view.ts) and store calls. Everything it shows comes from
// the store's snapshot and the view state; every key is applied, in order, to
// the state the previous key left (a ref, not the last rendered state).
import { useEffect, useRef, useState } from 'react';
import { Box, Text, useApp } from 'ink';
import { SEVERITY_WORD } from '../report/finding-view.js';
import { escapeControl, formatCount } from '../report/sanitize.js';
import { Chart } from './components/Chart.js';
import { DetailPane } from './components/DetailPane.js';
import { FindingsTable } from './components/FindingsTable.js';
import { Header } from './components/Header.js';
import { HelpScreen } from './components/HelpScreen.js';
import { EditorBar, HintBar, QuitQuestion, StatusLine } from './components/HintBar.js';
import { applyStoreEffect, clipboardPath, DEFAULT_QUIT, exportFinding, pathStatus, screenLayout, viewEnvOf, visibleStatus, type QuitHow, type QuitOptions } from './controller.js';
import type { ExportTarget } from './export.js';
import { fitParts, type LinePart } from './format.js';
import { useKeys, useSnapshot, useTerminalSize } from './hooks.js';
import type { Key } from './keys.js';
import { resolveKey, type Pane } from './keymap.js';
import type { TuiSnapshot } from './snapshot.js';
import type { TuiStore } from './store.js';
import { INITIAL_VIEW, reduce, typeText, type Effect, type Status, type ViewState } from './view.js';

export type { QuitHow, QuitOptions } from './controller.js';
export { screenLayout } from './controller.js';

export interface AppProps {
  store: TuiStore;
  /** Fixed size (tests); by default the terminal's, less one row so ink never scrolls. */
  width?: number;
  height?: number;
  quit?: QuitOptions;
  /** Called once when the user quits, before the app exits (live: stop or detach the tracer). */
  onQuit?: (how: QuitHow) => void;
  /** Where `e` writes. */
  exporter?: ExportTarget;
  /** Puts text on the clipboard (OSC 52); absent in tests. */
  onCopy?: (text: string) => void;
}

export function App({ store, width, height, quit = DEFAULT_QUIT, onQuit, exporter, onCopy }: AppProps) {
  const snapshot = useSnapshot(store);
  const terminal = useTerminalSize();
  const { exit } = useApp();
  const size = { columns: width ?? terminal.columns, rows: height ?? Math.max(10, terminal.rows - 1) };
  const view = useRef<ViewState>(INITIAL_VIEW);
  const [, setFrame] = useState(0);
  const redraw = () => setFrame((n) => n + 1);
  const quitting = useRef(false);
  const exportsSaved = useRef(0);

  useEffect(() => {
    const clock = setInterval(() => store.tick(), 1000);
    clock.unref?.();
    return () => clearInterval(clock);
  }, [store]);

  const setStatus = (status: Status | null) => {
    view.current = { ...view.current, status };
    redraw();
  };

  const exportReport = {
    status: setStatus,
    firstSaved: () => exportsSaved.current++ === 0,
    askForDirectory: () => {
      // Ask for another directory at once, then export again.
      if (quitting.current) return;
      const back = view.current.pane === 'detail' ? 'detail' : 'table';
      view.current = { ...view.current, pane: 'export-dir', back, draft: exporter?.dir() ?? '', exportAfterDir: true };
    },
  };

  const runEffect = (effect: Effect) => {
    if (applyStoreEffect(store, effect)) return;
    const current = store.getSnapshot();
    const selected = current.rows[current.selectedIndex] ?? null;
    if (effect.type === 'show-path') {
      if (selected === null) return;
      onCopy?.(clipboardPath(selected.path));
      setStatus(pathStatus(selected, onCopy !== undefined));
    } else if (effect.type === 'export') {
      if (selected !== null) exportFinding(exporter, selected, exportReport);
    } else if (effect.type === 'set-export-dir') {
      exporter?.setDir(effect.dir);
      setStatus({ text: `exports go to ${exporter?.dir() ?? effect.dir}`, tone: 'info', findingId: null });
      if (effect.thenExport && selected !== null) exportFinding(exporter, selected, exportReport);
    } else if (!quitting.current) {
      quitting.current = true;
      onQuit?.(effect.how);
      exit();
    }
  };

  const onKeys = (keys: Key[]) => {
    for (const key of keys) {
      if (quitting.current) return;
      // A hint ("no filter: …") lasts until the next key; results and errors stay until replaced.
      const shown = view.current.status;
      if (shown !== null && shown.tone === 'info' && shown.findingId === null) view.current = { ...view.current, status: null };
      const pane = view.current.pane;
      const action = resolveKey(pane, key);
      let step: ReturnType<typeof typeText>;
      if (action !== null) step = reduce(view.current, action, viewEnvOf(store.getSnapshot(), view.current, size, quit, exporter?.dir() ?? null));
      else if (key.type === 'char' && (pane === 'filter' || pane === 'export-dir')) step = typeText(view.current, key.char);
      else continue;
      view.current = step.state;
      for (const effect of step.effects) runEffect(effect);
    }
    redraw();
  };
  useKeys(onKeys);

  return <Screen snapshot={snapshot} state={view.current} quit={quit} columns={size.columns} rows={size.rows} />;
}

/**
 * `/` in the detail filters the findings list, not the timeline (which
 * shows the matches, for n/N): a text no finding holds left the detail for an
 * empty list, to a user who meant to search the timeline.
 */
const DETAIL_FILTER_LABEL = 'filter the findings (path text or pid; n/N: its lines here): ';

/** What the screen shows for a snapshot and the view's state: header, chart, title, the pane, the status and the bottom line. */
function Screen({ snapshot, state, quit, columns, rows }: { snapshot: TuiSnapshot; state: ViewState; quit: QuitOptions; columns: number; rows: number }) {
  const status = visibleStatus(state.status, snapshot);
  const layout = screenLayout(rows, columns, state, quit, status);
  const selected = snapshot.rows[snapshot.selectedIndex] ?? null;
  const pane: Pane = state.pane === 'detail' && selected === null ? 'table' : state.pane;
  const shownPane: Pane = pane === 'filter' || pane === 'export-dir' || pane === 'quit' ? state.back : pane;
  const detailScroll = selected !== null && state.detailFor === selected.id ? state.detailScroll : null;

  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <Header snapshot={snapshot} width={columns} />
      {layout.showChart ? <Chart series={snapshot.series} axis={snapshot.axis} width={columns} peak={snapshot.peak} /> : null}
      <TitleLine snapshot={snapshot} pane={shownPane} width={columns} />
      {pane === 'help' ? (
        <HelpScreen width={columns} height={layout.body} scroll={state.helpScroll} quitNote={quit.note} warnings={snapshot.warnings} />
      ) : shownPane === 'detail' && selected !== null ? (
        <DetailPane
          finding={selected}
          evidence={snapshot.evidenceOf(selected)}
          mapsLine={snapshot.mapsLineOf(selected)}
          width={columns}
          height={layout.body}
          scroll={detailScroll}
          highlight={snapshot.filterText}
        />
      ) : (
        <FindingsTable
          rows={snapshot.rows}
          selectedIndex={snapshot.selectedIndex}
          width={columns}
          height={layout.body}
          ageOf={snapshot.ageOf}
          pathDepth={snapshot.pathDepth}
          sort={snapshot.sort}
          reversed={snapshot.reversed}
          highlight={snapshot.filterText}
          empty={emptyText(snapshot)}
        />
      )}
      {status !== null ? <StatusLine text={status.text} tone={status.tone} width={columns} /> : null}
      {pane === 'filter' ? (
        <EditorBar label={state.back === 'detail' ? DETAIL_FILTER_LABEL : 'filter (path text or pid): '} text={state.draft} width={columns} />
      ) : pane === 'export-dir' ? (
        <EditorBar label="export to directory: " text={state.draft} width={columns} />
      ) : pane === 'quit' ? (
        <QuitQuestion program={quit.program} detach={quit.detach} width={columns} rows={layout.bottom} />
      ) : (
        <HintBar pane={pane} width={columns} />
      )}
    </Box>
  );
}

interface TitlePart extends LinePart {
  strong?: boolean;
}

export function titleParts(snapshot: TuiSnapshot, pane: Pane): TitlePart[] {
  const counts = snapshot.rowCounts;
  const shown = snapshot.rows.length === snapshot.totalFindings ? formatCount(snapshot.totalFindings) : `${formatCount(snapshot.rows.length)} of ${formatCount(snapshot.totalFindings)}`;
  const parts: TitlePart[] = [
    { text: `findings ${shown}`, priority: 100 },
    {
      text: `(${formatCount(counts.error)} ${SEVERITY_WORD.error}, ${formatCount(counts.warning)} ${SEVERITY_WORD.warning}, ${formatCount(counts.info)} ${SEVERITY_WORD.info})`,
      priority: 40,
      gapBefore: ' ',
    },
  ];
  if (snapshot.selectedIndex >= 0)
    parts.push({
      text: `${pane === 'detail' ? `${snapshot.rows[snapshot.selectedIndex]!.id}, ` : ''}row ${formatCount(snapshot.selectedIndex + 1)} of ${formatCount(snapshot.rows.length)}`,
      priority: 90,
    });
  parts.push({ text: `sort ${snapshot.sort}${snapshot.reversed ? ' ▲' : ' ▼'}`, priority: 70 });
  if (snapshot.severity !== 'all') parts.push({ text: `severity ${SEVERITY_WORD[snapshot.severity]}`, priority: 80, strong: true });
  if (snapshot.filterText.length > 0) parts.push({ text: `filter "${escapeControl(snapshot.filterText)}"`, priority: 85, strong: true, shrink: 'end', min: 12 });
  if (snapshot.follow) parts.push({ text: 'following new findings', priority: 75, strong: true });
  return parts;
}

function TitleLine({ snapshot, pane, width }: { snapshot: TuiSnapshot; pane: Pane; width: number }) {
  const parts = fitParts(titleParts(snapshot, pane), width, ' · ');
  return (
    <Text wrap="truncate">
      {parts.map((part, k) => (
        <Text key={k}>
          <Text dimColor>{part.gap}</Text>
          {part.strong === true ? <Text color="yellow">{part.shown}</Text> : <Text dimColor>{part.shown}</Text>}
        </Text>
      ))}
    </Text>
  );
}

function emptyText(snapshot: TuiSnapshot): string {
  if (snapshot.totalFindings > 0) return 'no finding matches (Esc clears the filter, s changes the severity shown)';
  if (snapshot.phase === 'reading' || snapshot.phase === 'live') return 'no mapping has outlived its file yet';
  // Not "none outlived": nothing of the process was traced (see the warnings).
  if (snapshot.untraced !== null) return `no verdict: ${snapshot.untraced}`;
  // The report's words: mappings in doubt, or a trace that may miss some (review 23: "no mapping outlived its file" here).
  if (snapshot.undecided !== null) return `no mapping was seen to outlive its file, but ${escapeControl(snapshot.undecided)}`;
  return 'no mapping outlived its file';
}

// The TUI's root: lays out the views for the terminal's size and turns keys
// into view changes (view.ts) and store calls. Everything it shows comes from
// the store's snapshot and the view state; every key is applied, in order, to
// the state the previous key left (a ref, not the last rendered state).
import { useEffect, useRef, useState } from 'react';
import { Box, Text, useApp } from 'ink';
import type { Finding } from '../engine/findings.js';
import { assertNever } from '../parse/events.js';
import { SEVERITY_WORD } from '../report/finding-view.js';
import { escapeControl, formatCount } from '../report/sanitize.js';
import { Chart, CHART_ROWS } from './components/Chart.js';
import { DetailPane, detailView } from './components/DetailPane.js';
import { FindingsTable } from './components/FindingsTable.js';
import { Header } from './components/Header.js';
import { HelpScreen, helpGeometry } from './components/HelpScreen.js';
import { EditorBar, HintBar, QuitQuestion, quitHeight, StatusLine, statusRows } from './components/HintBar.js';
import { ExportError, type ExportTarget } from './export.js';
import { fitParts, type LinePart } from './format.js';
import { useKeys, useSnapshot, useTerminalSize } from './hooks.js';
import type { Key } from './keys.js';
import { resolveKey, type Pane } from './keymap.js';
import type { TuiSnapshot } from './snapshot.js';
import type { TuiStore } from './store.js';
import { INITIAL_VIEW, reduce, typeText, type Effect, type Status, type ViewEnv, type ViewState } from './view.js';

/** How `q` ends the session: `plain` for a file or `live --pid` (which detaches), else the user's choice. */
export type QuitHow = 'plain' | 'stop' | 'detach';

/** What `q` offers in this session. */
export interface QuitOptions {
  /** `live -- CMD`: ask whether to stop the program or leave it running. */
  asks: boolean;
  /** The program, as the question names it: "java (pid 4242)". */
  program: string;
  detach: { ok: true } | { ok: false; why: string };
  /** One line for the help: what q does here. */
  note: string;
}

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

const HEADER_ROWS = 3;
const DEFAULT_QUIT: QuitOptions = { asks: false, program: '', detach: { ok: true }, note: 'quits' };

/** Rows of each part of the screen for a terminal size and what is showing. */
export function screenLayout(rows: number, columns: number, view: ViewState, quit: QuitOptions, status: Status | null) {
  const showChart = rows >= 20;
  const statusHeight = status === null ? 0 : statusRows(status.text, columns).length;
  const bottom = view.pane === 'quit' ? quitHeight(quit.program, quit.detach, columns) : 1;
  const body = Math.max(3, rows - HEADER_ROWS - (showChart ? CHART_ROWS : 0) - 1 - statusHeight - bottom);
  return { showChart, body, statusHeight, bottom };
}

export function App({ store, width, height, quit = DEFAULT_QUIT, onQuit, exporter, onCopy }: AppProps) {
  const snapshot = useSnapshot(store);
  const terminal = useTerminalSize();
  const { exit } = useApp();
  const columns = width ?? terminal.columns;
  const rows = height ?? Math.max(10, terminal.rows - 1);
  const view = useRef<ViewState>(INITIAL_VIEW);
  const [, setFrame] = useState(0);
  const redraw = () => setFrame((n) => n + 1);
  const quitting = useRef(false);

  useEffect(() => {
    const clock = setInterval(() => store.tick(), 1000);
    clock.unref?.();
    return () => clearInterval(clock);
  }, [store]);

  const setStatus = (status: Status | null) => {
    view.current = { ...view.current, status };
    redraw();
  };

  /** The screen as the next key will find it: from the store's latest snapshot, not the rendered one. */
  const envNow = (): ViewEnv => {
    const current = store.getSnapshot();
    const state = view.current;
    const layout = screenLayout(rows, columns, state, quit, visibleStatus(state.status, current));
    const selected = current.rows[current.selectedIndex] ?? null;
    let detail: ViewEnv['detail'] = null;
    if (selected !== null) {
      const scroll = state.detailFor === selected.id ? state.detailScroll : null;
      const geometry = detailView(selected, columns, layout.body, scroll, current.filterText);
      detail = { rows: geometry.rows.length, room: geometry.room, top: geometry.top, matches: geometry.matches };
    }
    return {
      rowCount: current.rows.length,
      selectedId: selected?.id ?? null,
      filterText: current.filterText,
      pageRows: Math.max(1, layout.body - 1),
      detail,
      help: helpGeometry(columns, layout.body, quit.note),
      // Once the capture has ended there is nothing left to stop or leave running.
      quitAsks: quit.asks && current.phase !== 'ended',
      detach: quit.detach,
      exportDir: exporter?.dir() ?? null,
    };
  };

  const exportsDone = useRef(0);
  const runExport = (finding: Finding) => {
    if (exporter === undefined) {
      setStatus({ text: 'export is not available here', tone: 'error', findingId: null });
      return;
    }
    setStatus({ text: `exporting ${finding.id} to ${exporter.dir()}…`, tone: 'info', findingId: finding.id });
    exporter.write(finding).then(
      (result) => {
        // The first time, where the directory is and how to pick another.
        const where = exportsDone.current++ === 0 ? ` (in ${result.dir}; E chooses another directory)` : '';
        setStatus({ text: `${finding.id} evidence saved: ${result.files.join('  ')}${where}`, tone: 'ok', findingId: finding.id });
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof ExportError && !quitting.current) {
          // Ask for another directory at once, then export again.
          const back = view.current.pane === 'detail' ? 'detail' : 'table';
          view.current = { ...view.current, pane: 'export-dir', back, draft: exporter.dir(), exportAfterDir: true };
        }
        setStatus({ text: `export failed: ${message}; type another directory (Enter exports there, Esc gives up)`, tone: 'error', findingId: null });
      },
    );
  };

  const runEffect = (effect: Effect) => {
    const current = store.getSnapshot();
    const selected = current.rows[current.selectedIndex] ?? null;
    switch (effect.type) {
      case 'move':
        store.move(effect.by, effect.wrap === true);
        return;
      case 'jump':
        store.moveTo(effect.to);
        return;
      case 'set-filter':
        store.setFilter(effect.text);
        return;
      case 'cycle-severity':
        store.cycleSeverity();
        return;
      case 'cycle-sort':
        store.cycleSort();
        return;
      case 'reverse-sort':
        store.reverseSort();
        return;
      case 'toggle-pause':
        store.togglePause();
        return;
      case 'toggle-follow':
        store.setFollow(!current.follow);
        return;
      case 'show-path': {
        if (selected === null) return;
        onCopy?.(selected.path);
        const names = selected.names.filter((name) => name !== selected.path);
        const copied = onCopy === undefined ? '' : ' (copied to the clipboard where the terminal allows OSC 52)';
        setStatus({ text: `${selected.id} ${selected.path}${names.length > 0 ? `  was ${names.join(' → ')}` : ''}${copied}`, tone: 'info', findingId: selected.id, whileSelected: true });
        return;
      }
      case 'export':
        if (selected !== null) runExport(selected);
        return;
      case 'set-export-dir':
        exporter?.setDir(effect.dir);
        setStatus({ text: `exports go to ${exporter?.dir() ?? effect.dir}`, tone: 'info', findingId: null });
        if (effect.thenExport && selected !== null) runExport(selected);
        return;
      case 'quit':
        if (quitting.current) return;
        quitting.current = true;
        onQuit?.(effect.how);
        exit();
        return;
      default:
        assertNever(effect);
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
      let step;
      if (action !== null) step = reduce(view.current, action, envNow());
      else if (key.type === 'char' && (pane === 'filter' || pane === 'export-dir')) step = typeText(view.current, key.char);
      else continue;
      view.current = step.state;
      for (const effect of step.effects) runEffect(effect);
    }
    redraw();
  };
  useKeys(onKeys);

  const state = view.current;
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
        <HelpScreen width={columns} height={layout.body} scroll={state.helpScroll} quitNote={quit.note} />
      ) : shownPane === 'detail' && selected !== null ? (
        <DetailPane finding={selected} width={columns} height={layout.body} scroll={detailScroll} highlight={snapshot.filterText} />
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
        <EditorBar label="filter (path text or pid): " text={state.draft} width={columns} />
      ) : pane === 'export-dir' ? (
        <EditorBar label="export to directory: " text={state.draft} width={columns} />
      ) : pane === 'quit' ? (
        <QuitQuestion program={quit.program} detach={quit.detach} width={columns} />
      ) : (
        <HintBar pane={pane} width={columns} />
      )}
    </Box>
  );
}

/** A message about a finding is dropped once that finding is no longer in the list (a full path: no longer selected). */
function visibleStatus(status: Status | null, snapshot: TuiSnapshot): Status | null {
  if (status === null || status.findingId === null) return status;
  if (status.whileSelected === true) return snapshot.selectedId === status.findingId ? status : null;
  return snapshot.rows.some((row) => row.id === status.findingId) ? status : null;
}

interface TitlePart extends LinePart {
  strong?: boolean;
}

export function titleParts(snapshot: TuiSnapshot, pane: Pane): TitlePart[] {
  const counts = snapshot.rowCounts;
  const shown = snapshot.rows.length === snapshot.totalFindings ? formatCount(snapshot.totalFindings) : `${formatCount(snapshot.rows.length)} of ${formatCount(snapshot.totalFindings)}`;
  const parts: TitlePart[] = [
    { text: `findings ${shown}`, priority: 100 },
    { text: `(${formatCount(counts.error)} ${SEVERITY_WORD.error}, ${formatCount(counts.warning)} ${SEVERITY_WORD.warning}, ${formatCount(counts.info)} ${SEVERITY_WORD.info})`, priority: 40, gapBefore: ' ' },
  ];
  if (snapshot.selectedIndex >= 0) parts.push({ text: `${pane === 'detail' ? `${snapshot.rows[snapshot.selectedIndex]!.id}, ` : ''}row ${formatCount(snapshot.selectedIndex + 1)} of ${formatCount(snapshot.rows.length)}`, priority: 90 });
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
  return 'no mapping outlived its file';
}


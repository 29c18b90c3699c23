// The TUI's root: lays out the views for the terminal's size, owns the
// view-only state (which pane has the keyboard, the detail's scroll, a status
// message), and turns keymap actions into store calls. Everything it shows
// comes from the store's snapshot.
import { useEffect, useRef, useState } from 'react';
import { Box, Text, useApp } from 'ink';
import type { Finding } from '../engine/findings.js';
import { assertNever } from '../parse/events.js';
import { Chart } from './components/Chart.js';
import { DetailPane, detailView } from './components/DetailPane.js';
import { FindingsTable } from './components/FindingsTable.js';
import { Header } from './components/Header.js';
import { HelpScreen } from './components/HelpScreen.js';
import { FilterBar, HintBar, StatusLine } from './components/HintBar.js';
import { usePaneKeys, useSnapshot, useTerminalSize, type KeyPress } from './hooks.js';
import { resolveKey, type Action, type Pane } from './keymap.js';
import type { TuiSnapshot, TuiStore } from './store.js';
import { SEVERITY_WORD } from '../report/finding-view.js';
import { escapeControl } from '../report/sanitize.js';

export interface AppProps {
  store: TuiStore;
  /** Fixed size (tests); by default the terminal's, less one row so ink never scrolls. */
  width?: number;
  height?: number;
  /** Called once when the user quits, before the app exits (live: detach the tracer). */
  onQuit?: () => void;
  /** Writes the finding's evidence; resolves to the paths written. */
  onExport?: (finding: Finding) => Promise<string[]>;
}

const HEADER_ROWS = 3;
const CHART_ROWS = 2;

export function App({ store, width, height, onQuit, onExport }: AppProps) {
  const snapshot = useSnapshot(store);
  const terminal = useTerminalSize();
  const { exit } = useApp();
  const columns = width ?? terminal.columns;
  const rows = height ?? Math.max(10, terminal.rows - 1);

  const [pane, setPaneState] = useState<Pane>('table');
  // Keys can arrive faster than frames (a paste, a busy machine): the pane a
  // key belongs to is the one the previous key left us in, not the rendered one.
  const paneRef = useRef<Pane>('table');
  const setPane = (next: Pane) => {
    paneRef.current = next;
    setPaneState(next);
  };
  const [helpFrom, setHelpFrom] = useState<Pane>('table');
  const [detailScroll, setDetailScroll] = useState<number | null>(null);
  const [status, setStatus] = useState<{ text: string; tone: 'ok' | 'error' } | null>(null);

  useEffect(() => {
    const clock = setInterval(() => store.tick(), 1000);
    clock.unref?.();
    return () => clearInterval(clock);
  }, [store]);

  const showChart = rows >= 20;
  const statusRows = status === null ? 0 : 1;
  const bodyRows = Math.max(3, rows - HEADER_ROWS - (showChart ? CHART_ROWS : 0) - 1 - statusRows - 1);
  const selected = snapshot.rows[snapshot.selectedIndex] ?? null;

  const onAction = (action: Action): void => {
    const pane = paneRef.current;
    const current = store.getSnapshot();
    const selected = current.rows[current.selectedIndex] ?? null;
    switch (action.type) {
      case 'move':
      case 'page': {
        const by = action.type === 'page' ? action.by * Math.max(1, bodyRows - 2) : action.by;
        if (pane === 'detail' && selected !== null) {
          const view = detailView(selected, columns, bodyRows, detailScroll);
          setDetailScroll(Math.max(0, Math.min(view.rows.length - view.room, view.top + by)));
        } else {
          store.move(by);
        }
        return;
      }
      case 'jump':
        store.moveTo(action.to);
        return;
      case 'open-detail':
        if (selected === null) return;
        setDetailScroll(null);
        setPane('detail');
        return;
      case 'close':
        setPane(pane === 'help' ? helpFrom : 'table');
        return;
      case 'edit-filter':
        setPane('filter');
        return;
      case 'apply-filter':
        setPane('table');
        return;
      case 'cancel-filter':
        store.setFilter('');
        setPane('table');
        return;
      case 'cycle-severity':
        store.cycleSeverity();
        return;
      case 'cycle-sort':
        store.cycleSort();
        return;
      case 'toggle-pause':
        store.togglePause();
        return;
      case 'export': {
        if (selected === null || onExport === undefined) return;
        setStatus({ text: `exporting ${selected.id}…`, tone: 'ok' });
        onExport(selected).then(
          (paths) => setStatus({ text: `${selected.id} evidence saved: ${paths.join('  ')}`, tone: 'ok' }),
          (error: unknown) => setStatus({ text: `export failed: ${error instanceof Error ? error.message : String(error)}`, tone: 'error' }),
        );
        return;
      }
      case 'toggle-help':
        if (pane === 'help') setPane(helpFrom);
        else {
          setHelpFrom(pane);
          setPane('help');
        }
        return;
      case 'quit':
        onQuit?.();
        exit();
        return;
      default:
        assertNever(action);
    }
  };

  const onFilterText = (input: string, key: KeyPress): void => {
    // The store's text, not the rendered one: keys can arrive faster than frames.
    const text = store.getSnapshot().filterText;
    if (key.backspace || key.delete) store.setFilter(text.slice(0, -1));
    else if (!key.ctrl && !key.meta && input.length > 0) store.setFilter(text + input);
  };

  const onKey = (input: string, key: KeyPress): void => {
    // Keys typed faster than stdin is read arrive as one string ("jjj"), as a
    // paste does: outside the filter's text, each character is its own key.
    if (input.length > 1 && paneRef.current !== 'filter' && !key.ctrl && !key.meta) {
      for (const char of input) {
        // Enter inside such a run is a character too ("jjj\r"), not a named key of its own.
        if (char === '\r' || char === '\n') onKey('', { ...key, return: true });
        else onKey(char, key);
      }
      return;
    }
    const action = resolveKey(paneRef.current, input, key);
    if (action !== null) onAction(action);
    else if (paneRef.current === 'filter') onFilterText(input, key);
  };

  // One listener per pane, active only while that pane has the keyboard.
  usePaneKeys(pane === 'table', onKey);
  usePaneKeys(pane === 'detail', onKey);
  usePaneKeys(pane === 'help', onKey);
  usePaneKeys(pane === 'filter', onKey);

  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <Header snapshot={snapshot} width={columns} />
      {showChart ? <Chart series={snapshot.series} width={columns} peak={snapshot.peak} /> : null}
      <Text wrap="truncate" dimColor>{titleLine(snapshot, pane)}</Text>
      {pane === 'help' ? (
        <HelpScreen width={columns} height={bodyRows} />
      ) : pane === 'detail' && selected !== null ? (
        <DetailPane finding={selected} width={columns} height={bodyRows} scroll={detailScroll} />
      ) : (
        <FindingsTable rows={snapshot.rows} selectedIndex={snapshot.selectedIndex} width={columns} height={bodyRows} ages={snapshot.ages} empty={emptyText(snapshot)} />
      )}
      {status !== null ? <StatusLine text={status.text} tone={status.tone} /> : null}
      {pane === 'filter' ? <FilterBar text={snapshot.filterText} /> : <HintBar pane={pane} />}
    </Box>
  );
}

function titleLine(snapshot: TuiSnapshot, pane: Pane): string {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const row of snapshot.rows) counts[row.severity]++;
  const shown = snapshot.rows.length === snapshot.totalFindings ? `${snapshot.totalFindings}` : `${snapshot.rows.length} of ${snapshot.totalFindings}`;
  const parts = [
    `findings ${shown} (${counts.error} ${SEVERITY_WORD.error}, ${counts.warning} ${SEVERITY_WORD.warning}, ${counts.info} ${SEVERITY_WORD.info})`,
    `sort ${snapshot.sort}`,
    `severity ${snapshot.severity === 'all' ? 'all' : SEVERITY_WORD[snapshot.severity]}`,
  ];
  if (snapshot.filterText.length > 0 && pane !== 'filter') parts.push(`filter "${escapeControl(snapshot.filterText)}"`);
  return parts.join(' · ');
}

function emptyText(snapshot: TuiSnapshot): string {
  if (snapshot.totalFindings > 0) return 'no finding matches the filter (/ to change it, s for severity)';
  if (snapshot.phase === 'reading' || snapshot.phase === 'live') return 'no mapping has outlived its file yet';
  return 'no mapping outlived its file';
}

// What the App does besides drawing: the screen's geometry as the next key
// will find it (the environment view.ts's reducer needs), and the effects a
// key has on the store, the clipboard and the exporter. No React here: the
// App holds the state and calls these.
import type { Finding } from '../engine/findings.js';
import { escapedByte } from '../parse/byte-names.js';
import { escapeControl } from '../report/sanitize.js';
import { CHART_ROWS } from './components/Chart.js';
import { detailView } from './components/DetailPane.js';
import { helpGeometry } from './components/HelpScreen.js';
import { quitHeight, statusRows } from './components/HintBar.js';
import { ExportError, type ExportTarget } from './export.js';
import { errorText } from './listed.js';
import type { TuiSnapshot } from './snapshot.js';
import type { TuiStore } from './store.js';
import type { Effect, Status, StoreEffect, ViewEnv, ViewState } from './view.js';

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

export const DEFAULT_QUIT: QuitOptions = { asks: false, program: '', detach: { ok: true }, note: 'quits' };

const HEADER_ROWS = 3;
/** The pane's rows never go below this. */
const MIN_BODY = 3;

/** Rows of each part of the screen for a terminal size and what is showing. */
export function screenLayout(rows: number, columns: number, view: ViewState, quit: QuitOptions, status: Status | null) {
  const showChart = rows >= 20;
  const statusHeight = status === null ? 0 : statusRows(status.text, columns).length;
  const above = HEADER_ROWS + (showChart ? CHART_ROWS : 0) + 1 + statusHeight;
  // The question gets what the screen has left over a body of MIN_BODY rows.
  const bottom = view.pane === 'quit' ? quitHeight(quit.program, quit.detach, columns, rows - above - MIN_BODY) : 1;
  const body = Math.max(MIN_BODY, rows - above - bottom);
  return { showChart, body, statusHeight, bottom };
}

/** A message about a finding is dropped once that finding is no longer in the list (a full path: no longer selected). */
export function visibleStatus(status: Status | null, snapshot: TuiSnapshot): Status | null {
  if (status === null || status.findingId === null) return status;
  if (status.whileSelected === true) return snapshot.selectedId === status.findingId ? status : null;
  return snapshot.rows.some((row) => row.id === status.findingId) ? status : null;
}

/** The screen as the next key will find it: from the store's latest snapshot, not the rendered one. */
export function viewEnvOf(current: TuiSnapshot, state: ViewState, size: { rows: number; columns: number }, quit: QuitOptions, exportDir: string | null): ViewEnv {
  const layout = screenLayout(size.rows, size.columns, state, quit, visibleStatus(state.status, current));
  const selected = current.rows[current.selectedIndex] ?? null;
  let detail: ViewEnv['detail'] = null;
  // Only the detail's keys use its geometry: a key in the list reads no evidence.
  if (selected !== null && detailOnScreen(state)) {
    const scroll = state.detailFor === selected.id ? state.detailScroll : null;
    const geometry = detailView(selected, size.columns, layout.body, scroll, current.filterText, current.evidenceOf(selected), current.mapsLineOf(selected));
    detail = { rows: geometry.rows.length, room: geometry.room, top: geometry.top, matches: geometry.matches };
  }
  return {
    rowCount: current.rows.length,
    selectedId: selected?.id ?? null,
    filterText: current.filterText,
    pageRows: Math.max(1, layout.body - 1),
    detail,
    help: helpGeometry(size.columns, layout.body, quit.note, current.warnings),
    // Once the capture has ended there is nothing left to stop or leave running.
    quitAsks: quit.asks && current.phase !== 'ended',
    detach: quit.detach,
    exportDir,
  };
}

/** The detail is on screen: its own pane, or a line being edited (or the quit question) over it. */
function detailOnScreen(state: ViewState): boolean {
  return state.pane === 'detail' || ((state.pane === 'filter' || state.pane === 'export-dir' || state.pane === 'quit') && state.back === 'detail');
}

/** What each effect on the store does; a StoreEffect without an entry does not compile. */
const STORE_EFFECTS: { readonly [T in StoreEffect['type']]: (store: TuiStore, effect: Extract<StoreEffect, { type: T }>) => void } = {
  move: (store, effect) => store.move(effect.by, effect.wrap === true),
  jump: (store, effect) => store.moveTo(effect.to),
  'set-filter': (store, effect) => store.setFilter(effect.text),
  'cycle-severity': (store) => store.cycleSeverity(),
  'cycle-sort': (store) => store.cycleSort(),
  'reverse-sort': (store) => store.reverseSort(),
  'toggle-pause': (store) => store.togglePause(),
  'toggle-follow': (store) => store.setFollow(!store.getSnapshot().follow),
};

function isStoreEffect(effect: Effect): effect is StoreEffect {
  return Object.hasOwn(STORE_EFFECTS, effect.type);
}

/** An effect on the store alone: applied, and true; false for the effects the App handles itself. */
export function applyStoreEffect(store: TuiStore, effect: Effect): effect is StoreEffect {
  if (!isStoreEffect(effect)) return false;
  (STORE_EFFECTS[effect.type] as (store: TuiStore, effect: StoreEffect) => void)(store, effect);
  return true;
}

/** `y`: the full path, with its earlier names, said while the finding stays selected. */
export function pathStatus(finding: Finding, copied: boolean): Status {
  const names = finding.names.filter((name) => name !== finding.path);
  const was = names.length > 0 ? `  was ${names.join(' → ')}` : '';
  const how = clipboardPath(finding.path) === finding.path ? '' : ', quoted for a shell,';
  const where = copied ? ` (copied to the clipboard${how} where the terminal allows OSC 52)` : '';
  return { text: `${finding.id} ${finding.path}${was}${where}`, tone: 'info', findingId: finding.id, whileSelected: true };
}

/** Characters a shell takes as part of a word, whatever the shell: a path of these alone is copied as it is. */
const SHELL_WORD = /^[A-Za-z0-9_/.,:@%+=-]+$/;

/**
 * What `y` puts on the clipboard: the path, or, when it holds anything a
 * shell would act on, the path quoted as one word, which a shell gives back
 * exactly. A traced program chooses its file names: pasted raw, a newline
 * runs what follows, and ESC [201~ ends a bracketed paste early (review 21:
 * a name pasted after `ls -l ` in a root shell ran `touch`). Quoted, no
 * control character is ever on the clipboard: $'…' spells each one out.
 */
export function clipboardPath(path: string): string {
  if (SHELL_WORD.test(path)) return path;
  if (escapeControl(path) === path) return `'${path.replaceAll("'", `'\\''`)}'`;
  let quoted = "$'";
  for (const char of path) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === "'") quoted += `\\${char}`;
    else if (escapeControl(char) === char) quoted += char;
    // A byte of the name that is not UTF-8 (U+DC00 plus the byte, byte-names.ts): that one byte.
    else if (escapedByte(code) >= 0) quoted += `\\x${escapedByte(code).toString(16)}`;
    else if (code < 0x80) quoted += `\\x${code.toString(16).padStart(2, '0')}`;
    // bash writes \u and \U as the character's UTF-8 bytes: \xHH would be one byte.
    else quoted += code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${quoted}'`;
}

export interface ExportReport {
  status(status: Status): void;
  /** True for the session's first export saved: its message says where the files are and how to choose another directory. */
  firstSaved(): boolean;
  /** The directory could not be written: ask for another, then export again. */
  askForDirectory(): void;
}

/** `e`: writes the finding's evidence and says how it went. */
export function exportFinding(exporter: ExportTarget | undefined, finding: Finding, report: ExportReport): void {
  if (exporter === undefined) {
    report.status({ text: 'export is not available here', tone: 'error', findingId: null });
    return;
  }
  report.status({ text: `exporting ${finding.id} to ${exporter.dir()}…`, tone: 'info', findingId: finding.id });
  exporter.write(finding).then(
    (result) => {
      const where = report.firstSaved() ? ` (in ${result.dir}; E chooses another directory)` : '';
      report.status({ text: `${finding.id} evidence saved: ${result.files.join('  ')}${where}`, tone: 'ok', findingId: finding.id });
    },
    (error: unknown) => {
      const message = errorText(error);
      // Another directory helps only when this one could not be written (not when the trace cannot be read again for the evidence).
      const unwritable = error instanceof ExportError;
      if (unwritable) report.askForDirectory();
      report.status({ text: `export failed: ${message}${unwritable ? '; type another directory (Enter exports there, Esc gives up)' : ''}`, tone: 'error', findingId: null });
    },
  );
}

// What the screen shows besides the data: which pane has the keyboard, how
// far the detail and the help are scrolled, the line being edited, the status
// message. A pure reducer: an action and what the screen looks like now (the
// environment) in, the next state and the effects on the store out. The App
// keeps the state in a ref and applies each key to the state the previous key
// left, so keys that arrive faster than frames are never applied to a stale
// screen (a burst of six k moves six rows).
import { assertNever } from '../parse/events.js';
import type { Action, Pane } from './keymap.js';

export interface Status {
  text: string;
  tone: 'ok' | 'error' | 'info';
  /** A message about one finding disappears when that finding leaves the list. */
  findingId: string | null;
  /** ... or, for its full path (y), as soon as another finding is selected. */
  whileSelected?: boolean;
}

export interface ViewState {
  pane: Pane;
  /** Where help, the editors and the quit question return to. */
  back: 'table' | 'detail';
  /** First timeline row shown, for `detailFor`; null: placed so the orphaning line is in view. */
  detailScroll: number | null;
  detailFor: string | null;
  helpScroll: number;
  /** The text in the filter or directory editor. */
  draft: string;
  /** The filter when `/` was pressed, put back by Esc. */
  filterBefore: string;
  status: Status | null;
  /** The directory was asked for because an export failed: export again once it is chosen. */
  exportAfterDir: boolean;
}

/** What the reducer needs to know about the screen as it is now. */
export interface ViewEnv {
  rowCount: number;
  selectedId: string | null;
  filterText: string;
  /** Table rows on screen. */
  pageRows: number;
  /** The selected finding's timeline: its rows, the rows on screen, the first one shown, and the rows matching the filter. */
  detail: { rows: number; room: number; top: number; matches: readonly number[] } | null;
  help: { lines: number; room: number };
  /** `q` asks before quitting (live -- CMD). */
  quitAsks: boolean;
  /** Detach is possible, or why not. */
  detach: { ok: true } | { ok: false; why: string };
  exportDir: string | null;
}

export type Effect =
  | { type: 'move'; by: number; wrap?: boolean }
  | { type: 'jump'; to: 'first' | 'last' }
  | { type: 'set-filter'; text: string }
  | { type: 'cycle-severity' }
  | { type: 'cycle-sort' }
  | { type: 'reverse-sort' }
  | { type: 'toggle-pause' }
  | { type: 'toggle-follow' }
  | { type: 'show-path' }
  | { type: 'export' }
  | { type: 'set-export-dir'; dir: string; thenExport: boolean }
  | { type: 'quit'; how: 'plain' | 'stop' | 'detach' };

export const INITIAL_VIEW: ViewState = {
  pane: 'table', back: 'table', detailScroll: null, detailFor: null, helpScroll: 0,
  draft: '', filterBefore: '', status: null, exportAfterDir: false,
};

export interface Step {
  state: ViewState;
  effects: Effect[];
}

export function reduce(state: ViewState, action: Action, env: ViewEnv): Step {
  const pane = state.pane;
  const next = (patch: Partial<ViewState>, ...effects: Effect[]): Step => ({ state: { ...state, ...patch }, effects });
  const none: Step = { state, effects: [] };
  switch (action.type) {
    case 'move':
    case 'page':
    case 'scroll': {
      const by = action.type === 'move' ? action.by : action.type === 'scroll' ? action.by : action.by * Math.max(1, pageOf(pane, env) - 1);
      if (pane === 'help') return next({ helpScroll: clamp(state.helpScroll + by, 0, Math.max(0, env.help.lines - env.help.room)) });
      if (pane === 'detail') return env.detail === null ? none : next({ detailScroll: clamp(env.detail.top + by, 0, Math.max(0, env.detail.rows - env.detail.room)), detailFor: env.selectedId });
      return next({}, { type: 'move', by });
    }
    case 'jump':
      if (pane === 'help') return next({ helpScroll: action.to === 'first' ? 0 : Math.max(0, env.help.lines - env.help.room) });
      if (pane === 'detail') {
        if (env.detail === null) return none;
        return next({ detailScroll: action.to === 'first' ? 0 : Math.max(0, env.detail.rows - env.detail.room), detailFor: env.selectedId });
      }
      return next({}, { type: 'jump', to: action.to });
    case 'match': {
      if (env.filterText.trim() === '') return next({ status: { text: 'no filter: / to type one, then n and N go from match to match', tone: 'info', findingId: null } });
      if (pane === 'detail') {
        const detail = env.detail;
        if (detail === null || detail.matches.length === 0) return next({ status: { text: `no line of this timeline contains "${env.filterText}"`, tone: 'info', findingId: null } });
        const target = action.by > 0
          ? (detail.matches.find((row) => row > detail.top) ?? detail.matches[0]!)
          : ([...detail.matches].reverse().find((row) => row < detail.top) ?? detail.matches[detail.matches.length - 1]!);
        return next({ detailScroll: clamp(target, 0, Math.max(0, detail.rows - detail.room)), detailFor: env.selectedId });
      }
      // Every row of a filtered list matches: n and N step through them and wrap round.
      return env.rowCount === 0 ? none : next({}, { type: 'move', by: action.by, wrap: true });
    }
    case 'open-detail':
      if (env.selectedId === null) return none;
      return next({ pane: 'detail', detailScroll: null, detailFor: env.selectedId });
    case 'close':
      if (pane === 'help') return next({ pane: state.back });
      if (pane === 'detail') return next({ pane: 'table' });
      // In the list, Esc takes the filter away.
      return env.filterText === '' ? none : next({}, { type: 'set-filter', text: '' });
    case 'edit-filter':
      // A new filter each time, as / does in less; Esc puts the old one back.
      return next({ pane: 'filter', back: pane === 'detail' ? 'detail' : 'table', draft: '', filterBefore: env.filterText }, { type: 'set-filter', text: '' });
    case 'apply-filter':
      return next({ pane: state.back === 'detail' && env.selectedId !== null ? 'detail' : 'table' });
    case 'cancel-filter':
      return next({ pane: state.back === 'detail' && env.selectedId !== null ? 'detail' : 'table', draft: state.filterBefore }, { type: 'set-filter', text: state.filterBefore });
    case 'delete-char':
    case 'clear-line':
    case 'delete-word': {
      const draft = action.type === 'clear-line' ? '' : action.type === 'delete-word' ? deleteWord(state.draft) : [...state.draft].slice(0, -1).join('');
      return pane === 'filter' ? next({ draft }, { type: 'set-filter', text: draft }) : next({ draft });
    }
    case 'cycle-severity':
      return next({}, { type: 'cycle-severity' });
    case 'cycle-sort':
      return next({}, { type: 'cycle-sort' });
    case 'reverse-sort':
      return next({}, { type: 'reverse-sort' });
    case 'toggle-pause':
      return next({}, { type: 'toggle-pause' });
    case 'toggle-follow':
      return next({}, { type: 'toggle-follow' });
    case 'show-path':
      if (env.selectedId === null) return next({ status: { text: 'no finding selected', tone: 'info', findingId: null } });
      return next({}, { type: 'show-path' });
    case 'export':
      if (env.selectedId === null) {
        return next({ status: { text: env.rowCount === 0 ? 'nothing to export: the list is empty (s and / change what it shows)' : 'no finding selected', tone: 'info', findingId: null } });
      }
      return next({}, { type: 'export' });
    case 'choose-export-dir':
      return next({ pane: 'export-dir', back: pane === 'detail' ? 'detail' : 'table', draft: env.exportDir ?? '', exportAfterDir: false });
    case 'apply-export-dir': {
      const dir = state.draft.trim();
      if (dir === '') return next({ status: { text: 'type a directory, or Esc to keep the one there was', tone: 'info', findingId: null } });
      return next({ pane: state.back, exportAfterDir: false }, { type: 'set-export-dir', dir, thenExport: state.exportAfterDir });
    }
    case 'cancel-export-dir':
      return next({ pane: state.back, exportAfterDir: false });
    case 'toggle-help':
      if (pane === 'help') return next({ pane: state.back });
      return next({ pane: 'help', back: pane === 'detail' ? 'detail' : 'table', helpScroll: 0 });
    case 'quit':
      if (!env.quitAsks) return next({}, { type: 'quit', how: 'plain' });
      return next({ pane: 'quit', back: pane === 'detail' ? 'detail' : 'table' });
    case 'quit-stop':
      return next({}, { type: 'quit', how: 'stop' });
    case 'quit-detach':
      if (!env.detach.ok) return next({ status: { text: `detach is not offered: ${env.detach.why}`, tone: 'info', findingId: null } });
      return next({}, { type: 'quit', how: 'detach' });
    case 'quit-cancel':
      return next({ pane: state.back });
    default:
      return assertNever(action);
  }
}

/** A printable key typed into the filter or the directory editor. */
export function typeText(state: ViewState, text: string): Step {
  if (state.pane !== 'filter' && state.pane !== 'export-dir') return { state, effects: [] };
  const draft = state.draft + text;
  return { state: { ...state, draft }, effects: state.pane === 'filter' ? [{ type: 'set-filter', text: draft }] : [] };
}

/** Ctrl-W as readline's unix-filename-rubout: the blanks or slashes before the cursor, then the word before them. */
export function deleteWord(text: string): string {
  let end = text.length;
  while (end > 0 && /[\s/]/.test(text[end - 1]!)) end--;
  while (end > 0 && !/[\s/]/.test(text[end - 1]!)) end--;
  return text.slice(0, end);
}

function pageOf(pane: Pane, env: ViewEnv): number {
  if (pane === 'help') return env.help.room;
  if (pane === 'detail') return env.detail?.room ?? 1;
  return env.pageRows;
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}


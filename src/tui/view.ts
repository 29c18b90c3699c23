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

/** Actions the reducer passes on unchanged, as effects on the store or the App. */
type PassedOn = Extract<Action, { type: 'jump' | 'cycle-severity' | 'cycle-sort' | 'reverse-sort' | 'toggle-pause' | 'toggle-follow' | 'show-path' | 'export' }>;

export type Effect =
  | PassedOn
  | { type: 'move'; by: number; wrap?: boolean }
  | { type: 'set-filter'; text: string }
  | { type: 'set-export-dir'; dir: string; thenExport: boolean }
  | { type: 'quit'; how: 'plain' | 'stop' | 'detach' };

/** The effects the App hands to the store (controller.ts's applyStoreEffect); the rest it handles itself. */
export type StoreEffect = Exclude<Effect, { type: 'show-path' | 'export' | 'set-export-dir' | 'quit' }>;

export const INITIAL_VIEW: ViewState = {
  pane: 'table',
  back: 'table',
  detailScroll: null,
  detailFor: null,
  helpScroll: 0,
  draft: '',
  filterBefore: '',
  status: null,
  exportAfterDir: false,
};

export interface Step {
  state: ViewState;
  effects: Effect[];
}

type ActionOf<T extends Action['type']> = Extract<Action, { type: T }>;

const step = (state: ViewState, patch: Partial<ViewState>, ...effects: Effect[]): Step => ({ state: { ...state, ...patch }, effects });
/** Nothing changes: the same state. */
const none = (state: ViewState): Step => ({ state, effects: [] });
const hint = (state: ViewState, text: string): Step => step(state, { status: { text, tone: 'info', findingId: null } });

export function reduce(state: ViewState, action: Action, env: ViewEnv): Step {
  switch (action.type) {
    case 'move':
    case 'page':
    case 'scroll':
    case 'jump':
      return scroll(state, action, env);
    case 'match':
      return match(state, action, env);
    case 'open-detail':
    case 'close':
    case 'toggle-help':
      return panes(state, action, env);
    case 'edit-filter':
    case 'apply-filter':
    case 'cancel-filter':
    case 'delete-char':
    case 'clear-line':
    case 'delete-word':
      return edit(state, action, env);
    case 'cycle-severity':
    case 'cycle-sort':
    case 'reverse-sort':
    case 'toggle-pause':
    case 'toggle-follow':
      return step(state, {}, action);
    case 'show-path':
    case 'export':
    case 'choose-export-dir':
    case 'apply-export-dir':
    case 'cancel-export-dir':
      return exporting(state, action, env);
    case 'quit':
    case 'quit-stop':
    case 'quit-detach':
    case 'quit-cancel':
      return quitting(state, action, env);
    default:
      return assertNever(action);
  }
}

/** j/k, pages, the wheel, g/G: the list's selection, or the detail's or the help's scroll. */
function scroll(state: ViewState, action: ActionOf<'move' | 'page' | 'scroll' | 'jump'>, env: ViewEnv): Step {
  const pane = state.pane;
  if (action.type === 'jump') {
    if (pane === 'help') return step(state, { helpScroll: action.to === 'first' ? 0 : Math.max(0, env.help.lines - env.help.room) });
    if (pane !== 'detail') return step(state, {}, action);
    if (env.detail === null) return none(state);
    return step(state, { detailScroll: action.to === 'first' ? 0 : Math.max(0, env.detail.rows - env.detail.room), detailFor: env.selectedId });
  }
  const by = action.type === 'page' ? action.by * Math.max(1, pageOf(pane, env) - 1) : action.by;
  if (pane === 'help') return step(state, { helpScroll: clamp(state.helpScroll + by, 0, Math.max(0, env.help.lines - env.help.room)) });
  if (pane !== 'detail') return step(state, {}, { type: 'move', by });
  if (env.detail === null) return none(state);
  return step(state, { detailScroll: clamp(env.detail.top + by, 0, Math.max(0, env.detail.rows - env.detail.room)), detailFor: env.selectedId });
}

/** n/N: the next row of a filtered list (wrapping round), or the next timeline line that matches. */
function match(state: ViewState, action: ActionOf<'match'>, env: ViewEnv): Step {
  if (env.filterText.trim() === '') return hint(state, 'no filter: / to type one, then n and N go from match to match');
  if (state.pane !== 'detail') return env.rowCount === 0 ? none(state) : step(state, {}, { type: 'move', by: action.by, wrap: true });
  const detail = env.detail;
  if (detail === null || detail.matches.length === 0) return hint(state, `no line of this timeline contains "${env.filterText}"`);
  const target =
    action.by > 0
      ? (detail.matches.find((row) => row > detail.top) ?? detail.matches[0]!)
      : ([...detail.matches].reverse().find((row) => row < detail.top) ?? detail.matches[detail.matches.length - 1]!);
  return step(state, { detailScroll: clamp(target, 0, Math.max(0, detail.rows - detail.room)), detailFor: env.selectedId });
}

function panes(state: ViewState, action: ActionOf<'open-detail' | 'close' | 'toggle-help'>, env: ViewEnv): Step {
  const pane = state.pane;
  switch (action.type) {
    case 'open-detail':
      return env.selectedId === null ? none(state) : step(state, { pane: 'detail', detailScroll: null, detailFor: env.selectedId });
    case 'close':
      if (pane === 'help') return step(state, { pane: state.back });
      if (pane === 'detail') return step(state, { pane: 'table' });
      // In the list, Esc takes the filter away.
      return env.filterText === '' ? none(state) : step(state, {}, { type: 'set-filter', text: '' });
    case 'toggle-help':
      if (pane === 'help') return step(state, { pane: state.back });
      return step(state, { pane: 'help', back: backOf(pane), helpScroll: 0 });
    default:
      return assertNever(action);
  }
}

/** The filter editor (`/`), and the keys that edit either editor's line. */
function edit(state: ViewState, action: ActionOf<'edit-filter' | 'apply-filter' | 'cancel-filter' | 'delete-char' | 'clear-line' | 'delete-word'>, env: ViewEnv): Step {
  const backTo = state.back === 'detail' && env.selectedId !== null ? 'detail' : 'table';
  switch (action.type) {
    case 'edit-filter':
      // A new filter each time, as / does in less; Esc puts the old one back.
      return step(state, { pane: 'filter', back: backOf(state.pane), draft: '', filterBefore: env.filterText }, { type: 'set-filter', text: '' });
    case 'apply-filter':
      return step(state, { pane: backTo });
    case 'cancel-filter':
      return step(state, { pane: backTo, draft: state.filterBefore }, { type: 'set-filter', text: state.filterBefore });
    case 'delete-char':
    case 'clear-line':
    case 'delete-word': {
      const draft = action.type === 'clear-line' ? '' : action.type === 'delete-word' ? deleteWord(state.draft) : [...state.draft].slice(0, -1).join('');
      return state.pane === 'filter' ? step(state, { draft }, { type: 'set-filter', text: draft }) : step(state, { draft });
    }
    default:
      return assertNever(action);
  }
}

/** y, e, and the export directory's editor (E). */
function exporting(state: ViewState, action: ActionOf<'show-path' | 'export' | 'choose-export-dir' | 'apply-export-dir' | 'cancel-export-dir'>, env: ViewEnv): Step {
  switch (action.type) {
    case 'show-path':
      return env.selectedId === null ? hint(state, 'no finding selected') : step(state, {}, action);
    case 'export':
      if (env.selectedId !== null) return step(state, {}, action);
      return hint(state, env.rowCount === 0 ? 'nothing to export: the list is empty (s and / change what it shows)' : 'no finding selected');
    case 'choose-export-dir':
      return step(state, { pane: 'export-dir', back: backOf(state.pane), draft: env.exportDir ?? '', exportAfterDir: false });
    case 'apply-export-dir': {
      const dir = state.draft.trim();
      if (dir === '') return hint(state, 'type a directory, or Esc to keep the one there was');
      return step(state, { pane: state.back, exportAfterDir: false }, { type: 'set-export-dir', dir, thenExport: state.exportAfterDir });
    }
    case 'cancel-export-dir':
      return step(state, { pane: state.back, exportAfterDir: false });
    default:
      return assertNever(action);
  }
}

/** q, and the question it asks in `live -- CMD`. */
function quitting(state: ViewState, action: ActionOf<'quit' | 'quit-stop' | 'quit-detach' | 'quit-cancel'>, env: ViewEnv): Step {
  switch (action.type) {
    case 'quit':
      return env.quitAsks ? step(state, { pane: 'quit', back: backOf(state.pane) }) : step(state, {}, { type: 'quit', how: 'plain' });
    case 'quit-stop':
      return step(state, {}, { type: 'quit', how: 'stop' });
    case 'quit-detach':
      return env.detach.ok ? step(state, {}, { type: 'quit', how: 'detach' }) : hint(state, `detach is not offered: ${env.detach.why}`);
    case 'quit-cancel':
      return step(state, { pane: state.back });
    default:
      return assertNever(action);
  }
}

/** Where help, an editor or the question returns to. */
function backOf(pane: Pane): 'table' | 'detail' {
  return pane === 'detail' ? 'detail' : 'table';
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

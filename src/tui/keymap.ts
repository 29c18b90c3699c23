// One table of key bindings: it dispatches input and it draws the help
// screen, so the two cannot disagree. No ink import: `KeyState` is the part of
// ink's Key this needs, and the table is testable without a terminal.
import { assertNever } from '../parse/events.js';

/** The pane that has the keyboard. Only its bindings are live. */
export type Pane = 'table' | 'detail' | 'help' | 'filter';

export type Action =
  | { type: 'move'; by: number }
  | { type: 'page'; by: 1 | -1 }
  | { type: 'jump'; to: 'first' | 'last' }
  | { type: 'open-detail' }
  | { type: 'close' }
  | { type: 'edit-filter' }
  | { type: 'apply-filter' }
  | { type: 'cancel-filter' }
  | { type: 'cycle-severity' }
  | { type: 'cycle-sort' }
  | { type: 'toggle-pause' }
  | { type: 'export' }
  | { type: 'toggle-help' }
  | { type: 'quit' };

/** The fields of ink's Key that bindings look at. */
export interface KeyState {
  upArrow: boolean;
  downArrow: boolean;
  pageUp: boolean;
  pageDown: boolean;
  home: boolean;
  end: boolean;
  return: boolean;
  escape: boolean;
  ctrl: boolean;
}

type NamedKey = 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape';

export type KeySpec =
  | { type: 'char'; char: string; label?: string }
  | { type: 'ctrl'; char: string }
  | { type: 'named'; name: NamedKey };

export interface Binding {
  keys: KeySpec[];
  action: Action;
  description: string;
  /** A word for the one-line hint bar; bindings without one are only in the help. */
  hint?: string;
  panes: Pane[];
}

const char = (c: string, label?: string): KeySpec => (label === undefined ? { type: 'char', char: c } : { type: 'char', char: c, label });
const ctrl = (c: string): KeySpec => ({ type: 'ctrl', char: c });
const named = (name: NamedKey): KeySpec => ({ type: 'named', name });

const LISTS: Pane[] = ['table', 'detail'];

export const KEYMAP: readonly Binding[] = [
  { keys: [named('downArrow'), char('j')], action: { type: 'move', by: 1 }, description: 'next finding (in detail: scroll the timeline)', hint: 'move', panes: LISTS },
  { keys: [named('upArrow'), char('k')], action: { type: 'move', by: -1 }, description: 'previous finding (in detail: scroll the timeline)', hint: 'move', panes: LISTS },
  { keys: [named('pageDown')], action: { type: 'page', by: 1 }, description: 'one screen down', panes: LISTS },
  { keys: [named('pageUp')], action: { type: 'page', by: -1 }, description: 'one screen up', panes: LISTS },
  { keys: [named('home'), char('g')], action: { type: 'jump', to: 'first' }, description: 'first finding', panes: ['table'] },
  { keys: [named('end'), char('G')], action: { type: 'jump', to: 'last' }, description: 'last finding', panes: ['table'] },
  { keys: [named('return')], action: { type: 'open-detail' }, description: "open the finding's detail: its file's timeline", hint: 'detail', panes: ['table'] },
  { keys: [named('escape')], action: { type: 'close' }, description: 'close the detail or help', hint: 'close', panes: ['detail', 'help'] },
  { keys: [char('/')], action: { type: 'edit-filter' }, description: 'filter by path text or pid', hint: 'filter', panes: ['table'] },
  { keys: [named('return')], action: { type: 'apply-filter' }, description: 'keep the filter', hint: 'keep', panes: ['filter'] },
  { keys: [named('escape')], action: { type: 'cancel-filter' }, description: 'clear the filter', hint: 'clear', panes: ['filter'] },
  { keys: [char('s')], action: { type: 'cycle-severity' }, description: 'severity shown: all → error → warning → benign', hint: 'severity', panes: ['table'] },
  { keys: [char('o')], action: { type: 'cycle-sort' }, description: 'sort by: id → severity → size → age → path', hint: 'sort', panes: ['table'] },
  { keys: [char(' ', 'space'), char('p')], action: { type: 'toggle-pause' }, description: 'pause/resume the view (capture goes on, nothing is lost)', hint: 'pause', panes: LISTS },
  { keys: [char('e')], action: { type: 'export' }, description: "export the finding's evidence to Markdown and Jira files", hint: 'export', panes: LISTS },
  { keys: [char('?')], action: { type: 'toggle-help' }, description: 'this help', hint: 'help', panes: ['table', 'detail', 'help'] },
  { keys: [char('q'), ctrl('c')], action: { type: 'quit' }, description: 'quit (a live capture detaches)', hint: 'quit', panes: ['table', 'detail', 'help'] },
  { keys: [ctrl('c')], action: { type: 'quit' }, description: 'quit', panes: ['filter'] },
];

export function matches(spec: KeySpec, input: string, key: KeyState): boolean {
  switch (spec.type) {
    case 'char':
      return !key.ctrl && input === spec.char;
    case 'ctrl':
      return key.ctrl && input.toLowerCase() === spec.char;
    case 'named':
      return key[spec.name];
    default:
      return assertNever(spec);
  }
}

/** The action bound to a key press in a pane, or null. */
export function resolveKey(pane: Pane, input: string, key: KeyState): Action | null {
  for (const binding of KEYMAP) {
    if (!binding.panes.includes(pane)) continue;
    if (binding.keys.some((spec) => matches(spec, input, key))) return binding.action;
  }
  return null;
}

const NAMED_LABELS: Readonly<Record<NamedKey, string>> = {
  upArrow: '↑', downArrow: '↓', pageUp: 'PgUp', pageDown: 'PgDn', home: 'Home', end: 'End', return: 'Enter', escape: 'Esc',
};

export function keyLabel(spec: KeySpec): string {
  switch (spec.type) {
    case 'char':
      return spec.label ?? spec.char;
    case 'ctrl':
      return `Ctrl-${spec.char.toUpperCase()}`;
    case 'named':
      return NAMED_LABELS[spec.name];
    default:
      return assertNever(spec);
  }
}

export function bindingLabel(binding: Binding): string {
  return binding.keys.map(keyLabel).join(' ');
}

/** Bindings of a pane, for the help screen and the hint bar (each action once). */
export function bindingsFor(pane: Pane): Binding[] {
  const seen = new Set<string>();
  return KEYMAP.filter((binding) => {
    if (!binding.panes.includes(pane)) return false;
    const id = JSON.stringify(binding.action);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

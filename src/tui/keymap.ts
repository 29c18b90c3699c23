// One table of key bindings: it dispatches input and it draws the help
// screen and the hint bar, so they cannot disagree. No ink import: keys come
// from keys.ts, and the table is testable without a terminal.
import { assertNever } from '../parse/events.js';
import type { Key, KeyName } from './keys.js';

/**
 * The pane that has the keyboard. Only its bindings are live.
 *   filter, export-dir  one-line editors: unbound printable keys are typed into them
 *   quit                the question `q` asks in `live -- CMD`: stop, detach or cancel
 */
export type Pane = 'table' | 'detail' | 'help' | 'filter' | 'export-dir' | 'quit';

export type Action =
  | { type: 'move'; by: 1 | -1 }
  | { type: 'page'; by: 1 | -1 }
  | { type: 'jump'; to: 'first' | 'last' }
  | { type: 'scroll'; by: number }
  | { type: 'match'; by: 1 | -1 }
  | { type: 'open-detail' }
  | { type: 'close' }
  | { type: 'edit-filter' }
  | { type: 'apply-filter' }
  | { type: 'cancel-filter' }
  | { type: 'delete-char' }
  | { type: 'clear-line' }
  | { type: 'delete-word' }
  | { type: 'cycle-severity' }
  | { type: 'cycle-sort' }
  | { type: 'reverse-sort' }
  | { type: 'toggle-pause' }
  | { type: 'toggle-follow' }
  | { type: 'show-path' }
  | { type: 'export' }
  | { type: 'choose-export-dir' }
  | { type: 'apply-export-dir' }
  | { type: 'cancel-export-dir' }
  | { type: 'toggle-help' }
  | { type: 'quit' }
  | { type: 'quit-stop' }
  | { type: 'quit-detach' }
  | { type: 'quit-cancel' };

export type KeySpec = { type: 'char'; char: string; label?: string } | { type: 'ctrl'; char: string } | { type: 'named'; name: KeyName } | { type: 'wheel' };

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
const named = (name: KeyName): KeySpec => ({ type: 'named', name });
const wheel: KeySpec = { type: 'wheel' };

const LISTS: Pane[] = ['table', 'detail'];
const SCROLLING: Pane[] = ['table', 'detail', 'help'];
const EDITORS: Pane[] = ['filter', 'export-dir'];

export const KEYMAP: readonly Binding[] = [
  { keys: [named('down'), char('j')], action: { type: 'move', by: 1 }, description: 'next finding (detail: scroll the timeline; help: scroll)', hint: 'move', panes: SCROLLING },
  { keys: [named('up'), char('k')], action: { type: 'move', by: -1 }, description: 'previous finding (detail: scroll the timeline; help: scroll)', hint: 'move', panes: SCROLLING },
  { keys: [named('pagedown'), ctrl('f')], action: { type: 'page', by: 1 }, description: 'one screen down', panes: SCROLLING },
  { keys: [named('pageup'), ctrl('b')], action: { type: 'page', by: -1 }, description: 'one screen up', panes: SCROLLING },
  { keys: [named('home'), char('g')], action: { type: 'jump', to: 'first' }, description: 'first finding (detail: top of the timeline; help: top)', panes: SCROLLING },
  { keys: [named('end'), char('G')], action: { type: 'jump', to: 'last' }, description: 'last finding (detail: end of the timeline; help: end)', panes: SCROLLING },
  { keys: [wheel], action: { type: 'scroll', by: 3 }, description: 'mouse wheel: three rows (with ORPHANMAP_MOUSE=1; without it most terminals send ↑/↓ for the wheel)', panes: SCROLLING },
  { keys: [named('return')], action: { type: 'open-detail' }, description: "open the finding's detail: its file's timeline", hint: 'detail', panes: ['table'] },
  { keys: [named('escape')], action: { type: 'close' }, description: 'close the detail or the help', hint: 'back', panes: ['detail', 'help'] },
  { keys: [named('escape')], action: { type: 'close' }, description: 'clear the filter', panes: ['table'] },
  { keys: [char('/')], action: { type: 'edit-filter' }, description: 'filter by path text or pid (a new filter; Esc puts the old one back)', hint: 'filter', panes: LISTS },
  { keys: [char('n')], action: { type: 'match', by: 1 }, description: 'next filter match (list: next row, wrapping round; detail: next timeline line that matches)', panes: LISTS },
  { keys: [char('N')], action: { type: 'match', by: -1 }, description: 'previous filter match', panes: LISTS },
  { keys: [named('return')], action: { type: 'apply-filter' }, description: 'keep the filter', hint: 'keep', panes: ['filter'] },
  { keys: [named('escape')], action: { type: 'cancel-filter' }, description: 'put back the filter as it was before /', hint: 'cancel', panes: ['filter'] },
  { keys: [named('backspace')], action: { type: 'delete-char' }, description: 'delete the last character', hint: 'delete', panes: EDITORS },
  { keys: [ctrl('u')], action: { type: 'clear-line' }, description: 'clear the line', hint: 'clear', panes: EDITORS },
  { keys: [ctrl('w')], action: { type: 'delete-word' }, description: 'delete the last word', hint: 'word', panes: EDITORS },
  { keys: [char('s')], action: { type: 'cycle-severity' }, description: 'severity shown: all → error → warning → benign', hint: 'severity', panes: ['table'] },
  { keys: [char('o')], action: { type: 'cycle-sort' }, description: 'sort: severity+age → age → size → path → pid → id', hint: 'sort', panes: ['table'] },
  { keys: [char('r')], action: { type: 'reverse-sort' }, description: 'reverse the sort order (▼ as listed, ▲ reversed)', panes: ['table'] },
  { keys: [char('f')], action: { type: 'toggle-follow' }, description: 'follow: select each new finding as it arrives (moving ends it)', panes: ['table'] },
  { keys: [char(' ', 'Space'), char('p')], action: { type: 'toggle-pause' }, description: 'pause/resume the view (the capture goes on, nothing is lost)', hint: 'pause', panes: LISTS },
  {
    keys: [char('y')],
    action: { type: 'show-path' },
    description: "show the finding's full path and copy it (OSC 52, where the terminal allows; shell-quoted if it must be)",
    hint: 'path',
    panes: LISTS,
  },
  { keys: [char('e')], action: { type: 'export' }, description: "export the finding's evidence to new Markdown and Jira files", hint: 'export', panes: LISTS },
  { keys: [char('E')], action: { type: 'choose-export-dir' }, description: 'choose the directory exports go to', panes: LISTS },
  { keys: [named('return')], action: { type: 'apply-export-dir' }, description: 'use this directory (and export)', hint: 'use', panes: ['export-dir'] },
  { keys: [named('escape')], action: { type: 'cancel-export-dir' }, description: 'keep the directory as it was', hint: 'cancel', panes: ['export-dir'] },
  { keys: [char('?'), named('f1')], action: { type: 'toggle-help' }, description: 'this help', hint: 'help', panes: ['table', 'detail', 'help'] },
  {
    keys: [char('q'), named('f10'), ctrl('c')],
    action: { type: 'quit' },
    description: 'quit; live -- CMD asks first: stop the program or leave it running (live --pid detaches: the process runs on)',
    hint: 'quit',
    panes: ['table', 'detail', 'help'],
  },
  { keys: [named('f10'), ctrl('c')], action: { type: 'quit' }, description: 'quit', panes: EDITORS },
  { keys: [char('s')], action: { type: 'quit-stop' }, description: 'stop: end the program (SIGTERM, SIGKILL after 3 s), finish the bundle, quit', hint: 'stop', panes: ['quit'] },
  { keys: [char('d')], action: { type: 'quit-detach' }, description: 'detach: stop tracing, leave the program running untraced, finish the bundle, quit', hint: 'detach', panes: ['quit'] },
  { keys: [char('c'), named('escape')], action: { type: 'quit-cancel' }, description: 'cancel: back to the findings; the capture goes on', hint: 'cancel', panes: ['quit'] },
];

export function matches(spec: KeySpec, key: Key): boolean {
  switch (spec.type) {
    case 'char':
      return key.type === 'char' && key.char === spec.char;
    case 'ctrl':
      return key.type === 'ctrl' && key.char === spec.char;
    case 'named':
      return key.type === 'named' && key.name === spec.name;
    case 'wheel':
      return key.type === 'wheel';
    default:
      return assertNever(spec);
  }
}

/** The action bound to a key in a pane, or null (in an editor, a printable key is then text). */
export function resolveKey(pane: Pane, key: Key): Action | null {
  for (const binding of KEYMAP) {
    if (!binding.panes.includes(pane)) continue;
    if (!binding.keys.some((spec) => matches(spec, key))) continue;
    // The wheel scrolls the way it turned.
    if (binding.action.type === 'scroll' && key.type === 'wheel') return { type: 'scroll', by: binding.action.by * key.by };
    return binding.action;
  }
  return null;
}

const NAMED_LABELS: Partial<Record<KeyName, string>> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  return: 'Enter',
  escape: 'Esc',
  backspace: 'Backspace',
  delete: 'Del',
  tab: 'Tab',
  insert: 'Ins',
};

export function keyLabel(spec: KeySpec): string {
  switch (spec.type) {
    case 'char':
      return spec.label ?? spec.char;
    case 'ctrl':
      return `Ctrl-${spec.char.toUpperCase()}`;
    case 'named':
      return NAMED_LABELS[spec.name] ?? spec.name.toUpperCase();
    case 'wheel':
      return 'Wheel';
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

/** The pane names the help uses. */
export const PANE_NAMES: Readonly<Record<Pane, string>> = {
  table: 'list',
  detail: 'detail',
  help: 'help',
  filter: 'filter',
  'export-dir': 'directory',
  quit: 'quit?',
};

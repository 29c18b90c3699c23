// The view reducer: each key applied to the state the previous key left.
import { describe, expect, it } from 'vitest';
import type { Action } from '../src/tui/keymap.js';
import { deleteWord, INITIAL_VIEW, reduce, typeText, type Effect, type ViewEnv, type ViewState } from '../src/tui/view.js';

function env(overrides: Partial<ViewEnv> = {}): ViewEnv {
  return {
    rowCount: 17,
    selectedId: 'F8',
    filterText: '',
    pageRows: 10,
    detail: { rows: 50, room: 8, top: 20, matches: [] },
    help: { lines: 60, room: 12 },
    quitAsks: false,
    detach: { ok: true },
    exportDir: './out',
    ...overrides,
  };
}

/** Apply actions in turn, as keys arriving in one read are. */
function run(state: ViewState, actions: Action[], environment: (state: ViewState) => ViewEnv = () => env()) {
  const effects: Effect[] = [];
  for (const action of actions) {
    const step = reduce(state, action, environment(state));
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

describe('view reducer', () => {
  it('scrolls the detail six rows for six k in a burst, each from where the last left it', () => {
    let top = 20;
    const detail = (state: ViewState) => env({ detail: { rows: 50, room: 8, top: state.detailScroll ?? top, matches: [] } });
    const opened = run(INITIAL_VIEW, [{ type: 'open-detail' }]).state;
    const { state } = run(opened, Array<Action>(6).fill({ type: 'move', by: -1 }), detail);
    expect(state.detailScroll).toBe(14);
    top = 14;
    expect(run(state, [{ type: 'jump', to: 'first' }], detail).state.detailScroll).toBe(0);
    expect(run(state, [{ type: 'jump', to: 'last' }], detail).state.detailScroll).toBe(42);
  });

  it('scrolls the help, clamped to its length', () => {
    const help = run(INITIAL_VIEW, [{ type: 'toggle-help' }]).state;
    expect(
      run(help, [
        { type: 'page', by: 1 },
        { type: 'page', by: 1 },
      ]).state.helpScroll,
    ).toBe(22);
    expect(run(help, [{ type: 'jump', to: 'last' }]).state.helpScroll).toBe(48);
    expect(run(help, [{ type: 'move', by: -1 }]).state.helpScroll).toBe(0);
  });

  it('moves the table through the store, one effect per key', () => {
    expect(
      run(INITIAL_VIEW, [
        { type: 'move', by: 1 },
        { type: 'move', by: 1 },
        { type: 'jump', to: 'last' },
      ]).effects,
    ).toEqual([
      { type: 'move', by: 1 },
      { type: 'move', by: 1 },
      { type: 'jump', to: 'last' },
    ]);
  });

  it('edits the filter: a new filter on /, Backspace, Ctrl-W, Ctrl-U, and Esc puts the old one back', () => {
    let state = run(INITIAL_VIEW, [{ type: 'edit-filter' }], () => env({ filterText: 'old' })).state;
    expect(state.pane).toBe('filter');
    expect(state.draft).toBe('');
    for (const c of 'topic-1/0000.index') state = typeText(state, c).state;
    const steps = run(state, [{ type: 'delete-char' }, { type: 'delete-word' }]);
    expect(steps.state.draft).toBe('topic-1/');
    expect(steps.effects.at(-1)).toEqual({ type: 'set-filter', text: 'topic-1/' });
    expect(run(steps.state, [{ type: 'clear-line' }]).state.draft).toBe('');
    const cancelled = run(steps.state, [{ type: 'cancel-filter' }]);
    expect(cancelled.state.pane).toBe('table');
    expect(cancelled.effects).toEqual([{ type: 'set-filter', text: 'old' }]);
  });

  it('deletes words as readline does for file names', () => {
    expect(deleteWord('timeindex.deleted')).toBe('');
    expect(deleteWord('topic-1/0000.index')).toBe('topic-1/');
    expect(deleteWord('topic-1/')).toBe('');
    expect(deleteWord('a b  ')).toBe('a ');
  });

  it('n and N wrap round the list, and go from matching line to matching line in the detail', () => {
    expect(run(INITIAL_VIEW, [{ type: 'match', by: 1 }], () => env({ filterText: 'x' })).effects).toEqual([{ type: 'move', by: 1, wrap: true }]);
    const detail = { ...INITIAL_VIEW, pane: 'detail' as const, detailFor: 'F8' };
    const withMatches = (state: ViewState) => env({ filterText: 'x', detail: { rows: 50, room: 8, top: state.detailScroll ?? 20, matches: [3, 25, 40] } });
    expect(run(detail, [{ type: 'match', by: 1 }], withMatches).state.detailScroll).toBe(25);
    expect(
      run(
        detail,
        [
          { type: 'match', by: 1 },
          { type: 'match', by: 1 },
        ],
        withMatches,
      ).state.detailScroll,
    ).toBe(40);
    expect(run(detail, [{ type: 'match', by: -1 }], withMatches).state.detailScroll).toBe(3);
    expect(run(INITIAL_VIEW, [{ type: 'match', by: 1 }]).state.status?.text).toMatch(/no filter/);
  });

  it('says so when e is pressed on an empty list', () => {
    const step = reduce(INITIAL_VIEW, { type: 'export' }, env({ rowCount: 0, selectedId: null }));
    expect(step.effects).toEqual([]);
    expect(step.state.status?.text).toMatch(/nothing to export: the list is empty/);
  });

  it('quits at once for a file, and asks in live -- CMD: stop, detach or cancel', () => {
    expect(run(INITIAL_VIEW, [{ type: 'quit' }]).effects).toEqual([{ type: 'quit', how: 'plain' }]);
    const asking = () => env({ quitAsks: true });
    const asked = run(INITIAL_VIEW, [{ type: 'quit' }], asking);
    expect(asked.state.pane).toBe('quit');
    expect(asked.effects).toEqual([]);
    expect(run(asked.state, [{ type: 'quit-cancel' }], asking).state.pane).toBe('table');
    expect(run(asked.state, [{ type: 'quit-stop' }], asking).effects).toEqual([{ type: 'quit', how: 'stop' }]);
    expect(run(asked.state, [{ type: 'quit-detach' }], asking).effects).toEqual([{ type: 'quit', how: 'detach' }]);
  });

  it('does not detach where the tracer would end the program, and says why', () => {
    const noDetach = () => env({ quitAsks: true, detach: { ok: false, why: 'strace --kill-on-exit' } });
    const asked = run(INITIAL_VIEW, [{ type: 'quit' }, { type: 'quit-detach' }], noDetach);
    expect(asked.effects).toEqual([]);
    expect(asked.state.pane).toBe('quit');
    expect(asked.state.status?.text).toBe('detach is not offered: strace --kill-on-exit');
  });

  it('asks for a directory with E and exports there after an export failed', () => {
    const asked = run(INITIAL_VIEW, [{ type: 'choose-export-dir' }]).state;
    expect(asked.pane).toBe('export-dir');
    expect(asked.draft).toBe('./out');
    let state = run(asked, [{ type: 'clear-line' }]).state;
    for (const c of '/tmp/x') state = typeText(state, c).state;
    const applied = run({ ...state, exportAfterDir: true }, [{ type: 'apply-export-dir' }]);
    expect(applied.state.pane).toBe('table');
    expect(applied.effects).toEqual([{ type: 'set-export-dir', dir: '/tmp/x', thenExport: true }]);
  });
});

describe('the command an export says reproduces the analysis', () => {
  it('is the command line without --tui', async () => {
    const { reproducingCommand } = await import('../src/tui/run.js');
    expect(reproducingCommand(['analyze', 'traces/f-o-ttt-T-y/trace.txt', '--tui', '--path', '*.index*'])).toBe("orphanmap analyze traces/f-o-ttt-T-y/trace.txt --path '*.index*'");
  });
});

// The TUI in a small terminal, 40x12 (review 11): ink draws 11 rows (one
// is left so it never scrolls). The quit question of `live -- CMD` lost the
// rows that carry its keys (its choices were squeezed into fewer rows than
// their wrapped descriptions, and the first row of each went), and the
// detail cut the file's path at the right edge where 80 columns wrap it.
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App, type AppProps } from '../src/tui/App.js';
import { TuiStore } from '../src/tui/store.js';
import { storeFromTrace } from './tui-fixture.js';
import { frameWhen } from './support/frame.js';

const ENTER = '\r';
const quit = { asks: true, program: 'leak (pid 4242)', detach: { ok: true as const }, note: 'asks' };

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

function mount(store: TuiStore, width: number, height: number, extra: Partial<AppProps> = {}) {
  const view = render(<App store={store} width={width} height={height} {...extra} />);
  unmount = view.unmount;
  const frame = () => view.lastFrame() ?? '';
  return { frame, send: (data: string) => view.stdin.write(data), until: (check: (text: string) => boolean, what: string) => frameWhen(frame, check, what) };
}

/** A live store holding the JVM trace's first findings, as `live -- CMD` shows them. */
function liveStore(): TuiStore {
  const store = new TuiStore({ source: { kind: 'live', pid: 4242, command: './leak work 8 1', backend: 'strace' }, throttleMs: 0 });
  const { store: full } = storeFromTrace();
  for (const finding of full.getSnapshot().rows.slice(0, 3)) store.change({ type: 'decided', finding });
  store.flush();
  return store;
}

describe('the TUI at 40x12', () => {
  it("q's question keeps each choice's key at the start of its row, within the screen", async () => {
    const { send, until } = mount(liveStore(), 40, 11, { quit });
    await until((text) => text.includes('q quit'), 'the findings');
    send('q');
    const asked = await until((text) => text.includes('Quit? orphanmap started leak'), 'the question');
    expect(asked.split('\n').length).toBeLessThanOrEqual(11);
    expect(asked).toMatch(/^s\s+stop: end the program/m);
    expect(asked).toMatch(/^d\s+detach: stop tracing/m);
    expect(asked).toMatch(/^c\/Esc\s+cancel: back to the findings/m);
  });

  it("q's question at 60x16 still wraps each description under its key", async () => {
    const { send, until } = mount(liveStore(), 60, 15, { quit });
    await until((text) => text.includes('q quit'), 'the findings');
    send('q');
    const asked = await until((text) => text.includes('Quit? orphanmap started leak'), 'the question');
    const lines = asked.split('\n');
    const stop = lines.findIndex((line) => /^s\s+stop: end the program/.test(line));
    expect(stop).toBeGreaterThan(0);
    expect(`${lines[stop]!.trimEnd()} ${lines[stop + 1]!.trim()}`).toMatch(/^s\s+stop: end the program \(SIGTERM, SIGKILL after 3 s\), finish the bundle, quit$/);
  });

  it("the detail shows the file's whole path, wrapped, as at 80 columns", async () => {
    const { store } = storeFromTrace();
    const { send, until } = mount(store, 40, 11);
    await until((text) => text.includes('› '), 'the findings');
    const path = store.getSnapshot().rows[0]!.path;
    const text = `file      ${path}`;
    expect(text.length).toBeGreaterThan(40);
    send(ENTER);
    const detail = await until((frame) => frame.includes('timeline of the file'), 'the detail');
    const lines = detail.split('\n');
    const first = lines.findIndex((line) => line.startsWith('file      '));
    const rows = Math.ceil(text.length / 40);
    expect(lines.slice(first, first + rows).join('')).toBe(text);
  });
});

// A store fed by the real parser and engine over a real trace, the way
// `analyze --tui` feeds it, without a terminal.
import { readFileSync } from 'node:fs';
import { Engine } from '../src/engine/engine.js';
import { engineFeed } from '../src/tui/feed.js';
import { TuiStore } from '../src/tui/store.js';
import { readStrace } from './helpers.js';

/** The JVM reproducer of the Kafka index leak: 8 resizes, 8 orphans, 1 hsperfdata. */
export const JVM_TRACE = new URL('../traces/f-o-ttt-T-y/trace.txt', import.meta.url).pathname;

export function storeFromTrace(path = JVM_TRACE, options: { clock?: () => number } = {}): { store: TuiStore; engine: Engine } {
  const text = readFileSync(path, 'utf8');
  const { events, diagnostics } = readStrace(text, 'trace.txt');
  const engine = new Engine();
  const store = new TuiStore({ source: { kind: 'file', names: ['trace.txt'] }, throttleMs: 0, ...options });
  const feed = engineFeed(store);
  for (const event of events) for (const change of engine.apply(event)) feed.onChange(change, engine);
  for (const change of engine.finish()) feed.onChange(change, engine);
  store.finish({ lines: text.split('\n').length - 1, unparsedLines: diagnostics.length });
  store.flush();
  return { store, engine };
}

// A store fed by the real parser and engine over a real trace, the way
// `analyze --tui` feeds it, without a terminal.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../src/ingest/analyze.js';
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

const TRACES = new URL('../traces/', import.meta.url).pathname;

/** Every bundled trace as `analyze` takes it: a trace.txt, a set of -ff files, or a bundle directory. */
export function bundledInputs(): { name: string; inputs: string[] }[] {
  const out: { name: string; inputs: string[] }[] = [];
  for (const entry of readdirSync(TRACES, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(TRACES, entry.name);
    const files = readdirSync(dir);
    if (files.includes('trace.txt')) out.push({ name: entry.name, inputs: [join(dir, 'trace.txt')] });
    else if (files.includes('bundle')) out.push({ name: entry.name, inputs: [join(dir, 'bundle')] });
    else {
      const ff = files.filter((file) => /^trace\.\d+$/.test(file)).map((file) => join(dir, file));
      if (ff.length > 0) out.push({ name: entry.name, inputs: ff });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A store fed by `analyze` itself, as `analyze --tui` feeds it (any input shape). */
export async function storeFromInputs(inputs: string[]): Promise<TuiStore> {
  const store = new TuiStore({ source: { kind: 'file', names: inputs }, throttleMs: 0 });
  const feed = engineFeed(store);
  const analysis = await analyze(inputs, { onChange: feed.onChange });
  feed.sample(analysis.engine);
  store.finish({ lines: analysis.lines, events: analysis.events, unparsedLines: analysis.unparsedLines });
  store.flush();
  return store;
}

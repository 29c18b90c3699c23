// Shared test helpers: run strace text through the real reader and engine.
import { Engine, type EngineChange, type EngineOptions } from '../../src/engine/engine.js';
import type { Diagnostic, TraceEvent } from '../../src/parse/events.js';
import { StraceReader, type ParseOutput } from '../../src/parse/strace.js';

/** Feed text to a line reader (strace or bpftrace) and sort what comes out. */
export function readLines(
  reader: { push(text: string, lineNo: number, out: ParseOutput[]): void; end(out: ParseOutput[]): void },
  text: string,
): { events: TraceEvent[]; diagnostics: Diagnostic[]; attached: number[]; out: ParseOutput[] } {
  const out: ParseOutput[] = [];
  text.split('\n').forEach((line, index) => {
    reader.push(line, index + 1, out);
  });
  reader.end(out);
  const events: TraceEvent[] = [];
  const diagnostics: Diagnostic[] = [];
  const attached: number[] = [];
  for (const item of out) {
    if (item.type === 'event') events.push(item.event);
    else if (item.type === 'diagnostic') diagnostics.push(item.diagnostic);
    else if (item.type === 'attached') attached.push(item.tid);
  }
  return { events, diagnostics, attached, out };
}

export function readStrace(text: string, file = 'trace.txt', defaultTid = 0): { events: TraceEvent[]; diagnostics: Diagnostic[] } {
  return readLines(new StraceReader(file, defaultTid), text);
}

/** Run strace text through the reader and the engine, as analyze does (attach messages included when asked). */
export function runEngine(text: string, options: EngineOptions = {}, withAttach = false): { engine: Engine; changes: EngineChange[]; diagnostics: Diagnostic[] } {
  const { diagnostics, out } = readLines(new StraceReader('trace.txt'), text);
  const engine = new Engine(options);
  const changes: EngineChange[] = [];
  for (const item of out) {
    if (item.type === 'event') changes.push(...engine.apply(item.event));
    else if (item.type === 'tid-known') engine.renameTask(item.from, item.tid);
    else if (item.type === 'attached' && withAttach) engine.noteAttached(item.tid);
  }
  changes.push(...engine.finish());
  return { engine, changes, diagnostics };
}

/** Strip a template literal's common indentation, so traces can be written inline. */
export function trace(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values);
  const lines = text
    .replace(/^\n/, '')
    .replace(/\n\s*$/, '')
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

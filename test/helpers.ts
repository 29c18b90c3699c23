// Shared test helpers: run strace text through the real reader and engine.
import { Engine, type EngineChange, type EngineOptions } from '../src/engine/engine.js';
import type { Diagnostic, TraceEvent } from '../src/parse/events.js';
import { StraceReader, type ParseOutput } from '../src/parse/strace.js';

export function readStrace(text: string, file = 'trace.txt', defaultTid = 0): { events: TraceEvent[]; diagnostics: Diagnostic[] } {
  const reader = new StraceReader(file, defaultTid);
  const out: ParseOutput[] = [];
  text.split('\n').forEach((line, index) => reader.push(line, index + 1, out));
  reader.end(out);
  const events: TraceEvent[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const item of out) {
    if (item.type === 'event') events.push(item.event);
    else if (item.type === 'diagnostic') diagnostics.push(item.diagnostic);
  }
  return { events, diagnostics };
}

/** Run strace text through the reader and the engine, as analyze does (attach messages included). */
export function runEngine(text: string, options: EngineOptions = {}, withAttach = false): { engine: Engine; changes: EngineChange[]; diagnostics: Diagnostic[] } {
  const reader = new StraceReader('trace.txt');
  const out: ParseOutput[] = [];
  text.split('\n').forEach((line, index) => reader.push(line, index + 1, out));
  reader.end(out);
  const engine = new Engine(options);
  const changes: EngineChange[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const item of out) {
    if (item.type === 'event') changes.push(...engine.apply(item.event));
    else if (item.type === 'diagnostic') diagnostics.push(item.diagnostic);
    else if (withAttach) engine.noteAttached(item.tid);
  }
  changes.push(...engine.finish());
  return { engine, changes, diagnostics };
}

/** Strip a template literal's common indentation, so traces can be written inline. */
export function trace(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values);
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

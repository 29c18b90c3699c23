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

/**
 * Kafka's index resize left behind, once for each name, as `strace -f -tt`
 * prints it: /data/NAME/0…0I.index (or `dirOf(name)`) opened, mapped, cut
 * down and mapped again without the first mapping's munmap, renamed to
 * .deleted and unlinked. The second mapping is unmapped before the unlink
 * when `unmapSecond`; `lineAfter` adds one more line (after its time) each. No -y
 * fd annotations: strace escapes < and > in them, and the reader does not yet
 * accept an unbalanced [ inside one (an ESC[31m in a name).
 */
export function resizeLeakTrace(names: readonly string[], options: { dirOf?: (name: string) => string; unmapSecond?: boolean; lineAfter?: (name: string) => string } = {}): string {
  const { dirOf = (name: string) => `/data/${name}`, unmapSecond = false, lineAfter } = options;
  const lines: string[] = [];
  let t = 0;
  const at = () => `10:00:00.${String(++t).padStart(6, '0')}`;
  names.forEach((name, i) => {
    const path = `${dirOf(name)}/0000000000000000000${i}.index`;
    const first = `0x7f00${(i * 2).toString(16).padStart(2, '0')}000000`;
    const second = `0x7f00${(i * 2 + 1).toString(16).padStart(2, '0')}000000`;
    lines.push(
      `100 ${at()} openat(AT_FDCWD, "${path}", O_RDWR|O_CREAT, 0666) = 3`,
      `100 ${at()} ftruncate(3, 10485760) = 0`,
      `100 ${at()} mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = ${first}`,
      `100 ${at()} ftruncate(3, 24) = 0`,
      `100 ${at()} mmap(NULL, 24, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = ${second}`,
      `100 ${at()} close(3) = 0`,
      `100 ${at()} rename("${path}", "${path}.deleted") = 0`,
    );
    if (unmapSecond) lines.push(`100 ${at()} munmap(${second}, 24) = 0`);
    lines.push(`100 ${at()} unlink("${path}.deleted") = 0`);
    if (lineAfter !== undefined) lines.push(`100 ${at()} ${lineAfter(name)}`);
  });
  return `${lines.join('\n')}\n`;
}

/** Names as strace prints them inside "…": markup of every kind, control characters, bidi, C1 and UTF-8, a slash, an escaped quote. */
export const HOSTILE_NAMES = [
  String.raw`a|b{c}[d]*e_f\`g\`<h>#i!j~k&l(m)n+o^p?q@r-s=t\\u`,
  String.raw`{noformat}x{code}y\`\`\`z\`\`\`\`{{mono}}`,
  String.raw`ctl\nnew\tline\33[31mred\33[0m\177`,
  'h2. heading',
  '1. list',
  'gpj.exe\u202e-orders',
  'c1\u009bcsi-\u2028sep-\ufeffbom',
  'données-€-😀',
  'hostile.txt',
  'kafka-logs/orders-3',
  String.raw`quote\"and\\back`,
  '.index',
];

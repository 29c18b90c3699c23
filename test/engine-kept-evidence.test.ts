// A file's evidence kept as numbers (src/engine/kept-evidence.ts, src/ingest/evidence.ts):
// each line's place in the input, its thread and where it prints its time, read back
// from the input when a report asks. What comes back must be the lines as they were.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvidenceLine } from '../src/engine/findings.js';
import { KeptEvidence } from '../src/engine/kept-evidence.js';
import { InputEvidence } from '../src/ingest/evidence.js';
import type { EventBase } from '../src/parse/events.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-kept-evidence-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An input of these lines, its places told to an InputEvidence as the line source would. */
function input(lines: string[]): InputEvidence {
  const path = join(scratch, `trace-${lines.length}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  const evidence = new InputEvidence('trace.txt', path);
  let offset = 0;
  lines.forEach((text, index) => {
    const bytes = Buffer.byteLength(text);
    evidence.line(index + 1, text.length, offset, bytes);
    offset += bytes + 1;
  });
  return evidence;
}

/** An event read from these lines (1-based) of `lines`, as a parser gives it. */
function event(keeper: InputEvidence | undefined, lines: string[], numbers: number[], fields: Partial<EventBase> = {}): EventBase {
  const texts = numbers.map((n) => lines[n - 1]!);
  return {
    place: { file: 'trace.txt', line: numbers[numbers.length - 1]! },
    time: null,
    seconds: null,
    tid: 0,
    raw: texts.join('\n'),
    ...(numbers.length > 1 ? { lines: numbers } : {}),
    ...(keeper === undefined ? {} : { keeper }),
    ...fields,
  };
}

describe('evidence kept as numbers', () => {
  it('reads back a line with its time, as printed, and its thread', () => {
    const lines = ['5959  17:41:43.090043 mmap(NULL, 24, PROT_READ, MAP_SHARED, 4</d/0.index>, 0) = 0x7f99c6a29000'];
    const source = input(lines);
    const kept = new KeptEvidence();
    kept.add(event(source, lines, [1], { time: lines[0]!.slice(6, 21), tid: 5959 }));
    expect(kept.lines()).toEqual<EvidenceLine[]>([{ file: 'trace.txt', line: 1, text: lines[0]!, time: '17:41:43.090043', tid: 5959 }]);
  });

  it('reads back both lines of an unfinished call and its resume, each with its own time', () => {
    const lines = [
      '12 10:00:00.000001 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</a>, 0 <unfinished ...>',
      '13 10:00:00.000002 close(4) = 0',
      '12 10:00:00.000003 <... mmap resumed>) = 0x7f0000000000',
    ];
    const source = input(lines);
    const kept = new KeptEvidence();
    kept.add(event(source, lines, [1, 3], { time: '10:00:00.000001', lineTimes: ['10:00:00.000001', '10:00:00.000003'], tid: 12 }));
    expect(kept.lines()).toEqual<EvidenceLine[]>([
      { file: 'trace.txt', line: 1, text: lines[0]!, time: '10:00:00.000001', tid: 12 },
      { file: 'trace.txt', line: 3, text: lines[2]!, time: '10:00:00.000003', tid: 12 },
    ]);
  });

  it('keeps as text a time the line does not print, and a thread id beyond Linux ids (its line kept whole)', () => {
    const lines = ['openat dir=0 path=a.dat fd=3', 'close fd=3', 'unlink path=a.dat'];
    const source = input(lines);
    const kept = new KeptEvidence();
    kept.add(event(source, lines, [1], { time: '0.000123', tid: 7 }));
    kept.add(event(source, lines, [2], { time: null, tid: 0 }));
    kept.add(event(source, lines, [3], { time: '0.000300', tid: 2 ** 22 }));
    expect(kept.lines()).toEqual<EvidenceLine[]>([
      { file: 'trace.txt', line: 1, text: lines[0]!, time: '0.000123', tid: 7 },
      { file: 'trace.txt', line: 2, text: lines[1]!, time: null, tid: null },
      { file: 'trace.txt', line: 3, text: lines[2]!, time: '0.000300', tid: 2 ** 22 },
    ]);
  });

  it('keeps the first 8 events and the last 40, in order, among events kept by number and by text', () => {
    const lines = Array.from({ length: 100 }, (_, k) => `${100 + k} 10:00:${String(k).padStart(2, '0')}.000000 close(${k}) = 0`);
    const source = input(lines);
    const kept = new KeptEvidence();
    for (let n = 1; n <= 100; n++) {
      // Every seventh event comes with no keeper (an engine test's), and is kept as itself.
      const keeper = n % 7 === 0 ? undefined : source;
      kept.add(event(keeper, lines, [n], { time: lines[n - 1]!.slice(4, 19), tid: 100 + n - 1 }));
    }
    const expected = [...Array.from({ length: 8 }, (_, k) => k + 1), ...Array.from({ length: 40 }, (_, k) => 61 + k)];
    expect(kept.lines()).toEqual(expected.map((n) => ({ file: 'trace.txt', line: n, text: lines[n - 1], time: lines[n - 1]!.slice(4, 19), tid: 100 + n - 1 })));
  });

  it('keeps as text a line no longer remembered, or not as the input has it', () => {
    const lines = ['1 10:00:00.000001 close(3) = 0', '1 10:00:00.000002 close(4) = 0'];
    const source = input(lines);
    const kept = new KeptEvidence();
    kept.add(event(source, lines, [1], { time: '10:00:00.000001', tid: 1, raw: '1 10:00:00.000001 close(3) = 0 (rebuilt)', rebuilt: true }));
    kept.add(event(source, lines, [2], { time: '10:00:00.000002', tid: 1 }));
    expect(kept.lines().map((line) => line.text)).toEqual(['1 10:00:00.000001 close(3) = 0 (rebuilt)', lines[1]]);
  });
});

describe("a finding's part of its file's life (EvidenceMark)", () => {
  const lines = Array.from({ length: 120 }, (_, k) => `${100 + k} 10:00:${String(k % 60).padStart(2, '0')}.000000 close(${k}) = 0`);
  const numbersOf = (read: EvidenceLine[]) => read.map((line) => line.line);
  const head = Array.from({ length: 8 }, (_, k) => k + 1);

  it('ends at the event that resolved it once the file notes that event, and stays there as the file goes on', () => {
    const source = input(lines);
    const kept = new KeptEvidence();
    const events = lines.map((_, k) => event(source, lines, [k + 1]));
    for (let n = 1; n <= 20; n++) kept.add(events[n - 1]!);
    // Resolved by event 21 (a munmap is noted after the mappings it takes are settled): it is the finding's.
    const byNext = kept.mark(events[20]!);
    // Resolved by an event the file never notes (an exit): its part is what was kept then.
    const byExit = kept.mark(null);
    expect(kept.mark(null)).toBe(byExit);
    for (let n = 21; n <= 100; n++) kept.add(events[n - 1]!);
    expect(numbersOf(kept.lines(byNext))).toEqual(Array.from({ length: 21 }, (_, k) => k + 1));
    expect(numbersOf(kept.lines(byExit))).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    // The file's whole life slid on past them.
    expect(numbersOf(kept.lines())).toEqual([...head, ...Array.from({ length: 40 }, (_, k) => 61 + k)]);
  });

  it('a mark taken when the tail is full takes its resolving event after the oldest of the tail is dropped', () => {
    const source = input(lines);
    const kept = new KeptEvidence();
    const events = lines.map((_, k) => event(source, lines, [k + 1]));
    for (let n = 1; n <= 70; n++) kept.add(events[n - 1]!);
    const mark = kept.mark(events[70]!);
    for (let n = 71; n <= 120; n++) kept.add(events[n - 1]!);
    // The first 8, then the last 40 before its end, and its end: 71.
    expect(numbersOf(kept.lines(mark))).toEqual([...head, ...Array.from({ length: 40 }, (_, k) => 31 + k), 71]);
  });
});

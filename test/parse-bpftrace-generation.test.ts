// orphanmap.bt's `gen` records: the generation of the file an open reached,
// printed by the same thread just before the open's record, which the reader
// gives to that open's inode. On lines of a real capture (test/fixtures/bpftrace/README.md,
// generation/): two processes open one name, one inode number, two files.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OpenEvent, TraceEvent } from '../src/parse/events.js';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import { readLines } from './support/trace-text.js';

const CAPTURE = readFileSync(fileURLToPath(new URL('fixtures/bpftrace/generation/trace.bt.txt', import.meta.url)), 'utf8').trimEnd();

function read(text: string) {
  return readLines(new BpftraceReader('trace.txt'), text);
}

function opens(events: TraceEvent[]): OpenEvent[] {
  return events.filter((event): event is OpenEvent => event.kind === 'open');
}

describe('bpftrace gen records', () => {
  it("gives each open the generation its thread's gen record printed: one number, two files", () => {
    const { events, diagnostics } = read(CAPTURE);
    expect(diagnostics).toEqual([]);
    expect(opens(events).map((open) => [open.tid, open.inode])).toEqual([
      [10198, { dev: 7340032, ino: 19, gen: 1695897760 }],
      [10198, { dev: 7340032, ino: 19, gen: 1695897760 }],
      [10203, { dev: 7340032, ino: 19, gen: 3864255038 }],
    ]);
  });

  it("gives an open no generation when its own gen record is missing (a record lost): not another open's of its thread", () => {
    const lines = CAPTURE.split('\n');
    // The second open's gen record left out: the first's was taken by the first open.
    const { events } = read(lines.filter((_, index) => index !== 4).join('\n'));
    expect(opens(events).map((open) => open.inode?.gen)).toEqual([1695897760, undefined, 3864255038]);
  });

  it('takes no gen record of another thread, nor one of another inode', () => {
    const lines = CAPTURE.split('\n');
    // Process 10203's gen record given to 10198, and 10198's first naming inode 20.
    const edited = lines.map((line, index) => (index === 6 ? line.replace(' 10203 10203 gen ', ' 10198 10198 gen ') : index === 1 ? line.replace('gen ino=19', 'gen ino=20') : line));
    const { events, diagnostics } = read(edited.join('\n'));
    expect(diagnostics).toEqual([]);
    expect(opens(events).map((open) => open.inode?.gen)).toEqual([undefined, 1695897760, undefined]);
  });

  it('takes generation 0 for none (what a file system that keeps no generation gives every file)', () => {
    const lines = CAPTURE.split('\n');
    const { events } = read(lines.map((line, index) => (index === 6 ? line.replace('gen=3864255038', 'gen=0') : line)).join('\n'));
    expect(opens(events).map((open) => open.inode)).toEqual([
      { dev: 7340032, ino: 19, gen: 1695897760 },
      { dev: 7340032, ino: 19, gen: 1695897760 },
      { dev: 7340032, ino: 19 },
    ]);
  });

  it('counts a gen record without its numbers as unreadable, naming its line', () => {
    const lines = CAPTURE.split('\n');
    const { events, diagnostics } = read(lines.map((line, index) => (index === 1 ? line.replace(' gen=1695897760', '') : line)).join('\n'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ place: { file: 'trace.txt', line: 2 } });
    expect(diagnostics[0]!.reason).toContain('gen');
    expect(opens(events)).toHaveLength(3);
  });
});

// A record's head (`<ns> <cpu> <tgid> <tid> <event>`), read by hand in
// src/parse/bpftrace-line.ts (scanRecordHead) where a regular expression read
// it before: whatever the line, the same answer as that expression's match.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headName, scanRecordHead } from '../src/parse/bpftrace-line.js';

/** The reference: the expression the parser and the joiner matched every line with before. */
const RECORD_HEAD = /^(\d+) (\d+) (\d+) (\d+) ([a-z_.]+)(?: |$)/;

/** The head's length and its parts as the expression's groups, or null; from the scan. */
function scanned(text: string): (string | number)[] | null {
  const head = scanRecordHead(text);
  if (head === null) return null;
  return [
    head.end,
    text.slice(0, head.end),
    text.slice(0, head.nsEnd),
    text.slice(head.cpuStart, head.tgidStart - 1),
    text.slice(head.tgidStart, head.tidStart - 1),
    text.slice(head.tidStart, head.nameStart - 1),
    headName(text, head),
  ];
}

function expectSame(text: string): void {
  const match = RECORD_HEAD.exec(text);
  expect(scanned(text), JSON.stringify(text)).toEqual(match === null ? null : [match[0].length, ...match]);
}

describe('a bpftrace record head', () => {
  it('is read as the expression reads it: records, markers, cut lines, other text', () => {
    for (const text of [
      '1498786270073 0 26514 26581 open sys=openat ret=3 path=/tmp/a b',
      '1498786270073 0 26514 26581 end',
      '1498786270073 0 26514 26581 rename.old path=x',
      '1498786270073 0 26514 26581 close_range fd=3',
      '1498786270073 0 26514 26581 open',
      '1498786270073 0 26514 26581 open\r',
      '1498786270073 0 26514 26581 Open x',
      '1498786270073 0 26514 26581 open-x',
      '1498786270073 0 26514 26581 ',
      '1498786270073 0 26514 26581',
      '1498786270073 0 26514  26581 open',
      ' 1498786270073 0 26514 26581 open',
      '1498786270073 0 26514 2658a open',
      '１２ 0 1 1 open',
      'orphanmap-bt 2 begin ns=1',
      'Attaching 40 probes...',
      '',
      '0 0 0 0 a',
      '1 2 3 4 é',
      '1 2 3 4 ab\n5 6 7 8 cd',
      '99999999999999999999999 1 1 1 dir id=0x1',
    ])
      expectSame(text);
  });

  it('is read as the expression reads it, whatever the text', () => {
    const piece = fc.constantFrom('1', '42', '0', ' ', '  ', 'open', 'end', 'a', '_', '.', 'Z', '-', '=', '\r', '\n', 'é', '\t', '١');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
        expectSame(pieces.join(''));
      }),
      { numRuns: 4000 },
    );
  });

  it('is read as the expression reads it on lines shaped like records', () => {
    const digits = fc.stringMatching(/^[0-9]{0,4}$/);
    const name = fc.stringMatching(/^[a-z_.A-Z-]{0,6}$/);
    const after = fc.constantFrom('', ' ', ' ret=0', 'x', '\r', ' path=/a b');
    fc.assert(
      fc.property(digits, digits, digits, digits, name, after, (ns, cpu, tgid, tid, event, rest) => {
        expectSame(`${ns} ${cpu} ${tgid} ${tid} ${event}${rest}`);
      }),
      { numRuns: 4000 },
    );
  });

  it('answers null for a line without a head; its answer is one object, refilled by the next scan, so callers read it first', () => {
    expect(scanRecordHead('no head here')).toBeNull();
    const text = '15 1 2 3 mmap ret=0x1';
    const head = scanRecordHead(text)!;
    const name = headName(text, head);
    const other = '7 0 9 9 open path=/x';
    expect(scanRecordHead(other)).toBe(head);
    expect(headName(other, head)).toBe('open');
    expect(name).toBe('mmap');
  });
});

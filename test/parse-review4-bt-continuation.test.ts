// bpftrace continuation lines (review 2, item 7c): after a record ending in
// `path=`, a line that cannot be the rest of that path as scripts/orphanmap.bt
// prints it was joined into the path and lost: counted nowhere, shown nowhere.
// It is now an unreadable line with its file and line. A path with a newline
// in it is still one path (the real capture test/fixtures/bpftrace/
// python-segments.txt, `new\nline.bin`, is read in parse-bpftrace.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpftraceReader, ContinuationJoiner } from '../src/parse/bpftrace.js';
import { PATH_CHARS_MAX } from '../src/parse/bpftrace-joiner.js';
import { readLines } from './support/trace-text.js';
import { runCli } from './support/tools.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'review4');
const HEAD_REASON = 'right after a record ending in path=, but not the rest of its path: it starts like a record, with an event the script does not print';

function read(text: string) {
  return readLines(new BpftraceReader('trace.bt.txt'), text);
}

describe("the review's captures", () => {
  it('bt3.txt: the unknown lines after `path=rel.map` are unreadable, named by file and line, and the unlink keeps its path', () => {
    const file = join(FIXTURES, 'bt3.txt');
    const { stdout } = runCli(['analyze', file]);
    expect(stdout).toContain('unreadable lines 2');
    expect(stdout).toContain(`${file}:3: unknown event "frobnicate" (${HEAD_REASON}): 3900 0 500 500 frobnicate x=1`);
    expect(stdout).toContain(`${file}:4: unknown event "bogus": 3950 0 500 500 bogus`);
    const { events, diagnostics } = read(readFileSync(file, 'utf8'));
    expect(events.map((e) => ('path' in e ? [e.kind, e.path] : [e.kind]))).toEqual([['unlink', 'rel.map']]);
    expect(diagnostics.map((d) => d.place.line)).toEqual([3, 4]);
  });

  it('bt4.txt, the same after an absolute path', () => {
    const { events, diagnostics } = read(readFileSync(join(FIXTURES, 'bt4.txt'), 'utf8'));
    expect(events).toMatchObject([{ kind: 'unlink', path: '/x/rel.map' }]);
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([
      [3, `unknown event "frobnicate" (${HEAD_REASON})`],
      [4, 'unknown event "bogus"'],
    ]);
  });

  it('bt2.txt, the same lines with no path before them, as before', () => {
    const { diagnostics } = read(readFileSync(join(FIXTURES, 'bt2.txt'), 'utf8'));
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([
      [2, 'unknown event "frobnicate"'],
      [3, 'open record without path='],
    ]);
  });
});

describe('what cannot be the rest of a path', () => {
  const unlink = (path: string) => `3800 0 500 500 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=${path}`;

  it('a line with a NUL (str() ends a string at its first NUL)', () => {
    const { events, diagnostics } = read([unlink('/d/a'), 'b\0c', '5000 1 0 0 end'].join('\n'));
    expect(events).toMatchObject([{ kind: 'unlink', path: '/d/a' }]);
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([
      [2, 'not an orphanmap.bt record (right after a record ending in path=, but not the rest of its path: it holds a NUL byte, which ends a string)'],
    ]);
  });

  it('a line that makes the path longer than any call takes (PATH_MAX, or an execveat name); one that does not is joined', () => {
    expect(PATH_CHARS_MAX).toBe(4095 + 19);
    const first = `/d/${'x'.repeat(2000)}`;
    const fits = 'y'.repeat(PATH_CHARS_MAX - first.length - 1);
    const joined = read([unlink(first), fits, '5000 1 0 0 end'].join('\n'));
    expect(joined.diagnostics).toEqual([]);
    expect(joined.events).toMatchObject([{ kind: 'unlink', path: `${first}\n${fits}`, lines: [1, 2] }]);

    const { events, diagnostics } = read([unlink(first), `${fits}y`, '5000 1 0 0 end'].join('\n'));
    expect(events).toMatchObject([{ kind: 'unlink', path: first }]);
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([
      [2, `not an orphanmap.bt record (right after a record ending in path=, but not the rest of its path: that path would be longer than ${PATH_CHARS_MAX} bytes, more than a call takes)`],
    ]);
  });

  it('the lines after a refused one are not taken for a path either', () => {
    const { events, diagnostics } = read([unlink('/d/a'), '3900 0 500 500 frobnicate x=1', 'stray text', '5000 1 0 0 end'].join('\n'));
    expect(events).toMatchObject([{ kind: 'unlink', path: '/d/a' }]);
    expect(diagnostics.map((d) => d.place.line)).toEqual([2, 3]);
  });
});

describe('paths with newlines still join', () => {
  it('any line that does not start like a record, in each record that ends in a path', () => {
    const joiner = new ContinuationJoiner();
    const lines = [
      '1 0 5 5 open sys=openat ret=3 dfd=-100 flags=0x0 ino=1 dev=2 path=a',
      'b 0 5 5',
      '12 0 5 5',
      '2 0 5 5 rename.old path=c',
      'd',
      '2 0 5 5 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=e',
      ' f path=g',
      '3 0 5 5 close fd=3 ret=0 ens=2',
    ];
    const got = lines.flatMap((line, i) => joiner.push(line, i + 1));
    got.push(...joiner.end());
    expect(got).toEqual([
      { text: `${lines[0]}\nb 0 5 5\n12 0 5 5`, lines: [1, 2, 3] },
      { text: `${lines[3]}\nd`, lines: [4, 5] },
      { text: `${lines[5]}\n f path=g`, lines: [6, 7] },
      { text: lines[7], lines: [8] },
    ]);
  });

  it('the real capture with `new\\nline.bin`: no unreadable line', () => {
    const { events, diagnostics } = read(readFileSync(join(import.meta.dirname, 'fixtures', 'bpftrace', 'python-segments.txt'), 'utf8'));
    expect(diagnostics).toEqual([]);
    expect(events.filter((e) => 'path' in e && e.path === 'new\nline.bin').map((e) => e.kind)).toEqual(['open', 'unlink']);
  });
});

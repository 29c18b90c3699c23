import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCall, decodeJoined } from '../src/parse/strace-decode.js';
import type { EventBase } from '../src/parse/events.js';

const base = (): EventBase => ({ place: { file: 't', line: 1 }, time: '1795606335.411625', seconds: 1795606335.411625, tid: 7, raw: 'raw', lines: [1, 2], lineTimes: ['a', 'b'] });

/** Pieces an argument list is made of, among them every one that can run past the end of a head. */
const PIECES = [
  'NULL',
  ', ',
  ',',
  ' ',
  '4096',
  '0x7f06f123f000',
  '5',
  '-1',
  'AT_FDCWD',
  'PROT_READ|PROT_WRITE',
  'MAP_SHARED',
  'O_RDWR|O_CREAT',
  '0666',
  '5</d/0.index>',
  '5</d/x.index>(deleted)',
  '3</d/we\\76ird, x.bin>',
  '</dev/null<char 1:3>>',
  '<TCP:[1->2]>',
  '<UNIX-STREAM:[1->2,"/run/x.sock"]>',
  '"/kafka/0.index"',
  '"a\\"b"',
  '"cut"...',
  '"',
  '\\',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '/*',
  '*/',
  '/* 31 vars */',
  '.',
  '..',
  '(deleted',
  'deleted)',
  '"x',
  '/',
  '*',
  '{flags=CLONE_VM|CLONE_FS, child_tid=0x7f}',
  '[3, 4]',
];
const TAILS = [
  ') = 0',
  ') = 0 <0.000096>',
  ') = 0x7feb45600000 <0.000096>',
  ') = 133</d/0.index> <0.000415>',
  ')    = 3',
  ') = -1 ENOENT (No such file)',
  ') = ?',
  ') = -',
  ')',
  ') =',
  '',
  ' ) = 0',
  '.., 0) = 0',
  '..) = 0',
  ')) = 0',
  ', 0) = 0',
  '"x") = 0',
  '/x>) = 0',
  '*/) = 0',
  ') = 3 (Timeout)',
  ') = 0 <1.2.3>',
];
const NAMES = ['mmap', 'munmap', 'close', 'openat', 'open', 'ftruncate', 'dup3', 'fcntl', 'mremap', 'unlinkat', 'renameat2', 'symlinkat', 'fchdir', 'clone3', 'execve', 'close_range', 'truncate'];

describe('decodeJoined: an unfinished call and its resume', () => {
  it('decode as their joined text does', () => {
    const head = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join(''));
    const tail = fc.tuple(fc.constantFrom(...TAILS), fc.constantFrom('', '<... mmap resumed>', 'x')).map(([text, prefix]) => ({ text: prefix + text, from: prefix.length }));
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), head, tail, (name, headText, { text, from }) => {
        expect(decodeJoined(name, headText, text, from, base())).toStrictEqual(decodeCall(name, headText + text.slice(from), 0, base()));
      }),
      { numRuns: 30000 },
    );
  });

  it('on the calls a trace pairs most', () => {
    const cases: [string, string, string][] = [
      ['mmap', 'NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 5</d/0.index>, 0', ') = 0x7feb45600000 <0.000096>'],
      ['openat', 'AT_FDCWD</opt/kafka>, "/var/lib/kafka/0.index", O_RDWR|O_CREAT, 0666', ') = 133</var/lib/kafka/0.index> <0.000415>'],
      ['ftruncate', '133</var/lib/kafka/0.index>, 10485760', ') = 0 <0.000560>'],
      ['close', '133</x.index>(deleted)', ') = 0'],
      ['munmap', '0x7efd3e38d000, 65536', ') = 0'],
      ['mmap', 'NULL, 4096, PROT_READ, MAP_SHARED, 5</d/x.index>(deleted', ') = 0x7f0000000000'],
      ['openat', 'AT_FDCWD, "/d/x"', '...) = 3'],
      ['openat', 'AT_FDCWD, "/d/x', '") = 3'],
    ];
    for (const [name, head, tail] of cases) expect(decodeJoined(name, head, tail, 0, base()), `${name}(${head}${tail}`).toStrictEqual(decodeCall(name, head + tail, 0, base()));
  });
});

describe("close's -y annotation (review 22)", () => {
  it('gives the name the fd lost, as strace 6 and older ones print "(deleted)", and nothing otherwise', () => {
    const gone = (text: string) => {
      const event = decodeCall('close', text, 0, base());
      return event === null || typeof event === 'string' || event.kind !== 'close' ? event : (event.goneName ?? null);
    };
    expect(gone('5</d/t-0/0.index>(deleted)) = 0')).toBe('/d/t-0/0.index');
    expect(gone('5</d/t-0/0.index (deleted)>) = 0')).toBe('/d/t-0/0.index');
    expect(gone('5</d/t-0/0.index>) = 0')).toBeNull();
    expect(gone('5) = 0')).toBeNull();
  });
});

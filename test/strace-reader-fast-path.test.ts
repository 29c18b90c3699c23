// The reader's per-line fast paths, against what the general paths give:
// StraceReader.push decides from its one scan of a line (scanPrefix, scanCall)
// that a followed call after a plain prefix is never one ignoredCall would
// skip, and decodeCall reads arguments by position (boundCall) instead of
// splitting them into strings. Inputs built to trip both.
import { describe, expect, it } from 'vitest';
import { type ParseOutput, StraceReader } from '../src/parse/strace.js';
import { newLineScan, scanCall, scanPrefix } from '../src/parse/strace-line.js';
import { followedName } from '../src/parse/strace-scan.js';
import { ignoredCall, ResumeMarkers } from '../src/parse/strace-skip.js';
import { isTrimmed, parseFdArg, splitCall } from '../src/parse/strace-args.js';

/** Prefixes of every shape strace prints, and hostile ones: names and brackets that hold "(", "<... ", a call of their own. */
const PREFIXES = [
  '',
  '100 ',
  '  100 ',
  '[pid 100] ',
  '[pid   100] ',
  '100<java> ',
  '100<C2 Compiler\\76> ',
  '[pid 100<gc\\74x>] ',
  '1795606335.190358 ',
  '100 1795606335.190358 ',
  '100 18:16:32.478150 ',
  '100 18:16:32 ',
  '100      0.000543 ',
  '100 18:16:32 (+     0.000479) ',
  '100 1795606335.190358 [ 257] ',
  '100 1795606335.190358 [00007f7b1a6bb011] ',
  '100<x futex(> ',
  '[pid 100<x futex(>] ',
  '[pid 100<<... futex resumed>] ',
  '100<<... futex resumed> ',
  '100 1795606335.190358 [ futex(] ',
  '100 1795606335.190358 [<... futex resumed>] ',
  '100 18:16:32 (+ futex(1)) ',
  '100 (+ 0.1) ',
  '100 1795606335.190358 [ read(3) = 1] ',
];
const CALLS = [
  'munmap(0x7f0000002000, 4096) = 0',
  'munmap(0x7f0000002000, 4096 <unfinished ...>',
  '<... munmap resumed>) = 0',
  '<... mmap resumed>) = 0x7f0000002000 <0.000002>',
  'openat(AT_FDCWD, "/a (1) <... futex resumed>", O_RDONLY) = 3',
  'close(3</x(1)>) = 0',
  'mmap2(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x1000',
  'futex(0x1, FUTEX_WAIT, 0, NULL) = 0',
  '<... futex resumed>) = 0',
];

describe("the reader's one scan of a line", () => {
  it('never passes over a line ignoredCall would skip: a followed call after a plain prefix is one it reads', () => {
    const scan = newLineScan();
    let decided = 0;
    let skippedByIgnoredCall = 0;
    for (const prefix of PREFIXES)
      for (const call of CALLS) {
        const line = prefix + call;
        const at = scanPrefix(line, scan);
        const flags = ignoredCall(line, 0, line.length, new ResumeMarkers());
        if (flags !== 0) skippedByIgnoredCall++;
        if (at < 0 || !scanCall(line, at, scan) || followedName(line, scan.nameStart, scan.nameEnd) === undefined || !scan.plain) continue;
        decided++;
        expect(flags, line).toBe(0);
      }
    // Both sides of the decision are exercised: lines it decides, and followed calls behind hostile prefixes ignoredCall skips.
    expect(decided).toBeGreaterThan(60);
    expect(skippedByIgnoredCall).toBeGreaterThan(40);
  });

  it('finds a followed name without slicing it, and only a followed one', () => {
    expect(followedName('1 mmap2(', 2, 7)).toBe('mmap2');
    expect(followedName('1 mmap(', 2, 6)).toBe('mmap');
    expect(followedName('1 mmapx(', 2, 7)).toBeUndefined();
    expect(followedName('1 ṁmap(', 2, 6)).toBeUndefined();
    expect(followedName('1 renameat2(', 2, 11)).toBe('renameat2');
  });
});

describe('arguments read by position', () => {
  it('trims what String.prototype.trim trims, and only that', () => {
    const differ: string[] = [];
    for (let code = 0; code <= 0xffff; code++) if (isTrimmed(code) !== (String.fromCharCode(code).trim() === '')) differ.push(code.toString(16));
    expect(differ).toEqual([]);
  });

  it('cuts arguments and annotations as the lexer did: quotes, escapes, ") = " and "(deleted)" in paths, Unicode spaces', () => {
    expect(splitCall('AT_FDCWD</w>, "/d/x) = 3 \\"q\\" (y).bin", O_RDONLY) = 7</d/x) = 3 "q" (y).bin> <0.000010>')).toEqual({
      args: ['AT_FDCWD</w>', '"/d/x) = 3 \\"q\\" (y).bin"', 'O_RDONLY'],
      ret: '7</d/x) = 3 "q" (y).bin>',
    });
    expect(splitCall('\u00a05</a\\74b\\76>(deleted)\u2028, \ufeff4096 ) = 0')).toEqual({ args: ['5</a\\74b\\76>(deleted)', '4096'], ret: '0' });
    expect(splitCall('"a\\\\", "b"...) = -1 <0.1>')).toEqual({ args: ['"a\\\\"', '"b"...'], ret: '-1' });
    expect(splitCall('5</a<b>>, " ) = 0')).toBeNull();
    expect(splitCall(' ) = 0')).toEqual({ args: [], ret: '0' });
    expect(splitCall('1, ) = 0')).toEqual({ args: ['1', ''], ret: '0' });
    expect(parseFdArg('5</a<b>>')).toEqual({ fd: 5, hint: '/a' });
    expect(parseFdArg('5<>(deleted)')).toEqual({ fd: 5, hint: '', deleted: true });
    expect(parseFdArg('5<x(deleted)')).toEqual({ fd: 5 });
  });
});

const HOSTILE = [
  '100 1795606335.190358 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/a (1).bin>, 0) = -1 <0.000004>',
  '100 1795606335.190359 openat(AT_FDCWD</w>, "/d/x) = 3 \\"q\\" (y).bin", O_RDWR|O_CREAT, 0666 <unfinished ...>',
  '101<C2 Compiler\\76(1)> 1795606335.190360 <... openat resumed>) = 5</d/x) = 3 "q" (y).bin> <0.000010>',
  '100 1795606335.190361 <... openat resumed>) = 7</d/x) = 3 "q" (y).bin> <0.000010>',
  '[pid   102<w<... x>] 18:16:32.478150 munmap(0x7f0000000000, 8192 <unfinished ...>',
  '102 18:16:32 (+     0.000479) <... munmap resumed>) = 0',
  '103 18:16:32 unlink("/d/(deleted) <x>")  = 0\r',
  '[ 87] 104 ftruncate(5</d/a\\74b\\76>(deleted), \u00a04096\u2028) = 0',
  '105 1795606335.190362 rename("/d/a", "/d/b" <unfinished ...>',
  '105 1795606335.190363 <... rename resumed> <unfinished ...>) = ?',
  '106 1795606335.190364 close(9strace: Process 107 attached',
  '</x>) = 0 <0.000001>',
  '[pid 102<<... futex resumed>] 1795606335.190366 munmap(0x7f0000002000, 4096) = 0',
  '[pid 102<x futex(>] 1795606335.190367 munmap(0x7f0000003000, 4096) = 0',
  '104 1795606335.190368 [ futex(] munmap(0x7f0000004000, 4096) = 0',
  '108 1795606335.190365 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 4</x>, 0 /* 0 */) = 0x7f0000001000 <0.000002>',
];

describe('the reader on lines built to trip its fast paths', () => {
  it('gives the records the general paths gave', () => {
    const reader = new StraceReader('t.txt');
    const out: ParseOutput[] = [];
    for (const [i, line] of HOSTILE.entries()) reader.push(line, i + 1, out);
    reader.end(out);
    expect(out).toEqual([
      {
        type: 'diagnostic',
        diagnostic: {
          place: { file: 't.txt', line: 1 },
          text: '100 1795606335.190358 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/a (1).bin>, 0) = -1 <0.000004>',
          // A failure prints its error name: a bare "-1" is a value cut short (review 1, finding 6).
          reason: 'return value of mmap cut short: "-1" (a failure prints its error name)',
        },
      },
      {
        type: 'diagnostic',
        diagnostic: {
          place: { file: 't.txt', line: 3 },
          text: '101<C2 Compiler\\76(1)> 1795606335.190360 <... openat resumed>) = 5</d/x) = 3 "q" (y).bin> <0.000010>',
          reason: '"<... openat resumed>" with no start on thread 101',
        },
      },
      {
        type: 'event',
        event: {
          kind: 'open',
          dir: { fd: 'cwd', hint: '/w' },
          path: '/d/x) = 3 "q" (y).bin',
          fd: 7,
          cloexec: false,
          place: { file: 't.txt', line: 2 },
          time: '1795606335.190359',
          seconds: 1795606335.190359,
          tid: 100,
          raw: '100 1795606335.190359 openat(AT_FDCWD</w>, "/d/x) = 3 \\"q\\" (y).bin", O_RDWR|O_CREAT, 0666 <unfinished ...>\n100 1795606335.190361 <... openat resumed>) = 7</d/x) = 3 "q" (y).bin> <0.000010>',
          lines: [2, 4],
          lineTimes: ['1795606335.190359', '1795606335.190361'],
        },
      },
      {
        type: 'event',
        event: {
          kind: 'munmap',
          address: 139637976727552,
          length: 8192,
          place: { file: 't.txt', line: 5 },
          time: '18:16:32.478150',
          seconds: 65792.47815,
          tid: 102,
          raw: '[pid   102<w<... x>] 18:16:32.478150 munmap(0x7f0000000000, 8192 <unfinished ...>',
          lines: [5],
          comm: 'w<... x',
          // Applied at its entry, before its resume says whether it failed (review 27, F6).
          atEntry: true,
        },
      },
      {
        type: 'event',
        event: {
          kind: 'unlink',
          dir: { fd: 'cwd' },
          path: '/d/(deleted) <x>',
          removeDir: false,
          place: { file: 't.txt', line: 7 },
          time: '18:16:32',
          seconds: 65792,
          tid: 103,
          raw: '103 18:16:32 unlink("/d/(deleted) <x>")  = 0',
          rebuilt: true,
        },
      },
      { type: 'diagnostic', diagnostic: { place: { file: 't.txt', line: 8 }, text: '[ 87] 104 ftruncate(5</d/a\\74b\\76>(deleted),  4096 ) = 0', reason: 'not a strace line' } },
      { type: 'attached', tid: 107 },
      {
        type: 'event',
        event: {
          kind: 'close',
          fd: 9,
          place: { file: 't.txt', line: 11 },
          time: '1795606335.190364',
          seconds: 1795606335.190364,
          tid: 106,
          raw: '106 1795606335.190364 close(9</x>) = 0 <0.000001>',
          rebuilt: true,
        },
      },
      {
        type: 'event',
        event: {
          kind: 'mmap',
          address: 139637976731648,
          length: 8192,
          prot: 3,
          flags: 1,
          fd: 4,
          offset: 0,
          fdHint: '/x',
          place: { file: 't.txt', line: 16 },
          time: '1795606335.190365',
          seconds: 1795606335.190365,
          tid: 108,
          raw: '108 1795606335.190365 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 4</x>, 0 /* 0 */) = 0x7f0000001000 <0.000002>',
        },
      },
    ]);
    expect(reader.shape).toEqual({
      lines: 16,
      callLines: 11,
      traceLines: 14,
      withPid: 11,
      withTime: 11,
      withRelative: 1,
      withFdHints: 3,
      withFdCalls: 3,
      startsAtExecve: false,
      firstCallSeconds: 1795606335.190358,
      attachedSeen: true,
      clones: 0,
      // Every call of these lines is one orphanmap follows ("futex" is in comm names and prefixes only).
      sawUnfollowedCall: false,
    });
  });
});

// Numbers out of range are unreadable lines, not events (issue #11, item 13,
// parser half): an address at or past 2^64, a negative length, or one that
// runs past 2^64 (1e23 bytes was printed as "90949470177.3 TiB"), a file
// size past off_t. No call that succeeded can have printed them. A failed
// call may carry any argument (mmap of 1e23 bytes fails with ENOMEM): it stays
// a failed call, ignored, not an unreadable line. Both parsers, and the CLI.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import { readLines, readStrace } from './support/trace-text.js';
import { runCli } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-ranges-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function strace(line: string): { kinds: string[]; reasons: string[] } {
  const { events, diagnostics } = readStrace(`11020 ${line}`);
  return { kinds: events.map((e) => e.kind), reasons: diagnostics.map((d) => d.reason) };
}

describe('strace: out of range is unreadable', () => {
  it.each([
    ['an mmap that returned an address of 2^64', 'mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000000000000000', 'returned address out of range in mmap'],
    ['an mmap of 1e23 bytes (in decimal)', 'mmap(NULL, 100000000000000000000000, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000', 'length out of range in mmap'],
    ['an mmap of a negative length', 'mmap(NULL, -4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000', 'length out of range in mmap'],
    ['an mmap whose mapping would run past 2^64', 'mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3, 0) = 0xfffffffffffff000', 'length out of range in mmap'],
    ['an mmap at a negative offset', 'mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, -4096) = 0x7f0000000000', 'offset out of range in mmap'],
    ['a munmap past 2^64', 'munmap(0x1fffffffffffff000, 4096) = 0', 'address out of range in munmap'],
    ['a munmap of a negative length', 'munmap(0x7f0000000000, -1) = 0', 'length out of range in munmap'],
    ['an mremap to an address past 2^64', 'mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE) = 0x20000000000000000', 'returned address out of range in mremap'],
    ['an mremap growing past 2^64', 'mremap(0x7f0000000000, 4096, 0xffffffffffffffff, MREMAP_MAYMOVE) = 0x7f1000000000', 'new length out of range in mremap'],
    ['an ftruncate to 1e23 bytes', 'ftruncate(4</d/0.index>, 99999999999999999999999) = 0', 'length out of range in ftruncate'],
    ['a truncate to a negative size', 'truncate("/d/0.index", -1) = 0', 'length out of range in truncate'],
  ])('%s', (_, line, reason) => {
    expect(strace(line)).toEqual({ kinds: [], reasons: [reason] });
  });

  it('the largest real values are read: a page just below 2^64, a file of 2^62 bytes', () => {
    expect(strace('mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0xfffffffffffff000')).toEqual({ kinds: ['mmap'], reasons: [] });
    expect(strace('munmap(0xffffffffffffe000, 8192) = 0')).toEqual({ kinds: ['munmap'], reasons: [] });
    expect(strace('ftruncate(4, 4611686018427387904) = 0')).toEqual({ kinds: ['truncate'], reasons: [] });
  });

  it('a failed call with a huge length is a failed call: no event, no unreadable line', () => {
    expect(strace('mmap(NULL, 100000000000000000000000, PROT_READ, MAP_SHARED, 3, 0) = -1 ENOMEM (Cannot allocate memory)')).toEqual({ kinds: [], reasons: [] });
    expect(strace('munmap(0x1fffffffffffff000, 4096) = -1 EINVAL (Invalid argument)')).toEqual({ kinds: [], reasons: [] });
  });
});

function bpftrace(line: string): { kinds: string[]; reasons: string[] } {
  const { events, diagnostics } = readLines(new BpftraceReader('x.bt'), `orphanmap-bt 1 begin ns=1498786300000 cpu=0 self=1 root=0\n${line}`);
  return { kinds: events.map((e) => e.kind), reasons: diagnostics.map((d) => d.reason) };
}

describe('bpftrace: out of range is unreadable', () => {
  const MMAP = (ret: string, len: string, off = '0x0') =>
    `1498786347689 0 26514 26581 mmap ret=${ret} addr=0x0 len=${len} prot=0x3 flags=0x1 fd=3 off=${off} ens=1498786335085 mm=0xffff8881097d5140 ino=2164510 dev=266338304 nlink=1`;

  it.each([
    ['an mmap that returned 2^64', MMAP('0x10000000000000000', '4096'), 'mmap: missing or bad ret (out of range)'],
    ['an mmap of 1e23 bytes', MMAP('0x7fc9b8fe2000', '100000000000000000000000'), 'mmap: missing or bad len (out of range)'],
    ['an mmap of a negative length', MMAP('0x7fc9b8fe2000', '-4096'), 'mmap: missing or bad len (out of range)'],
    ['an mmap at an offset past off_t', MMAP('0x7fc9b8fe2000', '4096', '0x8000000000000000'), 'mmap: missing or bad off (out of range)'],
    ['a munmap past 2^64', '1498786485578 0 26514 26581 munmap addr=0x1fffffffffffff000 len=8192 ret=0 ens=1498786479085 mm=0xffff8881097d5140', 'munmap: missing or bad addr (out of range)'],
    ['a munmap running past 2^64', '1498786485578 0 26514 26581 munmap addr=0xfffffffffffff000 len=8192 ret=0 ens=1498786479085 mm=0xffff8881097d5140', 'munmap: missing or bad len (out of range)'],
    ['an ftruncate to a negative size', '1498786618016 0 26514 26581 ftruncate fd=6 len=-100 ret=0 ino=2164510 dev=266338304 nlink=0', 'ftruncate: missing or bad len (out of range)'],
  ])('%s', (_, line, reason) => {
    expect(bpftrace(line)).toEqual({ kinds: [], reasons: [reason] });
  });

  it('a failed mmap of any length is ignored, as before', () => {
    expect(bpftrace(MMAP('0xfffffffffffffff4', '100000000000000000000000'))).toEqual({ kinds: [], reasons: [] });
  });
});

describe('the CLI', () => {
  it('counts an out-of-range line as unreadable, with its place, and never prints a size in TiB for it', () => {
    const path = join(scratch, 'huge-length.txt');
    writeFileSync(
      path,
      [
        '11020 1795606335.190800 openat(AT_FDCWD</w>, "/d/0.index", O_RDWR|O_CREAT, 0666) = 4</d/0.index> <0.000010>',
        '11020 1795606335.190801 mmap(NULL, 100000000000000000000000, PROT_READ, MAP_SHARED, 4</d/0.index>, 0) = 0x7feb46000000 <0.000010>',
        '11020 1795606335.190902 unlink("/d/0.index") = 0 <0.000010>',
        '',
      ].join('\n'),
    );
    const result = runCli(['analyze', path]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('unreadable lines 1');
    expect(result.stdout).toContain(`${path}:2: length out of range in mmap: `);
    expect(result.stdout).not.toContain('TiB');
    expect(result.stdout).toContain('findings: 0 unlinked-while-mapped (error)');
  });
});

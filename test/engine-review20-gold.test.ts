// GNU gold maps the libraries it runs on (libgcc_s, libc) whole to read
// them as link inputs, while ld.so's mappings of the same files are live.
// The "grown out of sight" rule compared gold's mapping with each of ld.so's
// segments alone: it reaches past every segment, so the rule took the file
// for grown, and gave five false remapped-without-unmap warnings (review 20).
// ld.so's first mapping of the library's whole span reached further still:
// the rule now compares with the furthest any live mapping reaches. A real
// trace; the truth is strace's own decoding of the files' sizes
// (test/fixtures/review20-gold/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { applyLines } from './support/fork-trace.js';
import { REPO, runCli } from './support/tools.js';

const TRACE = join(REPO, 'test', 'fixtures', 'review20-gold', 'trace.txt');

it('takes no library gold maps whole for a file grown, when strace shows its size never changed', () => {
  const lines = readFileSync(TRACE, 'utf8').split('\n');
  const sizes = (library: string) =>
    lines.filter((line) => line.startsWith('16895 ') && line.includes('newfstatat(') && line.includes(`${library}>, ""`)).map((line) => /st_size=(\d+)/.exec(line)?.[1]);
  // The precondition, from strace's lines: each library's size, the same each time it was looked at…
  expect(sizes('libgcc_s.so.1')).toEqual(['125312', '125312', '125312']);
  expect(sizes('libc.so.6')).toEqual(['1926232', '1926232']);
  // …ld.so's mapping of libgcc_s's whole span, a segment over it, and gold's mapping of the whole file while both live.
  expect(lines[2250]).toContain('mmap(NULL, 127688, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libgcc_s.so.1>, 0) = 0x7ff3e30fd000');
  expect(lines[2251]).toContain('mmap(0x7ff3e3100000, 94208, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libgcc_s.so.1>, 0x3000)');
  expect(lines[2557]).toContain('mmap(NULL, 125312, PROT_READ, MAP_PRIVATE, 13</usr/lib/x86_64-linux-gnu/libgcc_s.so.1>, 0) = 0x7ff3e2e82000');
  expect(lines.slice(2251, 2557).some((line) => line.includes('munmap(0x7ff3e31'))).toBe(false);
  const result = runCli(['analyze', TRACE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string }[] };
  expect(report.findings).toEqual([]);
});

it("compares only with the same process's mappings: another process that mapped the file further says nothing of this one's view", () => {
  // Written by hand: process 200 maps the whole file once it has grown (by writes no filter keeps); process 300,
  // which mapped its first page before, maps it whole again with that mapping live: the resize signature.
  const fork = 'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000000a10)';
  const lines = [
    '100 0.000000 execve("/bin/broker", ["broker"], 0x7ffc /* 1 var */) = 0',
    `100 0.100000 ${fork} = 200`,
    `100 0.200000 ${fork} = 300`,
    '300 1.000000 openat(AT_FDCWD, "/data/seg.index", O_RDWR) = 3',
    '300 1.000100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000100000',
    '200 2.000000 openat(AT_FDCWD, "/data/seg.index", O_RDWR) = 3',
    '200 2.000100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000200000',
    '300 3.000000 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000300000',
  ];
  const engine = new Engine();
  applyLines(engine, lines);
  const remaps = engine
    .finish()
    .map((change) => change.finding)
    .filter((finding) => finding.kind === 'remapped-without-unmap');
  expect(remaps.map((finding) => [finding.pid, finding.address])).toEqual([[300, '0x7f0000100000']]);
});

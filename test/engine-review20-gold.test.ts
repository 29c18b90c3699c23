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

// glibc's localedef reserves address space over locale-archive with a
// PROT_NONE mmap far longer than the file, then maps the file into it with
// MAP_FIXED, while libc's own read-only mapping of the archive is live. The
// "grown out of sight" rule took the reservation for the file mapped again at
// a size the trace never showed it reach: a false remapped-without-unmap
// (review 19). A real trace; the truth is strace's own decoding of the file's
// size (test/fixtures/review19-localedef/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const TRACE = join(REPO, 'test', 'fixtures', 'review19-localedef', 'trace.txt');
const ARCHIVE = '/usr/lib/locale/locale-archive';

it('takes a PROT_NONE reservation over a file for no remap of it, when strace shows the file did not grow', () => {
  // The precondition, from strace's lines: the archive's size as fstat gave it each time, the first mapping
  // of all of it, and the 512 MiB PROT_NONE reservation over it with that mapping still live.
  const lines = readFileSync(TRACE, 'utf8').split('\n');
  const sizes = lines.filter((line) => line.includes(`newfstatat(`) && line.includes(ARCHIVE)).map((line) => /st_size=(\d+)/.exec(line)?.[1]);
  expect(sizes).toEqual(['3048928', '3048928', '3048928']);
  expect(lines[34]).toContain(`mmap(NULL, 3048928, PROT_READ, MAP_PRIVATE, 3<${ARCHIVE}>, 0) = 0x7fd916200000`);
  expect(lines[1836]).toContain(`mmap(NULL, 536870912, PROT_NONE, MAP_SHARED, 3<${ARCHIVE}>, 0) = 0x7fd8f1c00000`);
  expect(lines.slice(35, 1836).some((line) => line.includes('munmap(0x7fd916200000'))).toBe(false);
  const result = runCli(['analyze', TRACE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string }[] };
  expect(report.findings).toEqual([]);
});

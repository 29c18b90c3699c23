// Review 81 (its E3, low): `capture --backend bpftrace --pid` of a glib program
// whose MIME cache another process replaced twice, glib reloading it each
// time. Two mappings, of two files, may have outlived their files (the trace
// cannot date either removal against the munmap): the warnings described both,
// but the count said "1 mapping is in doubt". The released maps-start.txt
// mapping (inode 2361541) was taken for the same mapping as the doubt of the
// open that found the second cache replaced (inode 2361540), since both were
// of one process and one name. A real bundle
// (test/fixtures/review81-mime-twice/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, verdictOf } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review81-mime-twice');
const BUNDLE = join(FIXTURE, 'bundle');

it('two caches replaced, each released by its reload: two mappings in doubt, not one', () => {
  // The kernel's words: the first cache (maps-start.txt) and the second (the trace's mmap) are two files, each
  // released by an munmap; the program's own record shows the first "(deleted)" while it still mapped it.
  const cache = '/tmp/review81-work/exp3/data/mime/mime.cache';
  expect(readFileSync(join(BUNDLE, 'maps-start-gone.txt'), 'utf8')).toMatch(/^7fc81b9e0000-7fc81ba05000 r--s 00000000 fe:00 2361541 +\S+\/mime\.cache\n$/);
  const trace = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  const maps = trace.filter((line) => / mmap ret=0x7fc81b9e0000 /.test(line)).map((line) => / ino=(\d+) /.exec(line)![1]);
  expect(maps).toEqual(['2361540', '2361539']);
  expect(trace.filter((line) => / munmap addr=0x7fc81b9e0000 /.test(line))).toHaveLength(2);
  expect(readFileSync(join(FIXTURE, 'truth.txt'), 'utf8')).toContain(` fe:00 2361541                    ${cache} (deleted)\n`);

  const { report, failOn } = verdictOf(BUNDLE);
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt, report.warnings.join('\n')).toBe(2);
  expect(failOn).toBe(2);
  // Both told: the open that found the second cache replaced, and the first released before the exit's lookup.
  expect(report.warnings.some((warning) => warning.includes('reached inode 2361539, not inode 2361540'))).toBe(true);
  expect(report.warnings.some((warning) => warning.includes('had released its mapping of it itself during the capture (its munmap at'))).toBe(true);
});

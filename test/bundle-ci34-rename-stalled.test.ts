// CI of 09e337e: test/capture-review24-rename-order.test.ts failed once. A
// rename over the readers' file waited 30 ms on the other CPU; a reader that
// held the old file mapped when the rename entered went on opening the name,
// which was still the old file's, and mapping and unmapping it. bpftrace
// orders a rename by its entry, so those mappings came after it, and the
// last of them was an error ("the same leak going on"): its delay counted
// from its mmap, so nothing asked whether it was released before the rename
// returned. Part of the real bundle, with the readers' own record of each
// mapping's link count after its munmap (test/fixtures/ci34-rename-stalled/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { errorsByTruth, type ReaderRecords, readerMmaps } from './support/rename-readers.js';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'ci34-rename-stalled');

interface Truth {
  /** Per reader, its mappings in this part of the trace: [address, inode, link count after the munmap]. */
  readers: { pid: number; first: number; mappings: [string | null, number, number][] }[];
}

it('a reader that maps and unmaps a file while a rename over it waits: no error names a mapping whose file kept its name', () => {
  const truth = JSON.parse(readFileSync(join(FIXTURE, 'truth.json'), 'utf8')) as Truth;
  const readers: ReaderRecords = new Map(truth.readers.map((reader) => [reader.pid, reader.mappings]));
  const mmaps = readerMmaps(readFileSync(join(FIXTURE, 'bundle', 'trace.txt'), 'utf8'), readers);

  const result = runCli(['analyze', join(FIXTURE, 'bundle'), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const { keptItsName, lostItsName } = errorsByTruth((JSON.parse(result.stdout) as { findings: Finding[] }).findings, mmaps, readers);
  expect(keptItsName).toEqual([]);
  // The race the readers did lose is still told: 12939's mapping at line 1250, whose file had no link after its munmap.
  expect(lostItsName).toContain(1250);
});

// Review 34 (exactness), F4: a release timed before the unlink it overlapped printed its delay as a clock gone wrong.
it('says a release timed before the unlink it overlapped came that long before it, not that its delay is out of range', () => {
  const text = runCli(['analyze', join(FIXTURE, 'bundle')]);
  expect(text.stdout).not.toContain('out of range');
  // Reader 12938's mapping, held when the rename entered: its munmap at line 287 returned 30.7 ms before the rename did (the ns of lines 287 and 1266).
  expect(text.stdout).toContain("trace.txt:287  +1.663635  tid 12938, 30.7 ms before the unlink's time (the two calls ran at once)");
});

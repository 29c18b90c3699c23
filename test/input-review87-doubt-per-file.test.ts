// Review 87, D3 (low): a hand `strace -p` of an LMDB program that removed
// three files it held mapped since before the trace read as five mappings in
// doubt: LMDB opens data.mdb by two fds, and each fd shown "(deleted)" made a
// doubt of its own, though the report's reference says they are counted once
// a file. Now one a process and name. A real trace
// (test/fixtures/review87-lmdb-hand-p/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, verdictOf } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review87-lmdb-hand-p');

it('three files held since before the trace, removed, two of them by two fds: three mappings in doubt, not five', () => {
  // The program's word: after the swap, three mappings of three files, deleted.
  const truth = readFileSync(join(FIXTURE, 'truth.txt'), 'utf8').split('== ');
  const afterSwap = truth
    .find((part) => part.startsWith('after-swap'))!
    .trim()
    .split('\n')
    .slice(1);
  const files = new Set(afterSwap.map((line) => line.split(/\s+/)[5]));
  expect(files.size).toBe(3);
  // The trace's: data.mdb closed "(deleted)" by two fds of each environment.
  const trace = readFileSync(join(FIXTURE, 'trace.txt'), 'utf8');
  expect(trace.match(/close\(\d+<[^>]*\/data\.mdb>\(deleted\)\)/g)).toHaveLength(4);

  const { report, failOn } = verdictOf(join(FIXTURE, 'trace.txt'));
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(files.size);
  expect(report.warnings).toContainEqual(
    expect.stringMatching(/^the last name of \/tmp\/review87-work\/lmdb\/h-p\/w\/C\/data\.mdb went at .* \(and 2 more like it\), a file process 14959 held open since before the trace/),
  );
  expect(failOn).toBe(2);
});

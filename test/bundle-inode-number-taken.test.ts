// Under bpftrace the engine knows a file by its device and inode number. A file an open found replaced at its name
// (another inode), let go by its last holder, has its number freed by the kernel, and ext4 gives it to the next file
// made, at once. Found when review 70's programs first shared one capture: program 1 exited holding a mapping of its
// replaced cache.bin (/proc: "(deleted)"), program 2's record.txt took the freed number, and the close of record.txt,
// a link count of 1, was taken for the old file still named: the doubt dropped, the leak read clean, exit 0. A number
// is now tied to the file the open found replaced only while something holds it (test/fixtures/inode-number-taken).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { verdictOf } from './support/tools.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'inode-number-taken');
const BUNDLE = join(FIXTURE, 'bundle');
const WORK = '/tmp/om-run-rZwSG9/om-review70-bpftrace-at-once-ucvbDe';

it('the record of the bundle: program 1 exited holding its replaced file, and a file program 2 made then took its inode number', () => {
  const cache = `${WORK}/1/w/cache.bin`;
  // The kernel's word, read by program 1 before it exited: its first mapping's file had lost its name.
  expect(readFileSync(join(FIXTURE, 'record-1.txt'), 'utf8')).toMatch(new RegExp(` 2900254 +${cache.replaceAll('.', '\\.')} \\(deleted\\)$`, 'm'));
  const lines = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
  const exit = at(/ 8804 8804 exit code=/);
  const taken = at(/ 8805 8805 open sys=openat ret=\d+ .* ino=2900254 .* path=\S+\/2\/w\/record\.txt /);
  expect(at(/ 8804 8804 open .* ino=2900254 .*\/1\/w\/cache\.bin /)).toBeGreaterThan(0);
  expect(at(/ 8804 8804 open .* ino=2900267 .*\/1\/w\/cache\.bin /)).toBeGreaterThan(0);
  expect(exit).toBeGreaterThan(0);
  expect(taken).toBeGreaterThan(exit);
  expect(lines[taken + 1]).toMatch(/ 8805 8805 close fd=\d+ ret=0 .*nlink=1 ino=2900254 /);
});

it("program 1's mapping of the replaced file stays in doubt when a later file takes its inode number: --fail-on error exits 2", () => {
  const { report, failOn } = verdictOf(BUNDLE, { path: `${WORK}/1/w/cache.bin` });
  expect([report.findings, report.summary.mappingsInDoubt], report.warnings.join('\n')).toEqual([[], 1]);
  expect(failOn).toBe(2);
  // Program 2's record.txt is a file of its own: no finding, no doubt.
  expect(verdictOf(BUNDLE, { path: `${WORK}/2/w/record.txt` }).report.summary.mappingsInDoubt).toBe(0);
  // And the bundle's three replaced files (programs 0, 1 and 3) are the three in doubt.
  expect(verdictOf(BUNDLE).report.summary.mappingsInDoubt).toBe(3);
});

// A file opened through a symlink to it, under bpftrace: the open's record
// names the symlink, and its dir= tells only the directory that holds the
// file and the length and tag of the file's own name there. The file went by
// the symlink's name, and a later unlink by its own name found nothing: a
// leak /proc showed was reported as "no mapping outlived its file", with no
// warning (review 19: gdbmtool; every shared library ld.so opens by its
// soname is opened so, and dpkg replaces them). A real bundle; the truth is
// the program's own read of /proc/PID/maps
// (test/fixtures/review19-symlink-bpftrace/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review19-symlink-bpftrace');
const DIR = '/tmp/review19x/gdbm';

it('finds the mapping left when the file opened through a symlink is unlinked by its own name, as /proc showed', () => {
  // The precondition, from the capture's own lines and the program's /proc: opened as cur.db, unlinked as g-v1.db,
  // and the mapping /proc showed deleted.
  const lines = readFileSync(join(FIXTURE, 'bundle', 'trace.txt'), 'utf8').split('\n');
  expect(lines[126]).toMatch(new RegExp(`open sys=openat ret=4 .* path=${DIR}/cur\\.db$`));
  expect(lines[201]).toMatch(new RegExp(`unlink sys=unlinkat ret=0 .* path=${DIR}/g-v1\\.db$`));
  const truth = readFileSync(join(FIXTURE, 'maps-truth.txt'), 'utf8').trim().split('\n');
  expect(truth).toHaveLength(1);
  const [range] = truth[0]!.split(' ') as [string];
  expect(truth[0]).toMatch(/ \/tmp\/review19x\/gdbm\/g-v1\.db \(deleted\)$/);
  const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16)) as [number, number];
  const result = runCli(['analyze', join(FIXTURE, 'bundle'), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string; address: string; length: number; names?: string[] }[] };
  expect(report.findings.map((finding) => [finding.kind, finding.path, Number.parseInt(finding.address, 16), finding.length])).toEqual([
    ['unlinked-while-mapped', `${DIR}/g-v1.db`, start, end - start],
  ]);
});

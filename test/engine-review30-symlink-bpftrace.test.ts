// Review 30 (exactness), S1: under bpftrace, a file mapped through a symlink
// made before the trace went by the symlink's name, and removing the symlink
// (or renaming a new one over it, as ldconfig and dpkg refresh a library's
// soname) was taken for the removal of the file's last name: a false error
// for every library a process loaded by its soname. The file's own name is
// still awaited then; removing it is still a leak. A real bundle; the truth
// is the program's own /proc/self/maps
// (test/fixtures/review30-symlink-bpftrace/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review30-symlink-bpftrace');
const DIR = '/tmp/review30x/w';

it('a symlink removed or replaced is no removal of the file mapped through it; the file itself removed is, as /proc showed', () => {
  // The precondition, from the capture's own lines: opened by the symlinks' names, the symlinks removed or renamed over.
  const lines = readFileSync(join(FIXTURE, 'bundle', 'trace.txt'), 'utf8').split('\n');
  for (const [line, name] of [
    [209, 'kept'],
    [213, 'relinked'],
    [217, 'removed'],
  ] as const) {
    expect(lines[line - 1]).toMatch(new RegExp(` open sys=openat ret=3 .* path=${DIR}/${name}\\.link `));
  }
  expect(lines[220]).toMatch(new RegExp(` unlink sys=unlink ret=0 .* path=${DIR}/kept\\.link `));
  expect(lines[286]).toMatch(new RegExp(` rename sys=renameat ret=0 .* path=${DIR}/relinked\\.link `));
  expect(lines[291]).toMatch(new RegExp(` unlink sys=unlink ret=0 .* path=${DIR}/removed\\.link `));
  expect(lines[292]).toMatch(new RegExp(` unlink sys=unlink ret=0 .* path=${DIR}/removed-0001\\.seg `));
  // The program's own maps: three mappings, one deleted.
  const truth = readFileSync(join(FIXTURE, 'maps-truth.txt'), 'utf8').trim().split('\n');
  expect(truth).toHaveLength(3);
  const deleted = truth.filter((line) => line.endsWith(' (deleted)'));
  expect(deleted).toHaveLength(1);
  const [range] = deleted[0]!.split(' ') as [string];
  const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16)) as [number, number];
  const result = runCli(['analyze', join(FIXTURE, 'bundle'), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string; address: string; length: number }[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.map((finding) => [finding.kind, finding.path, Number.parseInt(finding.address, 16), finding.length])).toEqual([
    ['unlinked-while-mapped', `${DIR}/removed-0001.seg`, start, end - start],
  ]);
  expect(report.summary.mappingsInDoubt).toBe(0);
});

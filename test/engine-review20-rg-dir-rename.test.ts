// ripgrep keeps the directory it searches open (O_DIRECTORY) while it maps
// the files in it, so the trace knows the directory as a file. `mv rgw
// rgw.old` then moved only that one name, not the names under it: the
// unlink of rgw.old/f2.txt by `rm -rf` found no file, and a mapping /proc
// showed "(deleted)" was no finding, with no warning (review 20). A real
// trace; the truth is rg's /proc/PID/maps, read while it lived
// (test/fixtures/review20-rg-dir-rename/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review20-rg-dir-rename');
const TRACE = join(FIXTURE, 'trace.txt');

it('follows the files of a directory renamed while a process holds it open, to the unlink that leaves its mapping (deleted)', () => {
  // The truth: the pid, address range and path /proc showed "(deleted)".
  const polled = readFileSync(join(FIXTURE, 'proc-maps-polled.txt'), 'utf8').trim().split('\n');
  expect(polled).toHaveLength(1);
  const [, pid, , range] = polled[0]!.split(/\s+/);
  const [start, end] = range!.split('-').map((hex) => Number.parseInt(hex, 16)) as [number, number];
  const path = /(\/\S+) \(deleted\)$/.exec(polled[0]!)![1]!;
  expect(path).toBe('/tmp/rv/rgw.old/f2.txt');
  // The precondition, from strace's lines: rg's directory fd, the rename of the directory, the unlink through it.
  const lines = readFileSync(TRACE, 'utf8').split('\n');
  const unlink = lines.findIndex((line) => line.includes('unlinkat(4</tmp/rv/rgw.old>, "f2.txt", 0) = 0')) + 1;
  expect(lines.some((line) => line.startsWith(`${pid} `) && line.includes('"rgw", O_RDONLY') && line.includes('O_DIRECTORY) = 3</tmp/rv/rgw>'))).toBe(true);
  expect(lines.findIndex((line) => line.includes('renameat2(AT_FDCWD</tmp/rv>, "rgw", AT_FDCWD</tmp/rv>, "rgw.old"'))).toBeGreaterThan(0);
  expect(unlink).toBeGreaterThan(0);

  const result = runCli(['analyze', TRACE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(orphans.map((finding) => [finding.pid, finding.address, Math.ceil(finding.length / 4096) * 4096, finding.path, finding.unlinkedAt?.line])).toEqual([
    [Number(pid), `0x${start.toString(16)}`, end - start, path, unlink],
  ]);
});

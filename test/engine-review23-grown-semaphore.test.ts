// Review 23 (attack), F1: the semaphore rule (a page or less of
// /dev/shm/sem.NAME, unlinked in use: benign) was judged once, when the file
// went. A program that then grew the mapping with mremap held 64 MiB of RAM
// under a "benign" finding, and --fail-on error passed. Now a benign rule by
// size is judged again at each mremap of the mapping.
//
// A real python3 program under real strace: it maps one page of its
// semaphore-named file, unlinks it, then grows the mapping with mmap.resize
// (ftruncate of the fd it keeps, then mremap). The truth: its own
// /proc/self/maps after the resize.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
os.ftruncate(fd, 4096)
sem = mmap.mmap(fd, 4096)
os.close(fd)
os.unlink(path)
grow = int(sys.argv[2])
if grow:
    sem.resize(grow)
with open("/proc/self/maps") as maps:
    print(";".join(line.split()[0] for line in maps if line.rstrip().endswith(path + " (deleted)")), flush=True)
`;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

function traced(name: string, grow: number): { deleted: [number, number]; findings: Finding[]; status: number } {
  const trace = join(workspace(`grown-sem-${name}`), 'trace.txt');
  const path = `/dev/shm/sem.om-${process.pid}-${name}`;
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-o', trace, PYTHON, '-c', PROGRAM, path, String(grow)], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const [start, end] = run.stdout
    .trim()
    .split('-')
    .map((hex) => Number.parseInt(hex, 16));
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: Finding[] };
  return { deleted: [start!, end!], findings: report.findings, status: runCli(['analyze', trace, '--fail-on', 'error']).status };
}

it('a semaphore-named page grown to 64 MiB after the unlink is an error, not benign; one left a page stays benign', () => {
  const grown = traced('grown', 64 << 20);
  // The kernel's word: 64 MiB outlived the file.
  expect(grown.deleted[1] - grown.deleted[0]).toBe(64 << 20);
  expect(grown.findings.map((f) => [f.severity, f.benign ?? null])).toEqual([['error', null]]);
  expect(grown.findings[0]!.note).toMatch(/^Named as the file of "POSIX semaphore unlinked in use" is, but its mapping was mremapped to 67108864 bytes at .*trace\.txt:\d+, after the unlink: /);
  expect(grown.status).toBe(3);

  const page = traced('page', 0);
  expect(page.deleted[1] - page.deleted[0]).toBe(4096);
  expect(page.findings.map((f) => [f.severity, f.benign ?? null])).toEqual([['info', 'POSIX semaphore unlinked in use']]);
  expect(page.status).toBe(0);
}, 60_000);

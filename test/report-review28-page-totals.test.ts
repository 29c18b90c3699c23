// Review 28 (exactness), finding 2: the "held when unlinked" total added each
// mapping's length as mmap was given it, where /proc/PID/maps counts whole
// pages. A program that maps 5,000 bytes, 1 byte, and 4,097 bytes grown to
// 12,293 by mremap holds 28 KiB of deleted mappings; the headline said
// 16.9 KiB.
//
// A real program (python3's mmap module, whose resize is ftruncate and
// mremap); the truth is its own /proc/self/maps after the unlinks.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
directory = sys.argv[1]
kept = []
for name, length, grown in (("five-thousand", 5000, None), ("one-byte", 1, None), ("grown", 4097, 12293)):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.truncate(length)
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, length, mmap.MAP_SHARED)
    if grown is not None:
        m.resize(grown)
    os.close(fd)
    os.unlink(path)
    kept.append(m)
total = 0
with open("/proc/self/maps") as maps:
    for line in maps:
        if line.rstrip("\\n").endswith(" (deleted)") and directory in line:
            start, end = (int(part, 16) for part in line.split()[0].split("-"))
            total += end - start
print(total)
`;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('strace -f -ttt -yy: the held-when-unlinked total is what /proc/self/maps shows deleted, in whole pages', () => {
  const work = workspace('page-totals');
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-o', trace, PYTHON, '-c', PROGRAM, work], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const deletedBytes = Number(run.stdout.trim());
  // The program's own maps: 2 + 1 + 4 pages.
  expect(deletedBytes).toBe(7 * 4096);
  const kib = `${(deletedBytes / 1024).toFixed(1)} KiB`;
  const text = runCli(['analyze', trace]);
  expect(text.status, text.stderr).toBe(0);
  expect(text.stdout.split('\n')[0]).toContain(`3 mappings outlived their files`);
  expect(text.stdout.split('\n')[0]).toContain(`(${kib} held when unlinked;`);
  const ticket = runCli(['analyze', trace, '--format', 'markdown']);
  expect(ticket.stdout).toContain(`${kib} held when unlinked`);
  // Each finding still says what mmap was asked for.
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: { kind: string; length: number }[] };
  const lengths = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped').map((finding) => finding.length);
  expect(lengths.sort((a, b) => a - b)).toEqual([1, 5000, 12293]);
});

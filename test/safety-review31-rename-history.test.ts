// Review 31 (attack), F2: each new name of a file copied its whole history
// of names, so a traced program that renames a directory of N mapped files
// back and forth R times made the analysis cost N·R² (a 435 KB trace took
// 219 s and 900 MB of root's `analyze`), and one file renamed 40,000 times,
// 42 s. A file's history now keeps its first name and its newest 31.
//
// A real program under real strace: python renames a directory of mapped
// files, and one file, back and forth, then unlinks one. The truth is its own
// /proc/self/maps: the unlinked file's mapping, deleted, by its last name.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const RENAMES = 400;

const PROGRAM = `
import mmap, os, sys
work, renames = sys.argv[1], int(sys.argv[2])
x, y = os.path.join(work, "x"), os.path.join(work, "y")
os.mkdir(x)
kept = []
for i in range(20):
    path = os.path.join(x, "f%d" % i)
    with open(path, "wb") as f:
        f.write(bytes(4096))
    fd = os.open(path, os.O_RDWR)
    kept.append(mmap.mmap(fd, 4096))
    os.close(fd)
for i in range(renames):
    os.rename(x, y) if i % 2 == 0 else os.rename(y, x)
one, other = os.path.join(x, "f1"), os.path.join(x, "f1.moved")
for i in range(renames):
    os.rename(one, other) if i % 2 == 0 else os.rename(other, one)
os.unlink(os.path.join(x, "f0"))
os.unlink(one)
with open("/proc/self/maps") as maps:
    for line in maps:
        if line.rstrip("\\n").endswith(" (deleted)"):
            print(line.split()[-2])
`;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('a directory of mapped files renamed 400 times, and a file: the findings name the last and first names, 32 at most', () => {
  const work = workspace('rename-history');
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-o', trace, PYTHON, '-c', PROGRAM, work, String(RENAMES)], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // The program's word: the two unlinked files' mappings, deleted, by their last names.
  const deleted = run.stdout.trim().split('\n').sort();
  expect(deleted).toEqual([join(work, 'x', 'f0'), join(work, 'x', 'f1')]);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string; names: string[] }[] };
  const found = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(found.map((finding) => finding.path).sort()).toEqual(deleted);
  for (const finding of found) {
    // Renamed hundreds of times; the history keeps the first name and the newest.
    expect(finding.names.length).toBeLessThanOrEqual(32);
    expect(finding.names[0]).toBe(finding.path);
    expect(finding.names.at(-1)).toBe(finding.path);
    // The name before the last: the directory's other name (f0), or the file's (f1).
    expect(finding.names.at(-2)).toBe(finding.path.endsWith('f0') ? join(work, 'y', 'f0') : join(work, 'x', 'f1.moved'));
  }
});

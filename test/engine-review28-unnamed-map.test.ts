// Review 28 (exactness), finding 6: traced with strace's own classes
// (`-e trace=%file,%memory`: no fcntl, dup or close, no -y), a program maps a
// file through an fd the trace never saw made (an fcntl(F_DUPFD_CLOEXEC)
// copy, as a server maps an fd it was handed) and unlinks the
// file by the name the trace knows. The mapped file has no name in the
// trace, so the unlink matched no mapping: "no mapping outlived its file",
// exit 0, with only a warning. Now a name removed while such a mapping lives
// puts it in doubt: --fail-on exits 2. Unmapped before the unlink, it does not.
//
// A real program (python3, inline); the truth is its own /proc/self/maps
// after the unlink.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import fcntl, mmap, os, sys
path, keep, truth = sys.argv[1], sys.argv[2] == "keep", sys.argv[3]
with open(path, "wb") as f:
    f.truncate(16384)
fd = os.open(path, os.O_RDWR)
# A copy the filter leaves out (fcntl is no %file or %memory call), mapped: as a server maps an fd it was handed.
copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
os.close(fd)
m = mmap.mmap(copy, 16384, mmap.MAP_SHARED)
os.close(copy)
if not keep:
    m.close()
os.unlink(path)
with open("/proc/self/maps") as maps:
    deleted = [line for line in maps if line.rstrip("\\n").endswith(path + " (deleted)")]
with open(truth, "w") as f:
    f.write("".join(deleted))
`;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

// Review 29 (code review, F5): a memfd mapped without -y is as unnamed, and any unlink made a doubt. Only a file the
// trace holds open and knows no mapping of can be the one mapped.
const MEMFD = `
import mmap, os, sys
fd = os.memfd_create("buffer")
os.ftruncate(fd, 16384)
m = mmap.mmap(fd, 16384, mmap.MAP_SHARED)
path = sys.argv[1]
with open(path, "wb") as f:
    f.write(b"x")
os.unlink(path)
with open("/proc/self/maps") as maps:
    print(sum(1 for line in maps if line.rstrip("\\n").endswith(" (deleted)") and "/memfd:" not in line))
`;

describe('a file mapped through an fd the trace never saw made, then unlinked (review 28, exactness 6)', () => {
  it('strace -f -ttt (no -y): a memfd mapped, then a file written, closed and unlinked: clean, exit 0', () => {
    const work = workspace('unnamed-map-memfd');
    const trace = join(work, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-o', trace, PYTHON, '-c', MEMFD, join(work, 'w', 'scratch')], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    // The program's word: no file's mapping shown deleted.
    expect(run.stdout.trim()).toBe('0');
    expect(readFileSync(trace, 'utf8')).toMatch(/memfd_create\("buffer", \S+\) = \d+/);
    const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: { kind: string }[]; summary: { mappingsInDoubt: number } };
    expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
    expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(0);
  });

  it.each([
    ['kept mapped: in doubt, --fail-on error exits 2', 'keep', 1, 2],
    ['unmapped first: clean, exit 0', 'unmap', 0, 0],
  ] as const)('strace -f -ttt -e trace=file and memory classes, %s', (_, mode, deleted, status) => {
    const work = workspace(`unnamed-map-${mode}`);
    const trace = join(work, 'trace.txt');
    const truth = join(work, 'truth.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-e', 'trace=%file,%memory', '-o', trace, PYTHON, '-c', PROGRAM, join(work, 'w', 'a.dat'), mode, truth], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    // The program's word: its maps after the unlink show the mapping deleted, or none.
    expect(
      readFileSync(truth, 'utf8')
        .split('\n')
        .filter((line) => line !== ''),
    ).toHaveLength(deleted);
    // The trace: an mmap of an fd no traced call made.
    const lines = readFileSync(trace, 'utf8');
    const opened = /openat\(AT_FDCWD, "[^"]*a\.dat", O_RDWR[^)]*\) = (\d+)/.exec(lines);
    const mapped = /mmap\(NULL, 16384, PROT_READ\|PROT_WRITE, MAP_SHARED, (\d+), 0\)/.exec(lines);
    expect(opened).not.toBeNull();
    expect(mapped).not.toBeNull();
    expect(mapped![1]).not.toBe(opened![1]);

    const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number } };
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(deleted);
    expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(status);
  });
});

// Review 31 (exactness), F-5: under strace without -y, a memfd's fd was one
// "no traced call made", though `memfd_create("ring", 0) = 3` is in the
// trace: a mapping of it then stood for a file nothing names, and the
// removal of any file held open (a spool file opened and unlinked, as
// programs do) put it in doubt: --fail-on exited 2 where nothing leaked.
// memfd_create is read now, as -y's annotation names it.
//
// A real program (python3's os.memfd_create and mmap) under real strace; the
// truth is its own /proc/self/maps.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
ring = os.memfd_create("ring")
os.ftruncate(ring, 65536)
buffer = mmap.mmap(ring, 65536)
spool = os.open(os.path.join(sys.argv[1], "spool.tmp"), os.O_RDWR | os.O_CREAT, 0o644)
os.unlink(os.path.join(sys.argv[1], "spool.tmp"))
with open("/proc/self/maps") as maps:
    deleted = [line.split()[-2] for line in maps if line.rstrip("\\n").endswith(" (deleted)")]
print(" ".join(deleted))
`;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it.each([
  ['strace -f -tt (no -y)', ['-f', '-tt']],
  ['strace -f -tt -y', ['-f', '-tt', '-y']],
])('%s: a memfd mapped, a spool file opened and unlinked: clean, exit 0', (_, flags) => {
  const work = workspace('memfd');
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', [...flags, '-o', trace, PYTHON, '-c', PROGRAM, work], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // The program's word: the memfd's mapping is the only one that prints "(deleted)", and it never had a file name.
  expect(run.stdout.trim()).toBe('/memfd:ring');
  expect(readFileSync(trace, 'utf8')).toMatch(/memfd_create\("ring", MFD_CLOEXEC\) = \d+/);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: { kind: string }[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.includes('no call in the trace had opened') || warning.includes('in doubt'))).toEqual([]);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(0);
});

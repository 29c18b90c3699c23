// Code review 31, F6: every memfd of one name was one file. Wayland clients
// and PipeWire make many memfds of one name ("wayland-shm", "pipewire-memfd");
// one's ftruncate and mmap while another's mapping lived read as a resize of
// a file mapped again without unmapping, with the other memfd's mapping for
// the old one. Each memfd_create in the trace makes its own file now.
//
// A real program (python3's os.memfd_create and mmap) under real strace; the
// truth is its own /proc/self/maps: the new mapping each mmap added.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

// Two memfds named "pool": the second sized and mapped while the first's
// mapping lives (two buffers, no resize), then the first sized up and mapped
// again while its old mapping lives (a resize). Prints the start of each new
// memfd mapping, in the order made: first, second, first again.
const PROGRAM = `
import mmap, os
def memfd_starts():
    with open("/proc/self/maps") as maps:
        return {line.split("-")[0] for line in maps if "/memfd:pool" in line}
made = []
def mapped(fd, size):
    before = memfd_starts()
    view = mmap.mmap(fd, size)
    made.append(("0x" + (memfd_starts() - before).pop()).lower())
    return view
first = os.memfd_create("pool")
os.ftruncate(first, 8192)
a = mapped(first, 8192)
second = os.memfd_create("pool")
os.ftruncate(second, 16384)
b = mapped(second, 16384)
os.ftruncate(first, 32768)
c = mapped(first, 32768)
print(" ".join(made))
`;

interface Report {
  findings: { kind: string; address: string; newAddress: string | null }[];
}

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it.each([
  ['strace -f -tt -yy', ['-f', '-tt', '-yy']],
  ['strace -f -tt (no -y)', ['-f', '-tt']],
])('%s: two memfds of one name, one resized: one resize, of the first, to its own new mapping', (_, flags) => {
  const trace = join(workspace('memfd-names'), 'trace.txt');
  const run = spawnSync('strace', [...flags, '-o', trace, PYTHON, '-c', PROGRAM], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const [first, second, again] = run.stdout.trim().split(' ');
  expect(new Set([first, second, again]).size).toBe(3);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as Report;
  const resizes = report.findings.filter((finding) => finding.kind === 'remapped-without-unmap');
  expect(resizes.map((finding) => [finding.address, finding.newAddress])).toEqual([[first, again]]);
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
});

// Review 58, F1 and F2, and review 56, F7: a leaked mapping an mremap or a
// munmap changed after its finding. Moved whole and then cut, moved in part
// (its head elsewhere, its tail left), or cut in place: each read as its
// finding "contradicted by maps-end.txt" plus a second finding (a third for
// the part moved) "not in the trace", the total still mapped counting what
// was unlinked, not what /proc showed. Each is one finding now, confirmed
// where its pieces are, with what it holds since (Finding.heldLater).
// Truth: the program's own /proc/self/maps lines, read after its last call.
//
// Needs strace (`capture --pid`, stopped while the program still maps them).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Finding, heldNow } from '../src/engine/findings.js';
import { DELETED_MAPS_THEN_WAIT, PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';

const SCENARIOS = join(import.meta.dirname, 'scenarios');

/** Waits to be traced, then leaks moved.dat, head.dat, cut.dat, shrunk.dat and over.dat (256 KiB each) and changes each mapping as its comment says. */
const PROGRAM = `
import mmap, os, sys, time
sys.path.insert(0, ${JSON.stringify(SCENARIOS)})
from deleted_maps import libc_calls, traced
while not traced():
    time.sleep(0.05)
libc = libc_calls()
KIB = 1024
MREMAP_MAYMOVE_FIXED = 3
def leak(name):
    with open(name, "wb") as out:
        out.write(b"\\0" * (256 * KIB))
    fd = os.open(name, os.O_RDWR)
    address = libc.mmap(None, 256 * KIB, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
    os.close(fd)
    os.unlink(name)
    return address
def reserve(size):
    return libc.mmap(None, size, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
# Moved whole, then its first 64 KiB unmapped (review 58, F1).
moved = leak(os.path.abspath("moved.dat"))
place = reserve(256 * KIB)
assert libc.mremap(moved, 256 * KIB, 256 * KIB, MREMAP_MAYMOVE_FIXED, place) == place
assert libc.munmap(place, 64 * KIB) == 0
# Its first 64 KiB moved, the rest left (review 58, F2).
head = leak(os.path.abspath("head.dat"))
place = reserve(64 * KIB)
assert libc.mremap(head, 64 * KIB, 64 * KIB, MREMAP_MAYMOVE_FIXED, place) == place
# Its first 64 KiB unmapped (review 56, F7), then its last: a second cut, said when the capture ends (code review 60, F9).
cut = leak(os.path.abspath("cut.dat"))
assert libc.munmap(cut, 64 * KIB) == 0
assert libc.munmap(cut + 192 * KIB, 64 * KIB) == 0
# Shrunk where it was, to 128 KiB, and another mapping's mremap to a place over the middle 64 KiB of another: one
# resized, the other cut, neither moved (code review 60, F2).
shrunk = leak(os.path.abspath("shrunk.dat"))
assert libc.mremap(shrunk, 256 * KIB, 128 * KIB, 0, None) == shrunk
over = leak(os.path.abspath("over.dat"))
other = reserve(64 * KIB)
assert libc.mremap(other, 64 * KIB, 64 * KIB, MREMAP_MAYMOVE_FIXED, over + 96 * KIB) == over + 96 * KIB
${DELETED_MAPS_THEN_WAIT}`;

const started: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterAll(() => killStillRunning(started));

it('a leaked mapping moved or cut after its finding is one finding, confirmed where its pieces are', async () => {
  const dir = workspace('review58-held-later');
  writeFileSync(join(dir, 'prog.py'), PROGRAM);
  const program = spawn(PYTHON, ['prog.py'], { cwd: dir, stdio: 'ignore' });
  started.push(program);
  const bundle = join(dir, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, started, ['--duration', '4']);
  // The program is done in a fraction of a second under the trace, long before the capture's 4 s are.
  expect((await captured).code).toBe(0);
  program.kill('SIGKILL');

  // Each file's "(deleted)" lines: [start, bytes], in address order.
  const truth = new Map<string, [string, number][]>();
  for (const line of readFileSync(join(dir, 'truth.txt'), 'utf8').split('\n').filter(Boolean)) {
    const fields = line.split(/\s+/);
    const [start, end] = fields[0]!.split('-').map((hex) => Number.parseInt(hex, 16));
    const name = fields[5]!.slice(dir.length + 1);
    truth.set(name, [...(truth.get(name) ?? []), [`0x${start!.toString(16)}`, end! - start!]]);
  }
  expect([...truth.keys()].sort()).toEqual(['cut.dat', 'head.dat', 'moved.dat', 'over.dat', 'shrunk.dat']);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
  expect(report.summary.mappingsInDoubt).toBe(0);
  const found = report.findings.map((finding) => ({
    name: finding.path.slice(dir.length + 1),
    confirmed: finding.confirmedByMaps,
    resolution: finding.resolution,
    by: finding.heldLater?.by,
    held: heldNow(finding).map((range) => [range.address, range.length]),
  }));
  expect(found.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
    { name: 'cut.dat', confirmed: true, resolution: 'still-mapped', by: 'munmap', held: truth.get('cut.dat') },
    { name: 'head.dat', confirmed: true, resolution: 'still-mapped', by: 'mremap', held: truth.get('head.dat') },
    { name: 'moved.dat', confirmed: true, resolution: 'still-mapped', by: 'munmap', held: truth.get('moved.dat') },
    { name: 'over.dat', confirmed: true, resolution: 'still-mapped', by: 'mremap-over', held: truth.get('over.dat') },
    { name: 'shrunk.dat', confirmed: true, resolution: 'still-mapped', by: 'mremap', held: truth.get('shrunk.dat') },
  ]);
  // What the unlinks left mapped, and what /proc showed at the end: 128 KiB of cut.dat, 64 + 192 of head.dat, 192 of moved.dat,
  // 96 + 96 of over.dat, 128 of shrunk.dat.
  const pid = report.findings[0]!.pid;
  const text = runCli(['analyze', bundle]).stdout;
  expect(text.split('\n')[0]).toBe(`orphanmap: 5 mappings outlived their files in process ${pid} (1.3 MiB held when unlinked; still mapped at the end: 5, 896.0 KiB).`);
  const [headStart, headEnd] = [truth.get('head.dat')![0]!, truth.get('head.dat')![1]!];
  expect(text).toContain(
    `moved by mremap to ${headStart[0]}-0x${(Number(headStart[0]) + headStart[1]).toString(16)}, ${headEnd[0]}-0x${(Number(headEnd[0]) + headEnd[1]).toString(16)} (256.0 KiB in 2 pieces)`,
  );
  const [shrunk] = truth.get('shrunk.dat')!;
  expect(text).toContain(`resized by mremap to ${shrunk![0]}-0x${(Number(shrunk![0]) + shrunk![1]).toString(16)} (128.0 KiB) at `);
  const [below, above] = truth.get('over.dat')!;
  expect(text).toMatch(
    new RegExp(
      `cut by an mremap over part of it at \\S+:\\d+ to ${below![0]}-0x${(Number(below![0]) + below![1]).toString(16)}, ${above![0]}-0x${(Number(above![0]) + above![1]).toString(16)} \\(192\\.0 KiB in 2 pieces\\)`,
    ),
  );
}, 120_000);

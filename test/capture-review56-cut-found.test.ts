// Review 56, F5: under bpftrace, a leak whose path bpftrace cut, still mapped
// when the capture read the maps at the end, is a finding by maps-end.txt,
// and was counted again in doubt (the unlink by its cut name "may have
// removed" its last name): "1,500 mappings outlived their files …; 1,500
// more mappings are in doubt", where /proc showed 1,500 and nothing else. A
// finding of the mapping's process and address covers its doubt.
// Truth: the program's own /proc/self/maps lines, read after the unlink.
//
// Needs bpftrace.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { captureUntilEnded, DELETED_MAPS_THEN_WAIT, PYTHON, workspace } from './scenarios/harness.js';
import { CLI, requireTool, runCli } from './support/tools.js';

/**
 * Maps a file by a 210-byte path, unlinks it (a leak), moves the mapping with mremap (MREMAP_FIXED, to a place
 * reserved for it: review 58, F13), writes its "(deleted)" maps lines to truth.txt, and waits to be ended.
 */
const PROGRAM = `
import ctypes, mmap, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mremap.restype = ctypes.c_void_p
libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p]
work = os.path.abspath("w")
name = os.path.join(work, "f" * (210 - len(work) - 1))
with open(name, "wb") as out:
    out.write(b"\\0" * 8192)
fd = os.open(name, os.O_RDWR)
address = libc.mmap(None, 8192, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
os.close(fd)
os.unlink(name)
reserved = libc.mmap(None, 8192, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)  # PROT_NONE
assert libc.mremap(address, 8192, 8192, 3, reserved) == reserved  # MREMAP_MAYMOVE | MREMAP_FIXED
${DELETED_MAPS_THEN_WAIT}`;

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

it('bpftrace, a path it cut: a leak maps-end.txt shows is a finding, and no more in doubt, moved by mremap after the unlink', () => {
  const { bundle, truth } = captureUntilEnded('review56-cut-found', PROGRAM, 'bpftrace', 4);
  expect(truth).toHaveLength(1);
  const address = `0x${truth[0]!.split('-')[0]!.replace(/^0+/, '')}`;
  // bpftrace printed the unlink's path cut.
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ unlink sys=unlink\S* ret=0 .* path=\/\S+ /);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  // Decided by maps-end.txt, where the mapping went; its cut name's doubt followed it there.
  expect(report.findings.map((finding) => [finding.kind, finding.address, finding.length, finding.confirmedByMaps])).toEqual([['unlinked-while-mapped', address, 8192, true]]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.startsWith('bpftrace cut paths at the length it prints'))).toEqual([]);
  expect(runCli(['analyze', bundle]).stdout.split('\n')[0]).not.toContain('in doubt');
}, 150_000);

/**
 * Leaks a file by a short path at an address, unmaps it (a finding, unmapped), then maps a file by a 210-byte
 * path at that very address (MAP_FIXED), unlinks it, and exits with it mapped: the second leak's only word is
 * the doubt of its cut name. Writes both addresses to truth.txt.
 */
const REUSED = `
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
work = os.path.abspath("w")
def mapped(name, at=None):
    with open(name, "wb") as out:
        out.write(b"\\0" * 8192)
    fd = os.open(name, os.O_RDWR)
    flags = mmap.MAP_SHARED | (0x10 if at is not None else 0)
    address = libc.mmap(at, 8192, mmap.PROT_READ | mmap.PROT_WRITE, flags, fd, 0)
    os.close(fd)
    os.unlink(name)
    return address
first = mapped(os.path.join(work, "short.bin"))
libc.munmap(first, 8192)
second = mapped(os.path.join(work, "f" * (210 - len(work) - 1)), first)
with open("truth.txt", "w") as out:
    out.write(f"{first:x} {second:x}\\n")
`;

it('bpftrace, a path it cut: an earlier, unmapped finding at the address the kernel gave again covers no doubt (review 58, F5)', () => {
  const dir = workspace('review58-cut-reused');
  writeFileSync(join(dir, 'prog.py'), REUSED);
  const bundle = join(dir, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, 'prog.py'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  const [first, second] = readFileSync(join(dir, 'truth.txt'), 'utf8').trim().split(' ');
  expect(second).toBe(first);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  // The short path's leak, unmapped; the cut one's exit with its process, in doubt.
  expect(report.findings.map((finding) => [finding.kind, finding.address, finding.resolution, finding.path.split('/').at(-1)])).toEqual([
    ['unlinked-while-mapped', `0x${first}`, 'unmapped', 'short.bin'],
  ]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(report.warnings.find((warning) => warning.startsWith('bpftrace cut paths at the length it prints'))).toContain(`at 0x${first} `);
}, 150_000);

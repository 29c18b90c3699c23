// Review 5, item 4: a bundle's maps snapshots were read whole, and refused
// over 256 MiB ("not what a capture writes"), with the rest of the bundle.
// But the traced process chooses their size: 70,000 mappings of one 3.9 KB
// path made maps-start.txt and maps-end.txt 277 MB each (1.1 GB at a
// vm.max_map_count of 262,144), so a process could keep itself from being
// analysed. Now the snapshots (and fds-start.txt, the same) are read a line
// at a time whatever their size, and a line keeps what it says and its path
// once. The bundle is made here as the review's target made it (bigmaps.py:
// one file mapped again and again, read and read-write in turn).
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../src/ingest/bundle.js';
import { heapAfterGc } from './support/heap.js';
import { measurePeakRss } from './support/memory.js';
import { CLI, runCli } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-rv5-size-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PID = 4242;
const MAPPINGS = 70_000;
/** bigmaps.py's path: 15 directories of 250 letters and a name of 100, 3,866 bytes. */
const DEEP = `/tmp/review5/deep/${Array.from({ length: 15 }, (_, k) => String.fromCharCode(97 + k).repeat(250)).join('/')}/${'f'.repeat(100)}`;
const MiB = 1024 * 1024;

/** Writes `count` lines made by `line` to `path`, a MiB at a time. */
function writeLines(path: string, first: string[], count: number, line: (k: number) => string): number {
  const fd = openSync(path, 'w');
  let size = 0;
  try {
    let batch = first.join('');
    for (let k = 0; k <= count; k++) {
      if (k < count) batch += line(k);
      if (batch.length >= MiB || k === count) {
        size += writeSync(fd, batch);
        batch = '';
      }
    }
  } finally {
    closeSync(fd);
  }
  return size;
}

const mapsLine = (start: number, perms: string, inode: number, name: string) => `${start.toString(16)}-${(start + 0x1000).toString(16)} ${perms} 00000000 fe:01 ${inode}                    ${name}\n`;
const deepLine = (k: number) => mapsLine(0x7f0000000000 + k * 0x2000, k % 2 === 0 ? 'r--s' : 'rw-s', 1234567, DEEP);

let bundle: string;
const sizes: Record<string, number> = {};

beforeAll(() => {
  bundle = join(scratch, 'bundle');
  mkdirSync(bundle);
  writeFileSync(
    join(bundle, 'meta.json'),
    JSON.stringify({ schema: 'orphanmap/bundle@1', backend: 'strace', pid: PID, mode: 'attached', traceFiles: ['trace.txt'], startTime: 'x', endTime: 'y', exitReason: 'duration', complete: true }),
  );
  // Three leaks, one of a mapping known only from maps-start.txt, one of an fd known only from fds-start.txt.
  const trace = [
    `${PID} 1700000000.000001 openat(AT_FDCWD, "/x/seg.index", O_RDWR) = 3`,
    `${PID} 1700000000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7e0000000000`,
    `${PID} 1700000000.000003 unlink("/x/seg.index") = 0`,
    `${PID} 1700000000.000004 unlink("/x/old.index") = 0`,
    `${PID} 1700000000.000005 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 100, 0) = 0x7b0000000000`,
    `${PID} 1700000000.000006 unlink("/x/fd.map") = 0`,
  ];
  writeFileSync(join(bundle, 'trace.txt'), `${trace.join('\n')}\n`);
  sizes.start = writeLines(join(bundle, 'maps-start.txt'), [mapsLine(0x7d0000000000, 'rw-s', 77, '/x/old.index')], MAPPINGS, deepLine);
  sizes.end = writeLines(
    join(bundle, 'maps-end.txt'),
    [mapsLine(0x7b0000000000, 'r--s', 88, '/x/fd.map (deleted)'), mapsLine(0x7d0000000000, 'rw-s', 77, '/x/old.index (deleted)'), mapsLine(0x7e0000000000, 'r--s', 99, '/x/seg.index (deleted)')],
    MAPPINGS,
    deepLine,
  );
  sizes.fds = writeLines(join(bundle, 'fds-start.txt'), ['100\t/x/fd.map\n'], MAPPINGS, (k) => `${101 + k}\t${DEEP}\n`);
});

interface JsonReport {
  findings: { id: string; kind: string; path: string; address: string; resolution: string; confirmedByMaps?: boolean; mappedAt: { file: string; line: number } }[];
  mapsLines: Record<string, string>;
  warnings: string[];
}

describe("the review's bundle: 70,000 mappings of a 3.9 KB path, maps-start.txt, maps-end.txt and fds-start.txt 277 MB each", () => {
  it('every snapshot is over the 256 MiB once refused', () => {
    for (const size of Object.values(sizes)) expect(size).toBeGreaterThan(256 * MiB);
  });

  it('is analysed whole, each snapshot used, in less memory than one snapshot holds', () => {
    const run = measurePeakRss([process.execPath, CLI, 'analyze', bundle, '--format', 'json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    const found = report.findings.map((finding) => [finding.path, finding.kind, finding.resolution, finding.confirmedByMaps]);
    expect(found.sort()).toEqual([
      ['/x/fd.map', 'unlinked-while-mapped', 'still-mapped', true],
      ['/x/old.index', 'unlinked-while-mapped', 'still-mapped', true],
      ['/x/seg.index', 'unlinked-while-mapped', 'still-mapped', true],
    ]);
    const old = report.findings.find((finding) => finding.path === '/x/old.index')!;
    expect(old.mappedAt).toMatchObject({ file: join(bundle, 'maps-start.txt'), line: 1 });
    expect(report.mapsLines[old.id]).toBe(mapsLine(0x7d0000000000, 'rw-s', 77, '/x/old.index (deleted)').trimEnd());
    expect(report.warnings.filter((warning) => warning.includes('maps-') || warning.includes('fds-start'))).toEqual([]);
    // Measured 195 MiB here (a trace alone: 58), for 830 MB of snapshots; read whole, one of them is 277 MB of text.
    expect(run.peakRssMiB).toBeLessThan(256);
  });

  it('loaded, its snapshots keep a few hundred bytes a line, and the path once', async () => {
    const before = heapAfterGc();
    const loaded = await loadBundle(bundle);
    const kept = heapAfterGc() - before;
    expect(loaded.mapsEnd).toHaveLength(MAPPINGS + 3);
    expect(loaded.seeds.get(PID)).toHaveLength(MAPPINGS + 1);
    expect(loaded.fdSeeds.get(PID)).toHaveLength(MAPPINGS + 1);
    expect(loaded.mapsEnd![MAPPINGS + 2]!.text).toBe(deepLine(MAPPINGS - 1).trimEnd());
    // Measured 63 MiB for 210,000 lines; the snapshots hold 830 MB of text.
    expect(kept).toBeLessThan(96 * MiB);
    for (const fd of loaded.traceFds) closeSync(fd);
  });
});

describe('a maps snapshot that is 257 MiB of nothing (sparse)', () => {
  it('is an unreadable line, and the rest of the bundle is analysed', () => {
    const dir = join(scratch, 'sparse');
    mkdirSync(dir);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ pid: PID, mode: 'attached', endTime: 'y', exitReason: 'duration', complete: true }));
    writeFileSync(
      join(dir, 'trace.txt'),
      `${PID} 1700000000.000001 openat(AT_FDCWD, "/x/a", O_RDWR) = 3\n${PID} 1700000000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7e0000000000\n${PID} 1700000000.000003 unlink("/x/a") = 0\n`,
    );
    writeFileSync(join(dir, 'maps-start.txt'), '');
    truncateSync(join(dir, 'maps-start.txt'), 257 * MiB);
    const run = runCli(['analyze', dir, '--format', 'json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.findings.map((finding) => finding.path)).toEqual(['/x/a']);
    expect(report.warnings).toContain(`${join(dir, 'maps-start.txt')}:1: unreadable line, not a /proc/PID/maps line: ${257 * MiB} characters, more than the 1048576 of the longest line read`);
  });
});

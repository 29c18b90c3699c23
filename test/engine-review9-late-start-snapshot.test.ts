// A bundle's fds-start.txt is read after the tracer attached: for a busy
// process, after calls the trace already shows. A real one (CI, tdbtool;
// test/fixtures/review9-late-start/README.md) has fd 3 as `db.tdb (deleted)`
// although the trace's first line opens db.tdb on fd 3 and the file was
// replaced later. The seed was kept as the file of a close in flight, and took
// every later "(deleted)" annotation of fd 3: no leak was reported.
// maps-start.txt was read late too: it holds a mapping of db.tdb the trace
// makes only at its line 450, and the trace's ftruncate and mmap at lines 7
// and 9 made it a remapped-without-unmap warning (test/capture-seeded-remap
// checks that a real one is still reported).
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review9-late-start', 'bundle');
const DB = '/tmp/om-r9db-5uK32X/w/db.tdb';

it('finds the two mappings the replaced database left, whatever fds-start.txt read late says of fd 3', () => {
  // The precondition: the late snapshot, and the trace's own open of fd 3 before it.
  expect(readFileSync(join(BUNDLE, 'fds-start.txt'), 'utf8')).toContain(`3\t${DB} (deleted)\n`);
  expect(readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n')[0]).toContain(`"db.tdb", O_RDWR|O_CREAT|O_TRUNC, 0600) = 3<${DB}>`);
  const result = runCli(['analyze', BUNDLE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string; severity: string; address: string; length: number; resolution: string; confirmedByMaps?: boolean }[] };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.path === DB);
  expect(orphans.map((finding) => [finding.severity, finding.address, finding.length, finding.resolution])).toEqual([
    ['error', '0x7fe9ed661000', 180_224, 'unmapped'],
    ['error', '0x7fe9ed636000', 356_352, 'still-mapped'],
  ]);
  expect(orphans[1]!.confirmedByMaps).toBe(true);
});

it('makes no remap of the mapping maps-start.txt holds but the trace makes later', () => {
  // The precondition, from strace's lines: a non-fixed mmap returns the range maps-start.txt holds (the kernel
  // never returns one still mapped), with no munmap of it before; an ftruncate and an mmap of db.tdb come first.
  const lines = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  expect(readFileSync(join(BUNDLE, 'maps-start.txt'), 'utf8')).toContain(`7fe9ed677000-7fe9ed68d000 rw-s 00000000 fe:00 2623105                    ${DB}\n`);
  const made = lines.findIndex((line) => line.includes('= 0x7fe9ed677000'));
  expect(made + 1).toBe(450);
  expect(lines[made]).toMatch(/mmap\(NULL, 90112, PROT_READ\|PROT_WRITE, MAP_SHARED, 3</);
  expect(lines.slice(0, made).some((line) => line.includes('munmap(0x7fe9ed677000'))).toBe(false);
  expect(lines[6]).toContain('ftruncate(3<');
  expect(lines[8]).toContain('mmap(NULL, 696,');
  const result = runCli(['analyze', BUNDLE, '--format', 'json']);
  const report = JSON.parse(result.stdout) as { findings: { kind: string }[] };
  expect(report.findings.filter((finding) => finding.kind === 'remapped-without-unmap')).toEqual([]);
});

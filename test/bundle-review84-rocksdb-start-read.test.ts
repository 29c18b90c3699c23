// Review 84, F1: `capture --pid` of RocksDB's db_bench: three tables the
// trace's first moments made and mapped (to write, then to read) were in
// maps-start.txt by their reader's mapping, seeded as mappings made before
// the trace, and their own creation (an open with O_TRUNC) read as a resize
// under them: three false remapped-without-unmap warnings. The capture now
// says when it read maps-start.txt, and what the trace mapped before then is
// the trace's own. A real bundle (test/fixtures/review84-rocksdb-start-read/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review84-rocksdb-start-read', 'bundle');

it('tables made and mapped before the capture read maps-start.txt are no mappings made before the trace: no resize', () => {
  const trace = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  const start = readFileSync(join(BUNDLE, 'maps-start.txt'), 'utf8').split('\n');
  const [, readEnd] = (JSON.parse(readFileSync(join(BUNDLE, 'meta.json'), 'utf8')) as { mapsStartRead: [number, number] }).mapsStartRead;
  // The kernel's word, through strace: each table made by an open with O_TRUNC, then mapped to read at the very address
  // maps-start.txt lists for it, before the capture read it.
  for (const table of ['000526', '000530', '000534']) {
    const made = trace.findIndex((line) => line.includes(`"/tmp/review84-work/dbx1/${table}.sst", O_RDWR|O_CREAT|O_TRUNC`));
    const line = start.find((text) => text.endsWith(`/dbx1/${table}.sst`));
    expect(made, table).toBeGreaterThanOrEqual(0);
    expect(line, table).toBeDefined();
    const address = `0x${line!.split('-')[0]}`;
    const reader = trace.findIndex(
      (text, index) => index > made && new RegExp(`mmap\\(NULL, \\d+, PROT_READ, MAP_SHARED, \\d+</tmp/review84-work/dbx1/${table}\\.sst>, 0\\) = ${address} `).test(text),
    );
    expect(reader, table).toBeGreaterThan(made);
    expect(Number(trace[reader]!.split(/\s+/)[1])).toBeLessThan(readEnd);
  }

  const run = runCli(['analyze', BUNDLE, '--format', 'json', '--fail-on', 'warning']);
  const report = JSON.parse(run.stdout) as { findings: { kind: string }[]; warnings: string[] };
  expect(
    report.findings.filter((finding) => finding.kind === 'remapped-without-unmap'),
    report.warnings.join('\n'),
  ).toEqual([]);
  expect(report.findings).toEqual([]);
  expect(run.status).toBe(0);
});

// A leak going on through a kept fd (Mappings.continued): the finding of its
// last mapping says how many others the process made after the name went
// and unmapped. It counted along a chain from each unmapped window to the
// next one mapped, which restarted whenever the next was mapped before the
// last was unmapped, as Apache does every few windows of a file it sends:
// "3" where the trace showed 32, and no count at all in this bundle, whose
// trace shows 46 (review 20). A real bundle; the truth is strace's own lines
// (test/fixtures/review20-apache-windows/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review20-apache-windows', 'bundle');
const FILE = '/tmp/rv/ap/www/big.bin';

it('counts every mapping of a file made after its name went and unmapped, as the trace shows them', () => {
  const lines = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  // The truth, from strace's lines: the rename over the file, then Apache's mappings of it (not mv's).
  const rename = lines.findIndex((line) => line.includes('renameat(AT_FDCWD</tmp/rv/ap>, "www/.big.tmp", AT_FDCWD</tmp/rv/ap>, "www/big.bin"'));
  expect(rename).toBeGreaterThan(0);
  const after = lines.slice(rename + 1).filter((line) => /^\d+<apache2> \S+ mmap\(/.test(line) && line.includes(`<${FILE}>`));
  expect(after).toHaveLength(46);

  const result = runCli(['analyze', BUNDLE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.path === FILE);
  // Each mapping either listed as a finding or counted in the note of the last.
  const counted = orphans.map((finding) => /(\d+) other mappings? of it that this process made after the name went and unmapped/.exec(finding.note ?? '')?.[1]);
  const notListed = counted.reduce((sum, count) => sum + Number(count ?? 0), 0);
  expect(counted.filter((count) => count !== undefined)).toHaveLength(1);
  expect(orphans.length + notListed).toBe(after.length);
});

// Review 34's code review, 2 and 3: what a count at the end says of a file
// with a name left takes back only what it is about. Two real bundles, each
// with the program's own record (test/fixtures/review34-code-review/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const FIXTURES = join(REPO, 'test', 'fixtures', 'review34-code-review');

it("a leak's finding stays an error when another file with a name left is mapped over part of it (2)", () => {
  const bundle = join(FIXTURES, 'hide', 'bundle');
  const truth = JSON.parse(readFileSync(join(FIXTURES, 'hide', 'truth.json'), 'utf8')) as { A: string; maps: string[] };
  // The program's word: a.dat's first page and b1's page, both printed "(deleted)"; the capture's: a.dat's file has no link left.
  expect(truth.maps.map((line) => line.trim().split(/\s+/).slice(-2).join(' '))).toEqual(['/tmp/review34-diff/t/ext/h/a.dat (deleted)', '/tmp/review34-diff/t/ext/h/b1 (deleted)']);
  expect(readFileSync(join(bundle, 'maps-end.nlink'), 'utf8')).toContain(`${truth.A.slice(2)}-`);
  expect(readFileSync(join(bundle, 'maps-end.nlink'), 'utf8')).toMatch(new RegExp(`^${truth.A.slice(2)}-[0-9a-f]+ 0 `, 'm'));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[] };
  const leak = report.findings.filter((finding) => finding.path.endsWith('/a.dat'));
  expect(leak.map((finding) => [finding.address, finding.severity, finding.benign])).toEqual([[truth.A, 'error', undefined]]);
  expect(report.warnings.filter((warning) => warning.includes('kept by another name'))).toEqual([]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
});

it('a doubt about a mapping released during the trace is not settled by the count of a later file of the same name (3)', () => {
  const bundle = join(FIXTURES, 'settle', 'bundle');
  const truth = JSON.parse(readFileSync(join(FIXTURES, 'settle', 'truth.json'), 'utf8')) as { links_before: number; links_after_unlink_keep: number };
  // The program's word: its mapping's file lost its last name under the trace.
  expect(truth).toEqual({ links_before: 1, links_after_unlink_keep: 0 });
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { summary: { mappingsInDoubt: number } };
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
});

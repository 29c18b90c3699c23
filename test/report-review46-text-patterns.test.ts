// Review 46, L6: the text report of a Lucene capture was 2,359 finding blocks
// with its warnings after them, and nothing told a release the garbage
// collector only delayed from a leak held until the exit. It now has the
// Markdown summary's groups by file pattern, with how each group ended (the
// median and longest delay of those unmapped later), and its warnings come
// before the finding blocks. Checked against the JSON report of the same
// real traces (a JVM whose System.gc() unmapped its leaks; a process attached
// by hand, whose report warns).
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { formatDelay } from '../src/report/finding-view.js';
import { runCli } from './support/tools.js';

function both(trace: string): { text: string[]; findings: Finding[]; warnings: string[] } {
  const text = runCli(['analyze', trace]).stdout.split('\n');
  const { findings, warnings } = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[] };
  return { text, findings, warnings };
}

it('groups the findings by file pattern, each group with how its findings ended', () => {
  const { text, findings } = both('traces/gc/trace.txt');
  const at = text.indexOf('  by file pattern:');
  expect(at).toBeGreaterThan(0);
  const rows = text.slice(at + 1, text.indexOf('', at));
  // One row per group; together they count every finding.
  const counted = rows.map((row) => Number(/ (\d+)(?: benign)? {2}/.exec(row)![1]));
  expect(counted.reduce((a, b) => a + b, 0)).toBe(findings.length);
  const index = rows.find((row) => row.trimStart().startsWith('*.index.deleted'))!;
  const unmapped = findings.filter((f) => f.path.endsWith('.index.deleted') && f.kind === 'unlinked-while-mapped' && f.resolution === 'unmapped');
  expect(unmapped.length).toBeGreaterThan(1);
  const delays = unmapped.map((f) => f.delayMs!).sort((a, b) => a - b);
  // The median as statistics defines it: of an even count, the mean of the middle two (review 90: of two, it said the smaller).
  const half = delays.length / 2;
  const median = delays.length % 2 === 1 ? delays[Math.floor(half)]! : (delays[half - 1]! + delays[half]!) / 2;
  expect(index).toContain(`${unmapped.length} unmapped later (median ${formatDelay(median)}, max ${formatDelay(delays.at(-1)!)})`);
  // The benign hsperfdata file is counted apart, as the Markdown summary counts it.
  expect(rows.find((row) => row.includes('hsperfdata'))).toMatch(/ 1 benign /);
});

it('puts the warnings before the first finding block', () => {
  const { text, warnings } = both('traces/attach-threads/trace.txt');
  expect(warnings.length).toBeGreaterThan(0);
  const warned = text.indexOf('warnings:');
  const firstBlock = text.findIndex((line) => /^ERROR {3}F\d+ /.test(line));
  expect(warned).toBeGreaterThan(0);
  expect(firstBlock).toBeGreaterThan(warned);
});

it('has no summary for a single finding: its block says it all', () => {
  const { text, findings } = both('traces/fixed/trace.txt');
  expect(findings).toHaveLength(1);
  expect(text).not.toContain('  by file pattern:');
});

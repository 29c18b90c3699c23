// Issue #11, item 13 (the views' half): a trace can give a mapping any length
// strace printed, -5 or 1e23 included. The parser may let such a number
// through; the views must not print "90949470177.3 TiB" or crash on it: they
// say the number is out of range and leave it out of their sums.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { analyze } from '../src/ingest/analyze.js';
import { diffReports, formatDiff } from '../src/report/diff.js';
import { formatDelay, mappingText, mappingView, tally } from '../src/report/finding-view.js';
import { formatReport } from '../src/report/formats.js';
import { buildReport, type Report } from '../src/report/report.js';
import { formatBytes } from '../src/report/sanitize.js';
import { formatText } from '../src/report/text.js';
import { REPO } from './tools.js';

const LEAKY = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
const MiB = 1024 * 1024;
const ABSURD = [-5, 1e23, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 64 + 2 ** 12, 1.5];

let real: Report;
let absurd: Report;
/** Bytes the changed findings held before their lengths were made absurd. */
let replacedBytes = 0;
beforeAll(async () => {
  real = buildReport(await analyze([LEAKY]));
  // The first orphans get the absurd lengths; one of them also a piece list, as after partial munmaps.
  const orphans = real.findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.severity === 'error');
  const changed = new Map<Finding, Finding>(
    ABSURD.map((length, i) => {
      const finding = orphans[i]!;
      return [finding, i === 0 ? { ...finding, length, ranges: [{ address: finding.address, length }] } : { ...finding, length }];
    }),
  );
  absurd = { ...real, findings: real.findings.map((f) => changed.get(f) ?? f) };
  // What the sums counted for them: whole pages, as /proc/PID/maps shows a mapping.
  replacedBytes = [...changed.keys()].reduce((sum, f) => sum + Math.ceil(f.length / 4096) * 4096, 0);
});

describe('lengths no mapping can have', () => {
  it('are flagged where a size is printed, never drawn as TiB', () => {
    const outputs = [formatText(absurd), formatReport(absurd, 'markdown', { command: 'orphanmap analyze' }), formatReport(absurd, 'jira', { command: 'orphanmap analyze' })];
    for (const output of outputs) {
      expect(output).not.toMatch(/TiB|PiB|EiB|90949470177|NaN B|Infinity B/);
      expect(output).toContain('-5 bytes: out of range');
    }
    // The text report draws every finding: each absurd length is named.
    for (const length of ABSURD) expect(outputs[0]).toContain(`length ${String(length)} bytes: out of range`);
  });

  it('are left out of the sums, which count the lengths that can be true', () => {
    const before = tally(real.findings).heldWhenUnlinkedBytes;
    expect(before).toBeGreaterThan(75 * MiB); // eight 10 MiB index mappings
    expect(replacedBytes).toBeGreaterThan(55 * MiB);
    const after = tally(absurd.findings).heldWhenUnlinkedBytes;
    expect(after).toBe(before - replacedBytes);
    expect(formatText(absurd)).toContain(`${formatBytes(after)} held when unlinked`);
    expect(formatDiff(diffReports(absurd, real), 'text')).toContain(`held when unlinked ${formatBytes(after)} → ${formatBytes(before)}`);
  });

  it('give a mapping whose end is unknown, not past 2^64', () => {
    for (const length of ABSURD) {
      const view = mappingView({ ...absurd.findings[0]!, length, ranges: undefined });
      expect(view.plausible).toBe(false);
      expect(view.ranges.map((range) => range.end)).toEqual(['?']);
      expect(mappingText(view)).toMatch(/^0x[0-9a-f]+-\? \(length .* bytes: out of range\)$/);
    }
    const past = mappingView({ ...absurd.findings[0]!, address: '0xfffffffffffff000', length: 8192, ranges: undefined });
    expect(past.ranges[0]!.end).toBe('?');
    expect(mappingView({ ...absurd.findings[0]!, address: '0xfffffffffffff000', length: 4096, ranges: undefined }).ranges[0]!.end).toBe('0x10000000000000000');
  });

  it('keep their raw number in JSON, which is data for other programs', () => {
    const json = JSON.parse(formatReport(absurd, 'json', { command: 'orphanmap analyze' })) as Report;
    expect(json.findings.map((f) => f.length)).toContain(-5);
    expect(json.findings.map((f) => f.length)).toContain(1e23);
  });
});

describe('formatting numbers at the edges', () => {
  it('formats the sizes a 64-bit address space allows, and flags the rest', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(10 * MiB)).toBe('10.0 MiB');
    expect(formatBytes(2 ** 47)).toBe('128.0 TiB');
    expect(formatBytes(2 ** 64)).toBe('16.0 EiB');
    expect(formatBytes(-5)).toBe('? (-5 bytes: out of range)');
    expect(formatBytes(1e23)).toBe('? (1e+23 bytes: out of range)');
    expect(formatBytes(0.5)).toBe('? (0.5 bytes: out of range)');
  });

  it('flags a negative or unknown delay', () => {
    expect(formatDelay(32.6)).toBe('32.6 ms');
    expect(formatDelay(-3)).toBe('? (-3 ms: out of range)');
    expect(formatDelay(Number.NaN)).toBe('? (NaN ms: out of range)');
  });
});

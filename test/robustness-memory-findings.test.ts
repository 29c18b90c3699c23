// Memory must not grow with the number of findings beyond the finding itself
// (issue #14, goal 3): a finding's evidence is its file's life, up to 48
// events, and a trace where every index trim leaks has a finding every few
// dozen lines. Kept as the events themselves (each with its raw line, ~900
// bytes), that was about 7 KiB a finding: 31,000 findings held 400 MiB.
// Kept as positions in the input, re-read when a report asks, an object per
// line (80 bytes), it was 2.2 KiB; as three numbers a line in one array per
// file, with the file's empty sets gone, its mapping's span in fields, flat
// strings and shared name lists, about 1.1 KiB: the finding itself, its file,
// the live mapping it is about and about 10 lines of evidence (24 bytes each).
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heapAfterGc } from './support/heap.js';
import { generate } from './support/generate-trace.mjs';
import { analyze } from '../src/ingest/analyze.js';

const MiB = 1024 * 1024;

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-memory-findings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A filtered trace in which every index trim leaks and nothing unmaps the leak: bench's "leaky" trace. */
function leakyTrace(name: string, bytes: number): { path: string; findings: number } {
  const path = join(scratch, name);
  const fd = openSync(path, 'w');
  const options = { bytes, seed: 3, leakRate: 1, gcRate: 0, filtered: true, write: (text: string) => writeSync(fd, text) };
  const expected = generate(options);
  closeSync(fd);
  return { path, findings: expected.findings['remapped-without-unmap'] + expected.findings['unlinked-while-mapped'] };
}

/** The heap an analysis keeps alive once it is done: the heap after a full GC, with it and before it. */
async function heapKeptBy(path: string, findings: number): Promise<number> {
  const before = heapAfterGc();
  const analysis = await analyze([path]);
  const kept = heapAfterGc() - before;
  expect(analysis.engine.findings().length).toBe(findings);
  return kept;
}

describe('memory stays flat in the number of findings', () => {
  it('keeps under 1.4 KiB per finding, evidence included, between about 2,000 and 8,000 findings (was 6.9 KiB, then 2.2)', async () => {
    const few = leakyTrace('leaky-5.txt', 5 * MiB);
    const many = leakyTrace('leaky-20.txt', 20 * MiB);
    expect(few.findings).toBeGreaterThan(1500);
    expect(many.findings).toBeGreaterThan(6000);
    const keptByFew = await heapKeptBy(few.path, few.findings);
    const keptByMany = await heapKeptBy(many.path, many.findings);
    const perFinding = (keptByMany - keptByFew) / (many.findings - few.findings);
    expect(perFinding, `kept ${keptByFew} bytes for ${few.findings} findings, ${keptByMany} for ${many.findings}`).toBeLessThan(1400);
  }, 120_000);
});

// Review 22 (fontconfig under `live --pid`): a finding the engine decides and
// resolves in one call (a mapping maps-end.txt shows deleted, decided and
// resolved still-mapped at the end; an munmap that ends a window it decides)
// was written twice, the same resolved line, and its "decided" line already
// held a resolution. Each NDJSON line must say something new of its id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const BUNDLES = ['test/fixtures/review9-late-start/bundle', 'test/fixtures/review20-apache-windows/bundle'];

function ndjsonOf(bundle: string): Finding[] {
  const run = runCli(['analyze', join(REPO, bundle), '--format', 'ndjson']);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Finding);
}

describe('analyze --format ndjson: one line per change of a finding', () => {
  for (const bundle of BUNDLES) {
    it(`${bundle}: no line repeats its id's line before, and a first line has no resolution unless it is the only one`, () => {
      const lines = ndjsonOf(bundle);
      const byId = new Map<string, Finding[]>();
      for (const finding of lines) byId.set(finding.id, [...(byId.get(finding.id) ?? []), finding]);
      expect(byId.size).toBeGreaterThan(0);
      for (const [id, seen] of byId) {
        for (let i = 1; i < seen.length; i++) expect(seen[i], `${id}: line ${i + 1} repeats line ${i}`).not.toEqual(seen[i - 1]);
        if (seen.length > 1) expect(seen[0]!.resolution, id).toBeNull();
      }
    });
  }

  it('the late-start bundle: the last mapping of the replaced database, decided at the end, is one still-mapped line where maps-end.txt lists it deleted', () => {
    const bundle = join(REPO, BUNDLES[0]!);
    const deleted = readFileSync(join(bundle, 'maps-end.txt'), 'utf8')
      .split('\n')
      .filter((line) => line.endsWith(' (deleted)'));
    const lines = ndjsonOf(BUNDLES[0]!);
    const still = lines.filter((finding) => finding.resolution === 'still-mapped');
    expect(still).toHaveLength(1);
    expect(lines.filter((finding) => finding.id === still[0]!.id)).toHaveLength(1);
    const start = BigInt(still[0]!.address);
    expect(deleted.some((line) => BigInt(`0x${line.split('-')[0]}`) === start)).toBe(true);
  });
});

// Run.drain leaves the outputs it has applied in place (up to a few hundred)
// instead of emptying its array after every line: each output must still be
// applied once, none twice and none left out, across many drains, several
// inputs, and the last lines an input's end releases.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, type EngineChange } from '../src/engine/engine.js';
import type { Finding } from '../src/engine/findings.js';
import { analyze } from '../src/ingest/analyze.js';
import { generate } from './support/generate-trace.mjs';
import { readStrace } from './support/trace-text.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-run-drain-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function generated(name: string, seed: number, bytes: number): { path: string; text: string } {
  let text = '';
  generate({ bytes, seed, filtered: true, leakRate: 0.9, write: (chunk: string) => (text += chunk) });
  const path = join(scratch, name);
  writeFileSync(path, text);
  return { path, text };
}

/** What a finding says, but for its evidence and the input's name in its places. */
function facts(findings: readonly Finding[]): string {
  return JSON.stringify(findings.map(({ evidence: _evidence, ...finding }) => finding)).replaceAll(scratch, '');
}

describe('Run: every parser output applied once', () => {
  it('applies each event of each input once, as an engine fed them one by one does', async () => {
    // Thousands of events in each input: many times the outputs left in place between drains.
    const inputs = [generated('a.txt', 11, 400 * 1024), generated('b.txt', 12, 300 * 1024)];
    const changes: EngineChange['type'][] = [];
    const analysis = await analyze(
      inputs.map((input) => input.path),
      { onChange: (change) => changes.push(change.type) },
    );

    const engine = new Engine();
    const expected: EngineChange['type'][] = [];
    let events = 0;
    for (const input of inputs) {
      for (const event of readStrace(input.text, input.path).events) {
        events++;
        for (const change of engine.apply(event)) expected.push(change.type);
      }
    }
    for (const change of engine.finish()) expected.push(change.type);

    expect(events).toBeGreaterThan(3000);
    expect(analysis.events).toBe(events);
    expect(analysis.engine.findings().length).toBeGreaterThan(10);
    expect(facts(analysis.engine.findings())).toBe(facts(engine.findings()));
    expect(changes).toEqual(expected);
    // The evidence read back from the inputs is the lines the events were read from.
    for (const [k, finding] of analysis.engine.findings().entries()) {
      expect(finding.evidence.map((line) => line.text)).toEqual(engine.evidenceOf(engine.findings()[k]!).map((line) => line.text));
    }
  });
});

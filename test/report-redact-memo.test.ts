// Redaction remembers what it worked out (issue #14: a SHA-256 for every
// name of every evidence line). What it remembers must never change an
// answer: not once it has forgotten (it is bounded), and not when a run's
// names to replace whole change. Hashes as in report-redact.test.ts:
//   kafka-logs 716b37d0   orders 1c168adb   data 3a6eb079   trace eafe895e
import { describe, expect, it } from 'vitest';
import { redactPath, redactText, shortHash } from '../src/report/redact.js';

describe('redaction remembered', () => {
  it('gives the same answers after more names than it remembers, in any order', () => {
    const paths = Array.from({ length: 20_000 }, (_, i) => `/data/topic${i}x/orders-${i % 7}/${String(i).padStart(20, '0')}.index`);
    const first = paths.map(redactPath);
    const again = [...paths].reverse().map(redactPath).reverse();
    expect(again).toEqual(first);
    for (const i of [0, 8191, 8192, 19_999]) expect(first[i]).toBe(`/3a6eb079/${shortHash(`topic${i}x`)}/1c168adb-${i % 7}/${String(i).padStart(20, '0')}.index`);
    expect(redactPath('/tmp/kafka-logs/orders-3/00000000000000001000.index.deleted')).toBe('/tmp/716b37d0/1c168adb-3/00000000000000001000.index.deleted');
  });

  it("replaces the run's own names whole, whichever names were asked for before", () => {
    const warning = 'trace.txt: no -f: threads cannot be told apart';
    const replaced = 'eafe895e.txt: no -f: threads cannot be told apart';
    for (let round = 0; round < 2; round++) {
      expect(redactText(warning, ['trace.txt'])).toBe(replaced);
      expect(redactText(warning, ['other.txt'])).toBe(warning);
      expect(redactText(warning)).toBe(warning);
      expect(redactText(warning, ['x.txt', 'trace.txt'])).toBe(replaced);
      expect(redactText(warning, [])).toBe(warning);
    }
  });
});

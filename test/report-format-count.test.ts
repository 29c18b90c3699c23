// Counts and byte sizes are grouped by hand for whole numbers (issue #14:
// toLocaleString was a tenth of a text report); every view must still print
// what en-US toLocaleString prints, for any number.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/report/sanitize.js';

const EDGES = [0, -0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 999_999, 1_000_000, 10_485_760, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 64, 1e21, 1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY];

describe('formatCount', () => {
  it('prints what en-US toLocaleString prints', () => {
    for (const n of EDGES) expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -1e6, max: 1e6 }), fc.double()), (n) => {
        expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
      }),
      { numRuns: 5000 },
    );
  });
});

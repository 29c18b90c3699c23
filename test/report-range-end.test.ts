// A mapping's end is computed in doubles when they are exact (issue #14: a
// BigInt per finding was a twentieth of a text report); it must be the end
// BigInt arithmetic gives, page-rounded, for any address and length.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { mappingText, mappingView } from '../src/report/finding-view.js';

const BASE = { kind: 'unlinked-while-mapped', severity: 'error', pid: 1, path: '/d/a', names: ['/d/a'] } as unknown as Finding;

function bigIntEnd(address: string, length: number): string {
  if (!Number.isInteger(length) || length < 0 || length > 2 ** 64 || !/^0x[0-9a-f]{1,16}$/i.test(address)) return '?';
  const end = BigInt(address) + ((BigInt(length) + 4095n) / 4096n) * 4096n;
  return end > 2n ** 64n ? '?' : `0x${end.toString(16)}`;
}

const endOf = (address: string, length: number) => mappingView({ ...BASE, address, length }).ranges[0]!.end;

describe("a mapping's end", () => {
  it('is the page-rounded end BigInt arithmetic gives', () => {
    const hex = (digits: number) => fc.bigInt({ min: 0n, max: 16n ** BigInt(digits) - 1n }).map((n) => `0x${n.toString(16)}`);
    const length = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(0, 1, 4095, 4096, 4097, 2 ** 52 - 1, 2 ** 52, 2 ** 53, 2 ** 64, -5, 1.5));
    fc.assert(
      fc.property(fc.oneof(hex(12), hex(13), hex(16), fc.constantFrom('0x7FFF00000000', '0X10', '0x', '0xg')), length, (address, bytes) => {
        expect(endOf(address, bytes)).toBe(bigIntEnd(address, bytes));
      }),
      { numRuns: 5000 },
    );
    expect(endOf('0xfffffffffffff000', 4096)).toBe('0x10000000000000000');
    expect(endOf('0xfffffffffffff000', 8192)).toBe('?');
  });

  it('is what the size beside it counts in pages when the length is no whole number of pages', () => {
    // The review's Prometheus index: 2,398 bytes, one page in /proc/PID/maps.
    const view = mappingView({ ...BASE, address: '0x7f8b5405a000', length: 2398 });
    expect(mappingText(view)).toBe('0x7f8b5405a000-0x7f8b5405b000 (2.3 KiB, 2,398 bytes mapped as 1 page)');
    expect(mappingView({ ...BASE, address: '0x1000', length: 8192 }).size).toBe('8.0 KiB, 8,192 bytes');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (bytes) => {
        const { size, ranges } = mappingView({ ...BASE, address: '0x0', length: bytes });
        const pages = Number(BigInt(ranges[0]!.end) / 4096n);
        const said = /mapped as ([\d,]+) pages?\)?$/.exec(size);
        if (bytes % 4096 === 0) expect(said).toBeNull();
        else expect(Number(said![1]!.replaceAll(',', ''))).toBe(pages);
      }),
      { numRuns: 2000 },
    );
  });
});

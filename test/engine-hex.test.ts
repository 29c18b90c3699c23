// Findings print addresses as `0x…` lower-case hex (src/engine/findings.ts), built
// in 16-bit parts for speed: they must read as toString(16) would write them.
import { describe, expect, it } from 'vitest';
import { hex } from '../src/engine/findings.js';

describe('hex', () => {
  it('writes every address as 0x and toString(16), at the edges of its parts and at random', () => {
    const edges = [0, 1, 0xf, 0x10, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_ffff, 0x7f99_c6a2_9000, 2 ** 47 - 1, 2 ** 53 - 1];
    let seed = 7;
    const random = Array.from({ length: 20_000 }, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * 2 ** (1 + (seed % 53)));
    });
    for (const address of [...edges, ...random, -1, 1.5]) expect(hex(address)).toBe(`0x${address.toString(16)}`);
  });
});

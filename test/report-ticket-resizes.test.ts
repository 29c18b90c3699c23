// A ticket pairs each unlink finding with the resize that explains it through
// an index (issue #14: a search of every finding for each one was cubic in
// the diagnosis). The index must pick the same finding as that search did.
// Review 50: the remap of the unlink finding's very mapping (made at the same
// place, when both places are known), and not one the trace shows after the unlink.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { At, Finding } from '../src/engine/findings.js';
import { resizesOf } from '../src/report/ticket.js';

const BASE: Finding = {
  id: 'F0',
  kind: 'unlinked-while-mapped',
  severity: 'error',
  pid: 1,
  path: '',
  names: [],
  address: '0x7f0000000000',
  length: 4096,
  mappedAt: null,
  unlinkedAt: null,
  remappedAt: null,
  newAddress: null,
  resolution: 'still-mapped',
  resolvedAt: null,
  delayMs: null,
  confirmedByMaps: null,
  evidence: [],
  note: null,
};

/**
 * The definition: the first remap, in report order, of the same pid and address, of the same mapping (made at the
 * same place; with a place unknown, a name in common), that the trace does not show after the unlink.
 */
function searchedResize(finding: Finding, findings: readonly Finding[]): Finding | undefined {
  if (finding.kind !== 'unlinked-while-mapped') return undefined;
  return findings.find(
    (other) =>
      other.kind === 'remapped-without-unmap' &&
      other.pid === finding.pid &&
      other.address === finding.address &&
      (other.mappedAt !== null && finding.mappedAt !== null
        ? other.mappedAt.file === finding.mappedAt.file && other.mappedAt.line === finding.mappedAt.line
        : other.names.some((name) => finding.names.includes(name))) &&
      !after(other.remappedAt, finding.unlinkedAt),
  );
}

/** `a` is after `b`: a later line of the same input, or a later time across inputs; false when either is unknown. */
function after(a: At | null, b: At | null): boolean {
  if (a === null || b === null) return false;
  if (a.file === b.file) return a.line > b.line;
  return a.seconds != null && b.seconds != null && a.seconds > b.seconds;
}

// Few places, in two inputs, some with no time, so that findings share them often.
const place = fc.option(
  fc.record({
    file: fc.constantFrom('trace.1', 'trace.2'),
    line: fc.integer({ min: 1, max: 6 }),
    time: fc.constant(null),
    seconds: fc.option(fc.integer({ min: 1, max: 6 })),
    tid: fc.constant(null),
  }),
  { freq: 4 },
);

// Few pids, addresses and names, so that findings share them often; a name with a NUL or "0x" cannot pass for another key.
const finding = fc.record({
  kind: fc.constantFrom<Finding['kind']>('unlinked-while-mapped', 'remapped-without-unmap'),
  pid: fc.constantFrom(1, 2, 12),
  address: fc.constantFrom('0x1000', '0x2000', '0x12000'),
  names: fc.array(fc.constantFrom('/a', '/b', '/a\u00000x1000', '/c', '0x2000'), { maxLength: 3 }),
  mappedAt: place,
  remappedAt: place,
  unlinkedAt: place,
});

/** Many findings of one process at one address (a buffer address a GC hands out again and again), past the index's read-through. */
const atOneAddress = fc.record({
  kind: fc.constantFrom<Finding['kind']>('unlinked-while-mapped', 'remapped-without-unmap', 'remapped-without-unmap'),
  names: fc.array(fc.constantFrom('/a', '/b'), { maxLength: 2 }),
  mappedAt: place,
  remappedAt: place,
  unlinkedAt: place,
});

describe("a ticket's resize of each unlink finding", () => {
  it('is the first remap of the same mapping not after the unlink, as a search of every finding finds it', () => {
    fc.assert(
      fc.property(fc.array(finding, { maxLength: 40 }), (facts) => {
        const findings = facts.map((fact, i): Finding => ({ ...BASE, ...fact, id: `F${i + 1}` }));
        const resizes = resizesOf(findings);
        for (const f of findings) expect(resizes.get(f)).toBe(searchedResize(f, findings));
      }),
      { numRuns: 500 },
    );
  });

  it('is the same where one address holds many remaps, looked up by the place of their old mapping', () => {
    fc.assert(
      fc.property(fc.array(atOneAddress, { minLength: 20, maxLength: 80 }), (facts) => {
        const findings = facts.map((fact, i): Finding => ({ ...BASE, ...fact, id: `F${i + 1}` }));
        const resizes = resizesOf(findings);
        for (const f of findings) expect(resizes.get(f)).toBe(searchedResize(f, findings));
      }),
      { numRuns: 300 },
    );
  });
});

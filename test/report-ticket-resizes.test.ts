// A ticket pairs each unlink finding with the resize that explains it through
// an index (issue #14: a search of every finding for each one was cubic in
// the diagnosis). The index must pick the same finding as that search did.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
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

/** The definition: the first remap, in report order, of the same pid and address with a name in common. */
function searchedResize(finding: Finding, findings: readonly Finding[]): Finding | undefined {
  if (finding.kind !== 'unlinked-while-mapped') return undefined;
  return findings.find(
    (other) => other.kind === 'remapped-without-unmap' && other.pid === finding.pid && other.address === finding.address && other.names.some((name) => finding.names.includes(name)),
  );
}

// Few pids, addresses and names, so that findings share them often; a name with a NUL or "0x" cannot pass for another key.
const finding = fc.record({
  kind: fc.constantFrom<Finding['kind']>('unlinked-while-mapped', 'remapped-without-unmap'),
  pid: fc.constantFrom(1, 2, 12),
  address: fc.constantFrom('0x1000', '0x2000', '0x12000'),
  names: fc.array(fc.constantFrom('/a', '/b', '/a\u00000x1000', '/c', '0x2000'), { maxLength: 3 }),
});

describe("a ticket's resize of each unlink finding", () => {
  it('is the first remap of the same process, address and file, as a search of every finding finds it', () => {
    fc.assert(
      fc.property(fc.array(finding, { maxLength: 40 }), (facts) => {
        const findings = facts.map((fact, i): Finding => ({ ...BASE, ...fact, id: `F${i + 1}` }));
        const resizes = resizesOf(findings);
        for (const f of findings) expect(resizes.get(f)).toBe(searchedResize(f, findings));
      }),
      { numRuns: 500 },
    );
  });
});

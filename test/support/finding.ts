// A finding written by hand for tests of views and redaction: an unlinked
// 4 KiB mapping of `path` with no times, and whatever `overrides` sets.
import type { Finding } from '../../src/engine/findings.js';

export function handMadeFinding(id: string, path: string, overrides: Partial<Finding> = {}): Finding {
  return {
    id,
    kind: 'unlinked-while-mapped',
    severity: 'error',
    pid: 1,
    path,
    names: [path],
    address: '0x7f00',
    length: 4096,
    mappedAt: null,
    unlinkedAt: null,
    remappedAt: null,
    newAddress: null,
    resolution: null,
    resolvedAt: null,
    delayMs: null,
    confirmedByMaps: null,
    evidence: [],
    note: null,
    ...overrides,
  };
}

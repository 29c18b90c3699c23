// Review 46, L3: a bpftrace capture whose JVM's GC unmapped 244 of its
// still-mapped leaks while bpftrace took its probes off, after the trace
// ended: each of those findings said "NOT in /proc/PID/maps at the end", but
// the headline counted all 1,768 as still mapped, and the kernel's figure was
// nowhere. The headline now says how many of them the maps read after the
// trace no longer list. (The real capture: test/capture-bpftrace-stop.test.ts,
// where how many straddle the stop varies; here the count is fixed.)
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { endStateText, headline, tally } from '../src/report/finding-view.js';

function stillMapped(id: number, confirmedByMaps: boolean | null): Finding {
  return {
    id: `F${id}`,
    kind: 'unlinked-while-mapped',
    severity: 'error',
    pid: 23686,
    path: `/idx/_${id}.tip`,
    names: [`/idx/_${id}.tip`],
    address: `0x${(0x7f0000000000 + id * 4096).toString(16)}`,
    length: 4096,
    mappedAt: null,
    unlinkedAt: null,
    remappedAt: null,
    newAddress: null,
    resolution: 'still-mapped',
    resolvedAt: null,
    delayMs: null,
    confirmedByMaps,
    evidence: [],
    note: null,
  };
}

it('says how many still-mapped findings the maps at the end no longer list', () => {
  const findings = [stillMapped(1, true), stillMapped(2, false), stillMapped(3, false), stillMapped(4, null)];
  expect(endStateText(tally(findings))).toBe('16.0 KiB held when unlinked; still mapped at the end: 4, 16.0 KiB (2 of them not in the maps read after the trace: released after it ended?)');
  expect(headline(findings)).toContain('still mapped at the end: 4, 16.0 KiB (2 of them not in the maps read after the trace: released after it ended?)');
});

it('says nothing of the maps when every one is there, or none was read', () => {
  expect(endStateText(tally([stillMapped(1, true), stillMapped(2, null)]))).toBe('8.0 KiB held when unlinked; still mapped at the end: 2, 8.0 KiB');
});

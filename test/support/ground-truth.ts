// Ground truth printed by the JVM reproducer: the "(deleted)" lines of its own
// /proc/self/maps, compared with what orphanmap reports.
import type { Finding } from '../../src/engine/findings.js';

export interface DeletedMapping {
  address: string;
  path: string;
}

const BEGIN = '--- orphanmap ground truth: deleted mappings (/proc/self/maps) ---';
const END = '--- end ground truth ---';

/** "7f604e200000-7f604ec00000 rw-s 00000000 fe:00 2146526   /x/y.timeindex.deleted (deleted)" */
export function parseGroundTruth(text: string): DeletedMapping[] {
  let lines = text.split('\n');
  const begin = lines.indexOf(BEGIN);
  if (begin >= 0) lines = lines.slice(begin + 1, lines.indexOf(END));
  return lines
    .filter((line) => line.endsWith(' (deleted)'))
    .map((line) => {
      const match = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \d+\s+(.*) \(deleted\)$/.exec(line);
      if (match === null) throw new Error(`unreadable ground-truth line: ${line}`);
      return { address: `0x${match[1]}`, path: match[2]! };
    })
    .sort(byAddress);
}

/** The orphans orphanmap should report for that ground truth: real (not benign), never unmapped. */
export function reportedOrphans(findings: readonly Finding[]): DeletedMapping[] {
  return findings
    .filter((f) => f.kind === 'unlinked-while-mapped' && f.severity !== 'info' && f.resolution !== 'unmapped')
    .map((f) => ({ address: f.address, path: f.path }))
    .sort(byAddress);
}

function byAddress(a: DeletedMapping, b: DeletedMapping): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

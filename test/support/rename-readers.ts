// The readers of test/scenarios/rename-over-readers.py, as a bpftrace trace
// shows them and as they recorded themselves: shared by the test that
// captures the program and the one that reads a part of a capture of it.
import { expect } from 'vitest';
import type { Finding } from '../../src/engine/findings.js';

/** Per reader pid, its mappings as it recorded them: [address, inode, link count after the munmap]. */
export type ReaderRecords = Map<number, [string | null, number, number][]>;

export interface ReaderMmap {
  ns: bigint;
  line: number;
  inode: number;
}

/**
 * Each reader's mmaps of the file in the trace, in its own order (a thread's
 * records by their ns, whatever CPU printed them), with their line and inode;
 * checked against the reader's own record: the same count, the same inode each time.
 */
export function readerMmaps(trace: string, readers: ReaderRecords): Map<number, ReaderMmap[]> {
  const mmaps = new Map<number, ReaderMmap[]>();
  trace.split('\n').forEach((text, index) => {
    const record = /^[0-9a-f]{16} (\d+) \d+ (\d+) \d+ mmap ret=\S+ addr=0x0 len=8192 prot=0x1 flags=0x1 .* ino=(\d+) /.exec(text);
    if (record === null || !readers.has(Number(record[2]))) return;
    const list = mmaps.get(Number(record[2])) ?? [];
    list.push({ ns: BigInt(record[1]!), line: index + 1, inode: Number(record[3]) });
    mmaps.set(Number(record[2]), list);
  });
  for (const [pid, list] of mmaps) {
    list.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    expect(list.map((mmap) => mmap.inode)).toEqual(readers.get(pid)!.map((mapping) => mapping[1]));
  }
  return mmaps;
}

/**
 * The readers' error findings, by what the reader recorded of the mapping:
 * `keptItsName`, one or more links after its munmap (the file had its name all
 * the while it was mapped, as no name comes back to a file that lost its
 * last), and the lines of the others, which did lose it.
 */
export function errorsByTruth(findings: Finding[], mmaps: Map<number, ReaderMmap[]>, readers: ReaderRecords): { keptItsName: string[]; lostItsName: number[] } {
  const keptItsName: string[] = [];
  const lostItsName: number[] = [];
  for (const finding of findings) {
    if (finding.kind !== 'unlinked-while-mapped' || !readers.has(finding.pid)) continue;
    const k = mmaps.get(finding.pid)!.findIndex((mmap) => mmap.line === finding.mappedAt?.line);
    expect(k, `finding ${finding.id} mapped at ${finding.mappedAt?.line}`).toBeGreaterThanOrEqual(0);
    if (finding.severity !== 'error') continue;
    const [, inode, links] = readers.get(finding.pid)![k]!;
    if (links >= 1) keptItsName.push(`${finding.id}: pid ${finding.pid}, inode ${inode}, mapped at ${finding.mappedAt?.line}`);
    else lostItsName.push(finding.mappedAt!.line);
  }
  return { keptItsName, lostItsName };
}

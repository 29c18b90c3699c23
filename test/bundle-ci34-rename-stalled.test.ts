// CI of 09e337e: test/capture-review24-rename-order.test.ts failed once. A
// rename over the readers' file waited 30 ms on the other CPU; a reader that
// held the old file mapped when the rename entered went on opening the name,
// which was still the old file's, and mapping and unmapping it. bpftrace
// orders a rename by its entry, so those mappings came after it, and the
// last of them was an error ("the same leak going on"): its delay counted
// from its mmap, so nothing asked whether it was released before the rename
// returned. Part of the real bundle, with the readers' own record of each
// mapping's link count after its munmap (test/fixtures/ci34-rename-stalled/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'ci34-rename-stalled');

interface Truth {
  /** Per reader, its mappings in this part of the trace: [address, inode, link count after the munmap]. */
  readers: { pid: number; first: number; mappings: [string | null, number, number][] }[];
}

it('a reader that maps and unmaps a file while a rename over it waits: no error names a mapping whose file kept its name', () => {
  const truth = JSON.parse(readFileSync(join(FIXTURE, 'truth.json'), 'utf8')) as Truth;
  const readers = new Map(truth.readers.map((reader) => [reader.pid, reader.mappings]));
  // Each reader's mmaps of the file, in its own order (its records by their ns), with their inode.
  const mmaps = new Map<number, { ns: bigint; line: number; inode: number }[]>();
  readFileSync(join(FIXTURE, 'bundle', 'trace.txt'), 'utf8')
    .split('\n')
    .forEach((text, index) => {
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

  const result = runCli(['analyze', join(FIXTURE, 'bundle'), '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped' && readers.has(f.pid));
  const keptItsName: string[] = [];
  const lostItsName: number[] = [];
  for (const finding of findings) {
    const k = mmaps.get(finding.pid)!.findIndex((mmap) => mmap.line === finding.mappedAt?.line);
    expect(k, `finding ${finding.id} mapped at ${finding.mappedAt?.line}`).toBeGreaterThanOrEqual(0);
    const links = readers.get(finding.pid)![k]![2];
    if (finding.severity !== 'error') continue;
    if (links >= 1) keptItsName.push(`${finding.id}: pid ${finding.pid}, mapped at ${finding.mappedAt?.line}`);
    else lostItsName.push(finding.mappedAt!.line);
  }
  expect(keptItsName).toEqual([]);
  // The race the readers did lose is still told: 12939's mapping at line 1250, whose file had no link after its munmap.
  expect(lostItsName).toContain(1250);
});

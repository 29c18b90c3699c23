// Review 24 (exactness), D5: under bpftrace, ldconfig renaming ld.so.cache~
// over /etc/ld.so.cache while programs started gave false errors (3 runs in
// 4): a reader's mapping of the file the rename brought in read as a leak.
// bpftrace printed the rename's record when the call returned, and another
// CPU's open that had already reached the new file returned earlier, so the
// merge put it before the rename. A rename or unlink is now ordered by its
// entry; a mapping released before the call returned (it may have gone
// before the name did) is benign, "released while the unlink ran".
//
// A real program (test/scenarios/rename-over-readers.py): a renamer and two
// readers under `capture --backend bpftrace`, 3 s. The truth is each
// reader's own record: the link count of the file it mapped, asked of the
// still open fd after the munmap. One or more then means the file had its
// name all the while it was mapped (no name comes back to a file that lost
// its last one): no error may name that mapping.
//
// Needs root, bpftrace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'rename-over-readers.py');

interface Truth {
  /** Per reader, each mapping in order: [address, inode, link count after the munmap]. */
  readers: { pid: number; mappings: [string | null, number, number][] }[];
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review24-rename-order.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  requireTool(PYTHON);
});

describe('a file renamed over again and again while other processes map it (review 24, D5)', () => {
  it('capture --backend bpftrace: no error names a mapping whose file kept its name until the munmap', () => {
    const work = realpathSync(workspace('rename-order'));
    const bundle = join(work, 'bundle');
    const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, PROGRAM, work, '3'], { encoding: 'utf8', timeout: 150_000 });
    expect(run.status, run.stderr).toBe(0);
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;

    // Each reader's mmaps of the file in the trace, in its own order (a thread's records by their ns), with their inode.
    const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n');
    const readers = new Map(truth.readers.map((reader) => [reader.pid, reader.mappings]));
    const mmaps = new Map<number, { ns: bigint; line: number; inode: number }[]>();
    trace.forEach((text, index) => {
      const record = /^[0-9a-f]{16} (\d+) \d+ (\d+) \d+ mmap ret=\S+ addr=0x0 len=8192 prot=0x1 flags=0x1 .* ino=(\d+) /.exec(text);
      if (record === null || !readers.has(Number(record[2]))) return;
      const list = mmaps.get(Number(record[2])) ?? [];
      list.push({ ns: BigInt(record[1]!), line: index + 1, inode: Number(record[3]) });
      mmaps.set(Number(record[2]), list);
    });
    for (const [pid, list] of mmaps) {
      list.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
      // The trace and the program agree mapping by mapping: the same count, the same inode each time.
      expect(list.map((mmap) => mmap.inode)).toEqual(readers.get(pid)!.map((mapping) => mapping[1]));
    }

    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped' && readers.has(f.pid));
    const keptItsName: string[] = [];
    let errors = 0;
    for (const finding of findings) {
      const list = mmaps.get(finding.pid)!;
      const k = list.findIndex((mmap) => mmap.line === finding.mappedAt?.line);
      expect(k, `finding ${finding.id} mapped at ${finding.mappedAt?.line}`).toBeGreaterThanOrEqual(0);
      const [, inode, links] = readers.get(finding.pid)![k]!;
      if (finding.severity !== 'error') continue;
      errors++;
      if (links >= 1) keptItsName.push(`${finding.id}: pid ${finding.pid}, inode ${inode}, mapped at ${finding.mappedAt?.line}`);
    }
    expect(keptItsName).toEqual([]);
    // The race is real too: readers did map files the renamer then replaced while they were mapped.
    expect(errors).toBeGreaterThan(0);
  }, 180_000);
});

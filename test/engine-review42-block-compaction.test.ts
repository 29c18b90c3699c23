// Review 42, G1: Prometheus's TSDB. Every block is a directory holding
// chunks/000001; a block is written under BLOCK.tmp-for-creation
// (chunks/000001.tmp renamed to chunks/000001), renamed into place and its
// chunks mapped; a compacted block is renamed BLOCK.tmp-for-deletion and
// removed. The rename of each new block's 000001.tmp over a name the trace
// did not know, and the removal of an old block's chunks (kept by a
// snapshot's hard links), were each taken for a possible removal of another
// block's mapped chunks/000001 by another spelling (a symlinked directory):
// every capture longer than a block range was in doubt, --fail-on failing a
// clean Prometheus. Where the trace tells files apart (-y, bpftrace's
// inodes) a file it knows, or knew and let go, is not a mapped file by
// another name.
// Truth: the program's own /proc/self/maps after the compaction (nothing
// deleted) and after it deletes the last block while mapped (the one leak)
// (test/scenarios/block-compaction.py, the block life as Prometheus lives it).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, tracePython, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'block-compaction.py');

interface Truth {
  pid: number;
  b3: string;
  afterCompaction: SelfMapsDeleted[];
  afterRemoval: SelfMapsDeleted[];
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

/** /proc's word and the report's: the one leak, nothing in doubt, no warning of another spelling. */
function expectTheOneLeak(dir: string, input: string): void {
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  const chunks = join(dir, 'data', 'b3.tmp-for-deletion', 'chunks', '000001');
  expect(truth.afterCompaction).toEqual([]);
  expect(truth.afterRemoval).toEqual([{ address: truth.b3, bytes: 65536, path: chunks }]);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.map((finding) => `${finding.kind} ${finding.pid} ${finding.address} ${finding.length} ${finding.path}`)).toEqual([
    `unlinked-while-mapped ${truth.pid} ${truth.b3} 65536 ${chunks}`,
  ]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.includes('chunks/000001'))).toEqual([]);
}

describe("a TSDB's blocks written, mapped, compacted and deleted, each holding chunks/000001", () => {
  // strace -f -yy by hand, filtered; orphanmap capture --backend bpftrace, launched.
  it.each(['strace', 'capture-bpftrace'] as const)(
    '%s: no doubt from the new blocks or the removed ones; the last block removed while mapped is the one leak',
    (how) => {
      const dir = workspace(`compaction-${how}`);
      expectTheOneLeak(dir, tracePython(dir, how, PROGRAM, [dir]));
    },
    120_000,
  );
});

// Review 27 (exactness), F2: madvise(MADV_DONTFORK) of a file mapping before
// a fork (QEMU's guest RAM, DPDK and RDMA buffers). The kernel copies none of
// the range into the child; the engine copied every mapping, so when the
// parent unmapped the file and unlinked it, the child, holding nothing, read
// as leaking it: a false error, exit 3. madvise is now traced (only those
// two advice values count) and a fork copies no marked range.
//
// A real program (test/scenarios/dontfork.py) under `orphanmap capture`
// (strace); the truth is the child's own /proc/self/maps, without the file.
// (capture-review26-bpftrace.test.ts runs it under bpftrace.)
//
// Needs strace and /usr/bin/python3.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('capture (strace): a child forked after MADV_DONTFORK holds no copy, and the parent that unmapped and unlinked the file leaks nothing', () => {
  const work = realpathSync(workspace('dontfork'));
  const bundle = join(work, 'bundle');
  const capture = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(REPO, 'test', 'scenarios', 'dontfork.py'), join(work, 'w')]);
  expect(capture.status, capture.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'w', 'truth.json'), 'utf8')) as { child: number; childHas: string[]; parentDeleted: SelfMapsDeleted[] };
  // The child's own maps: no line of the file; the parent's: nothing deleted.
  expect(truth).toMatchObject({ childHas: [], parentDeleted: [] });
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ madvise\(0x[0-9a-f]+, 65536, MADV_DONTFORK\) = 0/);
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  expect((JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped')).toEqual([]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
});

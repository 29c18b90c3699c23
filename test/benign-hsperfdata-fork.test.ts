// A JVM's hsperfdata mapping is benign when the JVM unlinks the file itself,
// but a child the JVM forked (without exec) keeps its own copy of the mapping,
// which /proc shows "(deleted)" in the child: the child did not remove the
// name, and its finding stays an error. A child forked after the unlink
// inherits a mapping already orphaned; it was judged as if it had removed the
// name itself, and reported benign.
// Truth: each child's own /proc/self/maps (test/scenarios/hsperfdata-fork.py).
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'hsperfdata-fork.py');

interface ParentRecord {
  pid: number;
  perf: string;
  before: number;
  after: number;
  deletedInParent: SelfMapsDeleted[];
}

interface ChildRecord {
  pid: number;
  deleted: SelfMapsDeleted[];
}

let parent: ParentRecord;
let children: Record<'before' | 'after', ChildRecord>;
let findings: Finding[];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
  const dir = workspace('hsperf-fork');
  const trace = join(dir, 'trace.txt');
  const record = join(dir, 'record.json');
  const run = spawnSync('strace', ['-f', '-ttt', '-y', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, record, join(dir, 'w')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  parent = JSON.parse(readFileSync(record, 'utf8')) as ParentRecord;
  const child = (name: string) => JSON.parse(readFileSync(`${record}.${name}.json`, 'utf8')) as ChildRecord;
  children = { before: child('before'), after: child('after') };
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => finding.path === parent.perf);
}, 120_000);

function findingOf(pid: number): Finding {
  const mine = findings.filter((finding) => finding.pid === pid);
  expect(mine, JSON.stringify(findings, null, 1)).toHaveLength(1);
  return mine[0]!;
}

describe('an hsperfdata mapping the JVM unlinked, in the children it forked', () => {
  it("the parent's own, unlinked by itself, is benign", () => {
    expect(parent.deletedInParent).toHaveLength(1);
    expect(findingOf(parent.pid)).toMatchObject({ severity: 'info', benign: 'JVM hsperfdata at exit', address: parent.deletedInParent[0]!.address, resolution: 'unmapped' });
  });

  it.each(['before', 'after'] as const)('the copy of a child forked %s the unlink is an error, as the child saw it deleted', (when) => {
    const child = children[when];
    expect(child.pid).toBe(parent[when]);
    expect(child.deleted).toHaveLength(1);
    const finding = findingOf(child.pid);
    expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', severity: 'error', address: child.deleted[0]!.address, length: child.deleted[0]!.bytes, resolution: 'process-exited' });
    expect(finding.benign).toBeUndefined();
    expect(finding.unlinkedAt?.tid).toBe(parent.pid);
  });
});

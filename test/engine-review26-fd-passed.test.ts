// Review 26 (exactness), 1, under strace without -y: a file whose fd came
// over a unix socket (SCM_RIGHTS), mapped by Python's mmap module and
// unlinked by its sender. The trace cannot name the file (no -y, and the
// fd in flight is no call it follows), so its leak cannot be matched; the
// docs promise a warning that process P mapped an fd no call had opened.
// None came: the module copies the fd first (fcntl F_DUPFD_CLOEXEC, the copy
// kept for the mapping's life), and the copy made the fd known. An fd no
// call opened, and its copies, are no better known now.
//
// A real program (test/scenarios/fd-passed.py) under real strace, by hand,
// as a user might take it (-f -tt, the capture's filter, no -y). The truth is
// the consumer's own /proc/self/maps after the unlink.
// (capture-review26-bpftrace.test.ts runs it under bpftrace, which finds it.)
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { wholeCalls } from './support/strace-text.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('strace without -y: an fd received over a unix socket, copied and mapped, is said to be mapped unnamed', () => {
  const work = realpathSync(workspace('fd-passed'));
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-tt', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, join(REPO, 'test', 'scenarios', 'fd-passed.py'), join(work, 'w')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'w', 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(work, 'w', 'snapshot.bin') }]);
  // The consumer copied the fd it received before it mapped it: the precondition.
  // Joined: under load, strace cuts the consumer's calls where the producer's lines come between.
  const text = wholeCalls(readFileSync(trace, 'utf8'));
  const dup = new RegExp(`^${truth.pid} +[\\d:.]+ fcntl\\((\\d+), F_DUPFD_CLOEXEC, 0\\) = (\\d+)$`, 'm').exec(text);
  expect(dup, 'the dup of the received fd').not.toBeNull();
  expect(text).toMatch(new RegExp(`^${truth.pid} +[\\d:.]+ mmap\\(NULL, 65536, PROT_READ\\|PROT_WRITE, MAP_SHARED, ${dup![1]}, 0\\) = ${truth.deleted[0]!.address}$`, 'm'));
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  expect(report.findings.filter((f) => f.kind === 'unlinked-while-mapped')).toEqual([]);
  expect(report.warnings).toContainEqual(expect.stringContaining(`process ${truth.pid} mapped fd ${dup![1]} at ${trace}:`));
});

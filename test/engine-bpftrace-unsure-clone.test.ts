// bpftrace stashes a clone's flags at its entry and prints them at
// sched_process_fork. When the entry probe is not attached yet, or already
// detached while bpftrace stops (it closes its probes one at a time, seconds
// apart), the record says `flags=0x0`. Taken for a fork, every thread made
// then became a process that inherited every orphaned mapping: an exactness
// review found 67,080 false findings, all `process-exited`, in a
// `capture --pid --backend bpftrace` of a running JVM (8 of 287 clone records
// in the capture's last half second said 0x0). A fork always has SIGCHLD in
// its flags; with bpftrace each record carries its tgid, which tells a thread
// (its parent's tgid) from a process (its own).
//
// The trace is test/fixtures/bpftrace/python-segments.txt (a real capture:
// two threads leak Kafka-style index mappings, a forked child maps and
// unlinks a file); the test writes a copy whose clone records say 0x0, as
// bpftrace prints them when its stash missed: the only edit. Truth: the
// fixture's README, the main process's /proc/self/maps before it exited.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/tools.js';

const FIXTURE = 'test/fixtures/bpftrace/python-segments.txt';
const MAIN = 26514;
const THREADS = [26581, 26582];
/** /proc/self/maps of process 26514 before it exited (the fixture's README): its deleted mappings. */
const DELETED_IN_MAIN = ['0x7fc9b820b000', '0x7fc9b8fe1000', '0x7fc9b8fe2000'];

interface Finding {
  kind: string;
  pid: number;
  address: string;
  length: number;
  path: string;
  severity: string;
  resolution: string;
}

function findings(trace: string): Finding[] {
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
}

const shape = ({ kind, pid, address, length, path, severity, resolution }: Finding) => ({ kind, pid, address, length, path, severity, resolution });

describe('a bpftrace clone record without flags (the stash missed)', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  const clones = text.split('\n').filter((line) => / clone child=\d+ flags=/.test(line));
  const unsure = join(mkdtempSync(join(tmpdir(), 'orphanmap-unsure-clone-')), 'trace.txt');
  writeFileSync(unsure, text.replace(/( clone child=\d+ flags=)0x[0-9a-f]+$/gm, '$10x0'));

  it('the fixture has the clones it is about: two threads and a fork', () => {
    expect(clones.map((line) => line.replace(/^\S+ \S+ /, ''))).toEqual([
      `${MAIN} ${MAIN} clone child=26581 flags=0x3d0f00`,
      `${MAIN} ${MAIN} clone child=26582 flags=0x3d0f00`,
      `${MAIN} ${MAIN} clone child=26583 flags=0x1200011`,
    ]);
  });

  it("is decided by the child's tgid: the threads' mappings are the process's, as its maps showed, and the fork child's copies its own", () => {
    const told = findings(unsure);
    expect(told.filter((finding) => THREADS.includes(finding.pid))).toEqual([]);
    const mainErrors = told.filter((finding) => finding.pid === MAIN && finding.kind === 'unlinked-while-mapped');
    expect(mainErrors.map((finding) => finding.address).sort()).toEqual(DELETED_IN_MAIN);
    // Nothing else changes: the same findings as with the flags bpftrace had.
    expect(told.map(shape)).toEqual(findings(FIXTURE).map(shape));
  });
});

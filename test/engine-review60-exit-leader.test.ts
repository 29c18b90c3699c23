// Code review 60, F8: an attached process whose leader made no call the
// filter keeps is named by the thread whose `+++ exited` line is the last
// of the process's (strace prints a leader's exit once every thread is
// gone: review 50, item 6). Any thread whose only line is its exit named it
// at first: once pids had wrapped, an idle worker's tid below the leader's
// named the process, and `--pid LEADER` was refused. The traces are strace's
// own shape of that capture (`strace -f -yy -e trace=… -p PID` of a process
// in a pid namespace whose worker got tid 11 and whose leader is 1001).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { runCli } from './support/tools.js';

function handTrace(lines: string[]): string {
  const trace = join(mkdtempSync(join(tmpdir(), 'om-exit-leader-')), 'trace.txt');
  writeFileSync(trace, `${lines.join('\n')}\n`);
  return trace;
}

function pids(trace: string, extra: string[] = []): number[] {
  const result = runCli(['analyze', trace, '--format', 'json', ...extra]);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings.map((finding) => finding.pid);
}

const LEAK = [
  '1001 1.000000 openat(AT_FDCWD</w>, "/w/seg.dat", O_RDWR|O_CREAT, 0644) = 3</w/seg.dat>',
  '1001 1.000100 mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_SHARED, 3</w/seg.dat>, 0) = 0x7f0000000000',
  '1001 1.000200 close(3</w/seg.dat>) = 0',
  '1001 1.000300 unlink("/w/seg.dat") = 0',
];

it('a worker below the leader whose only line is its exit, before the leader’s: the leader, with lines of its own, names the process', () => {
  const trace = handTrace([...LEAK, '1001 1.000400 exit_group(0) = ?', '11 1.000500 +++ exited with 0 +++', '1001 1.000600 +++ exited with 0 +++']);
  expect(pids(trace)).toEqual([1001]);
  // --pid of the real process is taken, and reports its leak.
  expect(runCli(['analyze', trace, '--pid', '1001', '--fail-on', 'error']).status).toBe(3);
});

it('a leader whose only line is its exit, the last, names the process, though an idle worker below it exited first', () => {
  const trace = handTrace([
    ...LEAK.map((line) => line.replace(/^1001 /, '1002 ')),
    '1002 1.000400 exit_group(0) = ?',
    '11 1.000500 +++ exited with 0 +++',
    '1002 1.000550 +++ exited with 0 +++',
    '1001 1.000600 +++ exited with 0 +++',
  ]);
  expect(pids(trace)).toEqual([1001]);
});

it('a worker whose only line is its exit, while the process runs on to the end of the trace, names nothing', () => {
  const trace = handTrace([...LEAK.slice(0, 2), '11 1.000150 +++ exited with 0 +++', ...LEAK.slice(2)]);
  expect(pids(trace)).toEqual([1001]);
});

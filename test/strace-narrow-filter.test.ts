// Review 15 (R4, 2): `strace -f -e trace=openat,mmap,munmap,unlink,rename CMD`
// leaves out execve, clone and close. Every process of CMD then shows up with
// no clone and no exec, is taken for a thread of one process "that ran before
// the trace began", and fd numbers each process reused are taken for one
// file: false findings. The trace cannot tell a launched command from an
// attach, so the warning about those threads says what a launched capture
// with such a filter does, and which calls to keep.
//
// Real strace launching a real shell that runs two programs. Needs strace.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

beforeAll(() => requireTool('strace'));

it('a launched command under a filter without execve and clone: the warning says its processes were taken for threads, and to keep execve,clone,…,close', () => {
  const input = join(workspace('narrow'), 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-e', 'trace=openat,mmap,munmap,unlink,rename', '-o', input, 'sh', '-c', 'cat /etc/hostname >/dev/null; ls / >/dev/null'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  // sh, cat and ls: three processes, each with its own pid prefix.
  const pids = new Set(
    readFileSync(input, 'utf8')
      .split('\n')
      .flatMap((line) => /^(\d+) /.exec(line)?.[1] ?? []),
  );
  expect(pids.size).toBe(3);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const warnings = (JSON.parse(result.stdout) as { warnings: string[] }).warnings.filter((warning) => warning.includes('showed no clone'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/^3 threads \(lowest \d+\) ran before the trace began and showed no clone: taken as one process/);
  expect(warnings[0]).toContain('launched with a filter that left out execve and clone (-e trace=…), they may be processes');
  expect(warnings[0]).toContain('keep execve,clone,clone3,fork,vfork,close in -e trace=');
});

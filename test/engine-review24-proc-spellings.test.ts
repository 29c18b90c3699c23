// Review 24 (attack), F3: a mapped file unlinked by a name that goes through
// a magic link of /proc (/proc/self/cwd/NAME, /proc/self/root/PATH,
// /proc/thread-self/root/PATH, /proc/PID/root/PATH, /proc/self/fd/DIRFD/NAME,
// /dev/fd/DIRFD/NAME) was no file the engine knew: "no mapping outlived its
// file", exit 0 with --fail-on, under both backends. The kernel follows each
// link to the directory the process knows by another name; so does the
// engine now, for its own cwd and fds, and any process's root.
//
// A real program (test/scenarios/proc-spellings.py) under real strace, with
// the capture's filter; the truth is its own /proc/self/maps.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('strace: files unlinked through /proc/self/cwd, /proc/*/root, /proc/self/fd/N and /dev/fd/N are findings, as /proc shows them', () => {
  const work = realpathSync(workspace('proc-spellings'));
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, join(REPO, 'test', 'scenarios', 'proc-spellings.py'), work], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  const spellings = ['root', 'cwd', 'tsroot', 'pidroot', 'fddir', 'devfd'];
  expect(truth.deleted.map((d) => d.path).sort()).toEqual(spellings.map((spelling) => join(work, `${spelling}.index`)).sort());
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.path} ${f.severity} ${f.resolution}`).sort()).toEqual(
    truth.deleted.map((d) => `${truth.pid} ${d.address} ${d.path} error process-exited`).sort(),
  );
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
});

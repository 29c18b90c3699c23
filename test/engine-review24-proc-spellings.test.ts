// Review 24 (attack), F3: a mapped file unlinked by a name that goes through
// a magic link of /proc (/proc/self/cwd/NAME, /proc/self/root/PATH,
// /proc/thread-self/root/PATH, /proc/PID/root/PATH, /proc/self/fd/DIRFD/NAME,
// /dev/fd/DIRFD/NAME) was no file the engine knew: "no mapping outlived its
// file", exit 0 with --fail-on, under both backends. The kernel follows each
// link to the directory the process knows by another name; so does the
// engine now, for its own cwd and fds, and any process's root.
//
// Review 25 (attack), F4 and F10: the fix matched one exact spelling; with
// "//" or "/./" in it, through /proc/self/task/TID/, /dev/stdin, a root link
// leading to another link, or relative ("proc/self/fd/3/N" from "/",
// "self/fd/3/N" from an fd of /proc), the leak hid again; and
// /proc/PID/root/PATH was read as PATH for any process, though another
// process's root may be anything (a chroot's: it named the mapped file).
// Names are tested once whole and plain, and again past a symlink the
// trace made (to /proc/self/cwd); one the engine cannot follow (another
// process's root) makes the verdict undecided.
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
  const spellings = ['root', 'cwd', 'tsroot', 'pidroot', 'fddir', 'devfd', 'slashes', 'procdot', 'selfdot', 'task', 'pidtask', 'stdin', 'devdotfd', 'nested', 'relproc', 'procfd'];
  expect(truth.deleted.map((d) => d.path).sort()).toEqual(spellings.map((spelling) => join(work, `${spelling}.index`)).sort());
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.path} ${f.severity} ${f.resolution}`).sort()).toEqual(
    truth.deleted.map((d) => `${truth.pid} ${d.address} ${d.path} error process-exited`).sort(),
  );
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
});

it("strace: another process's root names no file the trace knows, so the verdict is undecided; a symlink to /proc/self/cwd goes on to the cwd", () => {
  const work = realpathSync(workspace('proc-spellings-unfollowed'));
  const trace = join(work, 'trace.txt');
  // This test's own process: its root is "/", but the trace cannot know that of a process it does not follow.
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, join(REPO, 'test', 'scenarios', 'proc-spellings.py'), work, String(process.pid)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  expect(truth.deleted.map((d) => d.path).sort()).toEqual([join(work, 'otherroot.index'), join(work, 'symlink.index')]);
  const lines = readFileSync(trace, 'utf8').split('\n');
  const first = lines.findIndex((line) => line.includes(`unlink("/proc/${process.pid}/root${work}/otherroot.index")`)) + 1;
  expect(first).toBeGreaterThan(0);
  const why = `process ${truth.pid} called unlink at ${trace}:${first} by a name through a link of /proc to a directory the trace does not know, so which file it named is not known`;
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: Finding[]; summary: { undecided: string | null } };
  const symlinked = truth.deleted.find((d) => d.path.endsWith('/symlink.index'))!;
  expect(report.findings.map((f) => `${f.pid} ${f.address} ${f.path} ${f.severity}`)).toEqual([`${truth.pid} ${symlinked.address} ${symlinked.path} error`]);
  expect(report.summary.undecided).toBe(why);
  const verdict = runCli(['analyze', trace, '--fail-on', 'error']);
  expect(verdict.stdout.split('\n')[0]).toMatch(/^orphanmap: 1 mapping outlived its file in process \d+ .*; the trace may miss some: /);
  expect(verdict.status).toBe(3);
});

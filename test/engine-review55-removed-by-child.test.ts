// Review 55, H1: `strace -p PID -f -yy` by hand (no bundle, so no maps
// snapshot) of a Berkeley DB holder whose region files, mapped before the
// attach, a child it started (db_recover, rm) removed: /proc showed each
// "(deleted)", and the report read clean, with no doubt and not even the
// warning that the trace was attached (the child's execve was taken for the
// trace's start), `--fail-on error` exit 0. A removal by any traced process
// while the process the trace was attached to runs is one of a file that
// process may have mapped before the trace: the fd it held shown "(deleted)"
// makes a doubt, and the trace is said to be attached. So does a rename over
// it (review 55, H3: an atomic save, `mv new seg.idx`).
// Truth: the program's own /proc/self/maps line, read after the removal.
//
// Needs strace.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli, underStraceAttached } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON, 'rm', 'mv']) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/**
 * removed-by-child.py DIR HOW (DIR/seg.idx made here, 8 KiB), `strace -p PID -f -yy` attached by hand while it does
 * what HOW says and says "closed"; its trace, pid and output (its pid, then its own maps line of seg.idx).
 */
async function attachedWhileRemoved(name: string, how: string): Promise<{ segment: string; pid: number; output: () => string; trace: string }> {
  const work = workspace(name);
  const directory = join(work, 'w');
  const segment = join(directory, 'seg.idx');
  writeFileSync(segment, Buffer.alloc(8192, 'i'));
  const { program, pid, output } = await startScenario('removed-by-child.py', [directory, how], children);
  const trace = join(work, 'trace.txt');
  await underStraceAttached(pid, ['-yy'], trace, children, async () => {
    program.stdin!.write('go\n');
    await waitFor('the program to say it is done', () => output().includes('\nclosed\n'), 20_000);
  });
  program.stdin!.end();
  return { segment, pid, output, trace };
}

interface Report {
  findings: unknown[];
  summary: { mappingsInDoubt: number; removedUnseen: number };
  warnings: string[];
}

it.each([
  ['rm', 'removes'],
  ['mv', 'renames another file over (review 55, H3)'],
  ['fork-exit', 'removes once the attached process has exited, its fork holding the mapping (code review 57, F5)'],
  ['open-rm', 'removes while it holds the file open (review 59, H1)'],
  ['open-rename', 'renames another file over while it holds the file open (review 59, H1: gdbm’s reorganize)'],
  ['link-rm', 'links to a second name, then removes both (code review 60, F3)'],
  ['mv-rm', 'moves to a new name, then removes (code review 60, F4)'],
  ['excl-over', 'renames over a name the attached process made with O_EXCL, which it then removes (code review 62, F4)'],
] as const)('strace -p by hand (%s): a mapped file a child of the attached process %s is in doubt, and the trace is said to be attached', async (how, _what) => {
  const { segment, pid, output, trace } = await attachedWhileRemoved(`review55-removed-by-child-${how}`, how);
  // The kernel's word: the mapping outlived the file's name (mv-rm's last, seg.idx.old).
  const last = how === 'mv-rm' ? `${segment}.old` : how === 'excl-over' ? join(dirname(segment), 'x') : segment;
  expect(output().split('\n')[1]).toMatch(new RegExp(` ${last} \\(deleted\\)$`));

  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as Report;
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  const held = report.warnings.filter((warning) => warning.startsWith(`the last name of ${last} went at `));
  expect(held).toHaveLength(1);
  // The fd closed is the attached process's, or under fork-exit its fork child's.
  expect(held[0]).toMatch(how === 'fork-exit' ? /a file process \d+ held open since before the trace/ : new RegExp(`a file process ${pid} held open since before the trace`));
  expect(report.warnings.some((warning) => warning.includes('the trace does not start at an execve'))).toBe(true);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(2);
  // coreutils mv renames with RENAME_NOREPLACE, which succeeds only onto a free name: no name went by it, only by the rm.
  if (how === 'mv-rm') expect(readFileSync(trace, 'utf8')).toMatch(/renameat2\(.*RENAME_NOREPLACE\) = 0/);
  if (how === 'mv-rm') expect(report.summary.removedUnseen).toBe(1);
  // Review 70, P2: under --pid of the attached process, the names its child removed went unsaid in the headline
  // (counted by the process that removed them), while the warning named them: any process may remove what it mapped.
  if (how === 'mv-rm') {
    const narrowed = JSON.parse(runCli(['analyze', trace, '--format', 'json', '--pid', String(pid)]).stdout) as Report;
    expect(narrowed.summary.removedUnseen).toBe(1);
  }
});

it('strace -ff -p by hand, filtered: the set is said to be attached though the child’s file starts at its execve (code review 57, F6)', async () => {
  const work = workspace('review55-removed-by-child-ff');
  const directory = join(work, 'w');
  const segment = join(directory, 'seg.idx');
  writeFileSync(segment, Buffer.alloc(8192, 'i'));
  const { program, pid, output } = await startScenario('removed-by-child.py', [directory, 'spawn'], children);
  const prefix = join(work, 'trace');
  // posix_spawn's child makes no call of the filter before its execve of rm.
  await underStraceAttached(pid, ['-ff', '-yy', '-e', 'trace=execve,clone,clone3,fork,vfork,unlink,unlinkat,openat,close,mmap,munmap'], prefix, children, async () => {
    program.stdin!.write('go\n');
    await waitFor('the program to close its fd', () => output().includes('\nclosed\n'), 20_000);
  });
  program.stdin!.end();
  const members = readdirSync(work)
    .filter((name) => name.startsWith('trace.'))
    .map((name) => join(work, name));
  expect(members.length).toBeGreaterThanOrEqual(2);
  // The set holds a member that starts at an execve: the child's.
  expect(members.some((member) => /^\S+ execve\(/.test(readFileSync(member, 'utf8')))).toBe(true);
  const report = JSON.parse(runCli(['analyze', ...members, '--format', 'json']).stdout) as Report;
  expect(report.warnings.some((warning) => warning.includes('the trace does not start at an execve'))).toBe(true);
  expect(report.summary.mappingsInDoubt).toBe(1);
});

it.each([
  ['dpkg-mv', 'the name SEGMENT, of a file the trace holds no mapping of, was renamed over'],
  ['dpkg-link', 'the name SEGMENT.dpkg-tmp, of a file the trace holds no mapping of, went'],
] as const)('strace -p by hand (%s): a file mapped before the attach, its fd closed, replaced as dpkg replaces a library, is named in a warning (review 59, H2)', async (how, told) => {
  const { segment, output, trace } = await attachedWhileRemoved(`review59-replaced-${how}`, how);
  // The kernel's word: the mapping outlived the file's name.
  expect(output().split('\n')[1]).toMatch(new RegExp(` ${segment} \\(deleted\\)$`));

  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as Report;
  // No fd shows it deleted, and the trace never saw the mapping: a warning names the removal.
  expect(report.findings).toEqual([]);
  const warning = report.warnings.find((text) => text.includes('of a file the trace holds no mapping of'));
  expect(warning, report.warnings.join('\n')).toContain(told.replace('SEGMENT', segment));
  // And the headline says the trace cannot give a plain verdict, though --fail-on passes: it is no doubt.
  expect(report.summary.removedUnseen).toBeGreaterThan(0);
  expect(runCli(['analyze', trace]).stdout.split('\n')[0]).toBe(
    `orphanmap: no mapping was seen to outlive its file, but ${report.summary.removedUnseen === 1 ? 'the name of a file' : `${report.summary.removedUnseen} names of files`} the trace holds no mapping of went while a process that ran before the trace ran, and what that process mapped before the trace is not known (see the warnings).`,
  );
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(0);
});

it('strace -p by hand: the doubt of a file held since before the trace names one in doubt, not one a finding covers (review 59, M1)', async () => {
  const work = workspace('review59-held-two');
  const directory = join(work, 'w');
  const segment = join(directory, 'seg.idx');
  const other = join(directory, 'other.idx');
  writeFileSync(segment, Buffer.alloc(8192, 'i'));
  writeFileSync(other, Buffer.alloc(8192, 'o'));
  const { program, pid, output } = await startScenario('removed-by-child.py', [directory, 'two'], children);
  const trace = join(work, 'trace.txt');
  await underStraceAttached(pid, ['-yy'], trace, children, async () => {
    program.stdin!.write('go\n');
    await waitFor('the program to close its fds', () => output().includes('\nclosed\n'), 20_000);
  });
  program.stdin!.end();

  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as Omit<Report, 'findings'> & { findings: { path: string }[] };
  // seg.idx's mapping made in the trace is a finding; other.idx, mapped only before it, is in doubt.
  expect(report.findings.map((finding) => finding.path)).toEqual([segment]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  const held = report.warnings.filter((warning) => warning.includes('held open since before the trace'));
  expect(held).toHaveLength(1);
  expect(held[0]).toMatch(new RegExp(`^the last name of ${other} went at ${trace}:\\d+ \\(process \\d+\\), a file process ${pid} held open`));
});

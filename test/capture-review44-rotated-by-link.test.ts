// Review 44, H2: `capture --pid --backend bpftrace` of dovecot's imap process,
// whose index log, mapped before the attach, was rotated by a hard link
// (link(log, log.2), then a new log renamed over log) by another process.
// At its logout the process unmapped and closed the log and exited; right
// after, the capture found the name maps-start.txt gave it leading to
// another file, its directory changed a second or more before the exit, and
// the mapping its process released was put in doubt (`--fail-on` exit 2),
// though the file kept a name, log.2. bpftrace's close record now gives the
// file's link count (1 here) after the release: a name was left, so no doubt.
// (strace -y's close shows the fd's name "(deleted)", which cannot tell: in
// doubt there still.)
// Truth: the program's own /proc/self/maps line (the mapping "(deleted)")
// and stat of log.2 (the mapped inode, one link).
//
// Needs root and bpftrace.
import type { ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('a mapped log rotated by a hard link, released, then its process exits: no doubt, as the close showed it with a name left', async () => {
  const work = workspace('review44-rotated');
  const log = join(work, 'w', 'index.log');
  writeFileSync(log, Buffer.alloc(16384, 'l'));
  const { program, pid, output, done: programDone } = await startScenario('rotated-by-link.py', [log], children);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('bpftrace', pid, bundle, children, ['--duration', '120'], 'snapshots');
  // dovecot's rotation, by this process, which the capture does not trace; its second name in another directory,
  // which the capture's lookup at the exit does not search (one in the same directory it finds: review 82, E1),
  // so that the close record is what tells.
  const rotated = join(work, 'old', 'index.log.2');
  mkdirSync(join(work, 'old'));
  linkSync(log, rotated);
  writeFileSync(`${log}.new`, 'n');
  renameSync(`${log}.new`, log);
  // The exit a second and more after the directory changed: the exit look-up lists the log in maps-start-gone.txt.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  program.stdin!.end('go\n');
  expect((await programDone).code).toBe(0);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  // The kernel's word: /proc printed the mapping "(deleted)", and its inode has one name, index.log.2.
  const line = output().split('\n')[1]!;
  expect(line).toMatch(/ \(deleted\)$/);
  const inode = Number(line.split(/\s+/)[4]);
  expect(statSync(rotated)).toMatchObject({ ino: inode, nlink: 1 });
  // The precondition: the capture found the name leading elsewhere, a second or more after the directory changed.
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(` ${log}\n`);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
}, 150_000);

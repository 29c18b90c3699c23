// Review 7, item 6: thread A's unlink of a mapped file's name is printed
// `<unfinished ...>`; before its `<... unlink resumed>) = 0`, another
// process's open of the name fails with ENOENT (the unlink took effect
// first) and makes a new file at it (O_CREAT). The ENOENT was taken for the
// name removed out of sight, the mapped file forgot it, and the resumed
// unlink went to the new file: "no mapping outlived its file" where both
// processes held the deleted file.
//
// The program is real (test/scenarios/removed-while-reopened.py under real
// strace), and so is each process's truth (the "(deleted)" lines of its own
// /proc/self/maps). strace prints the unlink in one line there, as the
// child waits for it; the test then splits that line as strace splits a call
// another thread's lines interrupt, with the child's two lines in between.
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

interface Truth {
  pid: number;
  deleted: { address: string; bytes: number; path: string }[];
}

function findingsOf(input: string): string[] {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
  return findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.severity === 'error').map((finding) => `${finding.pid} ${finding.address} ${finding.path}`);
}

it.each([
  ['-y', ['-y']],
  ['no -y', []],
])('strace %s: the unlink in flight while the other process finds the name gone and makes it anew leaves both mappings reported, as /proc shows them', (_, flags) => {
  const dir = workspace('removal-in-flight');
  const input = join(dir, 'trace.txt');
  const file = join(dir, 'seg.index');
  const run = spawnSync('strace', ['-f', '-ttt', ...flags, '-o', input, PYTHON, join(REPO, 'test', 'scenarios', 'removed-while-reopened.py'), file], { encoding: 'utf8', timeout: 30_000 });
  expect(run.status, run.stderr).toBe(0);
  const truths = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Truth);
  const truth = truths.flatMap((each) => each.deleted.filter((line) => line.path === file).map((line) => `${each.pid} ${line.address} ${line.path}`)).sort();
  // Parent and child each hold the deleted file.
  expect(truth).toHaveLength(2);
  expect(findingsOf(input).sort()).toEqual(truth);

  // The same trace as strace prints it when the child's two lines come while the unlink is in flight.
  // The parent's first unlink may already be split (other lines of the child came in between): its resume is moved.
  const lines = readFileSync(input, 'utf8').split('\n');
  const unlinkAt = lines.findIndex((line) => line.includes(`unlink("${file}"`));
  const [pid, time] = lines[unlinkAt]!.split(' ');
  const resumedAt = lines.findIndex((line, i) => i > unlinkAt && line.startsWith(`${pid} `) && line.includes('<... unlink resumed>'));
  const whole = lines[unlinkAt]!.endsWith(') = 0');
  const createdAt = lines.findIndex((line, i) => i > unlinkAt && line.includes(`"${file}", O_RDWR|O_CREAT`));
  const missingAt = lines.findIndex((line, i) => i > unlinkAt && i < createdAt && line.includes(`"${file}", O_RDONLY`));
  expect(unlinkAt).toBeGreaterThan(0);
  expect(missingAt).toBeGreaterThan(unlinkAt);
  // Its result: on that line, or on the child's "<... openat resumed>" when strace split the call (another
  // process's line came between: CI, 407b6bb, without -y).
  const child = lines[missingAt]!.split(' ')[0];
  const missing = lines[missingAt]!.endsWith('<unfinished ...>') ? lines.find((line, i) => i > missingAt && line.startsWith(`${child} `) && line.includes('<... openat resumed>')) : lines[missingAt];
  expect(missing).toContain('ENOENT');
  if (!whole) expect(resumedAt).toBeGreaterThan(unlinkAt);
  const seconds = Number(lines[createdAt]!.split(' ')[1]);
  const between = lines.slice(unlinkAt + 1, createdAt + 1).filter((_, k) => whole || unlinkAt + 1 + k !== resumedAt);
  const split = [
    ...lines.slice(0, unlinkAt),
    `${pid} ${time} unlink("${file}" <unfinished ...>`,
    ...between,
    `${pid} ${(seconds + 0.000001).toFixed(6)} <... unlink resumed>) = 0`,
    ...lines.slice(createdAt + 1),
  ];
  const splitInput = join(dir, 'split.txt');
  writeFileSync(splitInput, split.join('\n'));
  expect(findingsOf(splitInput).sort()).toEqual(truth);
});

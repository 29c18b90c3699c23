// Review 28 (attack), F5: every member of an strace -ff set is opened up
// front and kept open while the set is merged, so a set of more members than
// the open-file limit (a JVM with 2,000 threads under a soft limit of 1,024)
// stopped with "cannot read: EMFILE: too many open files", which names a file
// but not the cause or the cure. The message now says both.
//
// A real set: python3 starting 100 threads under `strace -ff`, read by the
// CLI with its open-file limit at 40.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { CLI, requireTool } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('an strace -ff set of more files than the open-file limit: exit 2, a message that says why and what to do', () => {
  const set = join(workspace('ff-open-files'), 'ff');
  mkdirSync(set);
  const threads = 'import threading, time\nts = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(100)]\nfor t in ts: t.start()\nfor t in ts: t.join()\n';
  const traced = spawnSync('strace', ['-ff', '-ttt', '-o', join(set, 'trace'), PYTHON, '-c', threads], { encoding: 'utf8', timeout: 60_000 });
  expect(traced.status, traced.stderr).toBe(0);
  expect(readdirSync(set).length).toBeGreaterThan(100);

  const run = spawnSync('/bin/sh', ['-c', 'ulimit -n 40 && exec "$0" "$1" analyze "$2"', process.execPath, CLI, set], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(
    /: error: too many open files \(EMFILE\): the open-file limit is below what this input needs \(an strace -ff set keeps each of its files open\); raise it \(ulimit -n 65536\) and run again\n$/,
  );
});

// Review 28 (attack), F5: every member of an strace -ff set is opened up
// front and kept open while the set is merged, so a set of more members than
// the open-file limit (a JVM with 2,000 threads under a soft limit of 1,024)
// stopped with "cannot read: EMFILE: too many open files", which names a file
// but not the cause or the cure. The message now says both.
//
// A real set: python3 starting 400 threads under `strace -ff`, read by the
// CLI with its open-file limit at 256. Not lower: Node loads orphanmap's own
// modules through many files open at once, and below about 50 that load
// itself fails, at random, before the set is opened (a CI run at 40: the
// module dist/ingest/evidence.js could not be opened, exit 1).
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { CLI, REPO, requireTool } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('an strace -ff set of more files than the open-file limit: exit 2, a message that says why and what to do', () => {
  const set = join(workspace('ff-open-files'), 'ff');
  mkdirSync(set);
  const threads = 'import threading, time\nts = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(400)]\nfor t in ts: t.start()\nfor t in ts: t.join()\n';
  const traced = spawnSync('strace', ['-ff', '-ttt', '-o', join(set, 'trace'), PYTHON, '-c', threads], { encoding: 'utf8', timeout: 60_000 });
  expect(traced.status, traced.stderr).toBe(0);
  expect(readdirSync(set).length).toBeGreaterThan(300);

  const run = spawnSync('/bin/sh', ['-c', 'ulimit -n 256 && exec "$0" "$1" analyze "$2"', process.execPath, CLI, set], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(
    /: error: too many open files \(EMFILE\): the open-file limit is below what this input needs \(an strace -ff set keeps each of its files open\); raise it \(ulimit -n 65536\) and run again\n$/,
  );
});

// Below about 50 open files Node cannot load orphanmap's own modules (it reads many at once): that is the user's
// limit, not a bug, and the message says so (a CI run at 40 printed "internal error: EMFILE …", exit 1). At 30 the
// load fails every time here (40 runs of 40), after the CLI's own first modules, so its message is the one printed.
it('an open-file limit too low for orphanmap to load its own code: exit 2, a message that says what to do', () => {
  const run = spawnSync('/bin/sh', ['-c', 'ulimit -n 30 && exec "$0" "$1" analyze "$2"', process.execPath, CLI, join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toMatch(/^orphanmap: error: the open-file limit is too low \(EMFILE: too many open files, open '[^']+\.js'\); raise it \(ulimit -n 65536\) and run again\n$/);
  expect(run.status).toBe(2);
});

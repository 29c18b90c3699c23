// Review 28 (attack), F5: every member of an strace -ff set is opened up
// front and kept open while the set is merged, so a set of more members than
// the open-file limit (a JVM with 2,000 threads under a soft limit of 1,024)
// stopped with "cannot read: EMFILE: too many open files", which names a file
// but not the cause or the cure. The message now says both.
//
// A real set: python3 starting 400 threads under `strace -ff`, read by the
// CLI with its open-file limit at 256. Not lower: Node needs a few dozen
// files open to load orphanmap itself, and a limit below that fails before
// the set is opened (the second test; a CI run at 40, before the CLI was
// bundled: the module dist/ingest/evidence.js could not be opened).
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

// Under a few dozen open files Node cannot load orphanmap's own code (it opens several files at once): that is the
// user's limit, not a bug, and the message says so (a CI run at 40 printed "internal error: EMFILE …", exit 1). The
// CLI is bundled into a few files, and its entry loads the rest inside its error handling (src/cli.ts): here the load
// succeeds from 27 open files on, fails with the message from 20 to 26, and below that Node cannot open the entry
// itself (nothing of orphanmap runs). Each limit from 21 to 40 either runs or says what to do.
it('an open-file limit too low for orphanmap to load its own code: exit 2, a message that says what to do', () => {
  const outcomes = new Map<number, string>();
  for (let limit = 21; limit <= 40; limit++) {
    const run = spawnSync('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$0" "$1" analyze "$2" --format json`, process.execPath, CLI, join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const told = /^orphanmap: error: the open-file limit is too low \(EMFILE: too many open files, open '[^']+\.m?js'\); raise it \(ulimit -n 65536\) and run again\n$/.test(run.stderr);
    outcomes.set(limit, run.status === 0 && run.stderr === '' ? 'ran' : run.status === 2 && told ? 'told' : `exit ${run.status}: ${run.stderr.slice(0, 300)}`);
  }
  expect([...outcomes.values()].filter((outcome) => outcome !== 'ran' && outcome !== 'told')).toEqual([]);
  // The message was given (at the lowest limits), and the run succeeds once the limit allows it.
  expect(outcomes.get(21)).toBe('told');
  expect(outcomes.get(40)).toBe('ran');
});

// One temporary directory for a whole test run, removed at its end. Tests
// make their scratch directories with mkdtemp under os.tmpdir(), and most
// leave them: traces, bundles, JVM work directories, loop images. A run of
// the suite left about 700 in /tmp, and every run more. Removing them by
// name at the end of a run is not safe (a second run at the same time, CI's
// and a developer's `vitest run FILE`, would have its own removed under it),
// so each run gets a directory of its own: TMPDIR, which os.tmpdir(), mktemp
// and the capture scripts read, is set before the test workers start, and
// they inherit it.
//
// It is made like /tmp (mode 1777): tests run programs as nobody that make
// files in it, and the capture's checks of an --out directory's parents see
// what they see under /tmp. ORPHANMAP_KEEP_TEST_TMP=1 keeps it, to look at
// what a failed test left.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  // A short name: bpftrace cuts paths at 200 bytes, and tests put their files a few levels under it.
  const runDir = mkdtempSync(join(tmpdir(), 'om-run-'));
  chmodSync(runDir, 0o1777);
  process.env.TMPDIR = runDir;
  return () => {
    if (process.env.ORPHANMAP_KEEP_TEST_TMP === '1') {
      process.stderr.write(`test files kept in ${runDir} (ORPHANMAP_KEEP_TEST_TMP=1)\n`);
      return;
    }
    // Not into other file systems: a test killed before its afterAll may leave a loop image mounted under it. rm then
    // leaves the mount and says so; the run's result is the tests', so this is said, not thrown (review 41, F7).
    const removed = spawnSync('rm', ['-rf', '--one-file-system', runDir], { encoding: 'utf8' });
    if (removed.status !== 0) process.stderr.write(`test files left in ${runDir}: ${removed.stderr.trim()}\n`);
  };
}

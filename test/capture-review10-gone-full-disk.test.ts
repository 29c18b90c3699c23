// Review 10, R10-2: a file system filled for a moment made the capture call
// files gone that were still at their names. When its target exits, the
// capture looks up every file of maps-start.txt (maps-start-gone.txt, whose
// lines the analysis makes `unlinked-while-mapped` errors of), through
// temporary lists in the bundle; the statuses of their writes were not
// checked, and a name with no answer counted as gone. Someone filled the
// shared file system for the moment of the capture's sort of the names and
// freed it at once: 4,249 lines in maps-start-gone.txt while 4,999 of the
// 5,000 files were still there, in a bundle that said "complete": true. Now
// a file is gone only when stat said so of its name, and a lookup that could
// not write its lists writes no maps-start-gone.txt, says so, and leaves the
// bundle "complete": false.
//
// Real strace, a real C target (test/scenarios/review10-target.c) mapping
// 2,000 files of ~3.9 KB paths, a real tmpfs holding the bundle, filled by
// this test as the reviewer did; the truth is whether each file is at its
// name, looked up here.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statfsSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from './scenarios/review7-kids.js';
import { compileTarget, startTarget } from './scenarios/review10-target.js';
import { killPids, killStillRunning, tracerPid } from './support/proc.js';
import { requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const FILES = 2000;
const started: ChildProcess[] = [];
const pids: number[] = [];
let work = '';
let mount = '';
let binary = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review10-gone-full-disk.test.ts must run as root (it mounts a tmpfs and traces with strace)');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'om-review10-disk-'));
  binary = compileTarget(work);
  mount = join(work, 'mnt');
  mkdirSync(mount);
  // maps-start.txt (~8 MB) and the capture's other files fit; the list of names (~8 MB more) does not, once the test has filled it.
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs: ${mounted.stderr}`);
});
afterEach(() => {
  killPids(pids);
  killStillRunning(started);
});
afterAll(() => {
  spawnSync('umount', [mount]);
  // rm, not rmSync: the target's directories nest ~1,950 deep, past rmSync's recursion.
  spawnSync('rm', ['-rf', '--', work]);
});

describe('review 10, R10-2: the bundle’s file system full for the moment of the lookup of the files at the exit', () => {
  it('no file still at its name is called gone; the lookup says it could not be made, and the bundle is incomplete', async () => {
    const target = await startTarget(binary, work, FILES, 0, started);
    pids.push(target.pid);
    const bundle = join(mount, 'bundle');
    const capture = startCapture(['--backend', 'strace', '--pid', String(target.pid), '--duration', '60', '--out', bundle], started);
    await waitFor('the capture to attach and write meta.json', () => tracerPid(target.pid) !== 0 && existsSync(join(bundle, 'meta.json')), 30_000);
    expect(statSync(join(bundle, 'maps-start.txt')).size).toBeGreaterThan(FILES * 3900);
    // One file really removed while mapped, its directory's change more than a second before the exit.
    unlinkSync(join(target.files, 'f00000'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    pids.push(await target.fork());
    // Filled but for 2 MB, as another user of a shared file system could.
    const filler = join(mount, 'filler');
    const { bavail, bsize } = statfsSync(mount);
    writeFileSync(filler, Buffer.alloc(bavail * bsize - 2 * 1024 * 1024));
    target.exit();
    // Freed the moment the capture's own writes fill it.
    const deadline = Date.now() + 20_000;
    while (statfsSync(mount).bavail > 0 && Date.now() < deadline);
    const filled = statfsSync(mount).bavail === 0;
    unlinkSync(filler);
    expect(filled, `the capture filled the file system: ${capture.stderr()}`).toBe(true);
    const done = await capture.done;

    // The truth: every file but f00000 is at its name.
    const here = new Set<string>();
    for (let i = 0; i < FILES; i++) {
      const name = join(target.files, `f${String(i).padStart(5, '0')}`);
      if (existsSync(name)) here.add(name);
    }
    expect(here.size).toBe(FILES - 1);
    const gonePath = join(bundle, 'maps-start-gone.txt');
    const gone = existsSync(gonePath) ? readFileSync(gonePath, 'utf8').trimEnd().split('\n') : [];
    const falselyGone = gone.filter((line) => here.has(line.slice(line.indexOf('/'))));
    expect(falselyGone.length, `${falselyGone.length} files still at their names in maps-start-gone.txt`).toBe(0);
    // What the capture says of it: nothing written, and why.
    expect(gone).toEqual([]);
    expect(capture.stderr()).toContain('maps-start-gone.txt left out: the lookup of the files of maps-start.txt could not write its lists');
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { complete: boolean };
    expect(meta.complete).toBe(false);
    expect(done.code).toBe(2);
    expect(readFileSync(join(bundle, 'meta.json'), 'utf8')).toContain('"exitReason": "target-exited"');
  }, 60_000);
});

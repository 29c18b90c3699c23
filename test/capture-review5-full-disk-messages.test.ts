// Review 5, finding 3: bash's own errors reached the user raw. Under a full
// tmpfs the capture printed "bundle-lib.sh: line 197: printf: write error: No
// space left on device" (and "…: line 197: /proc/N/fd/9/.bounded.N: No space
// left on device"), and during a big capture "line 266: … Broken pipe":
// writes of the helper that reads what the target controls (om_bounded), into
// its scratch files or into a pipe whose reader had been ended. Now every line
// is the script's or orphanmap's own, names the bundle file that could not be
// written, and shows the bundle's path (which whoever owns a directory above
// it chooses) with its control characters escaped. Real strace, a real tmpfs
// with too few inodes for the bundle's files.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, PYTHON } from './scenarios/harness.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';

const children: ChildProcess[] = [];
let work = '';
let mount = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review5-full-disk-messages.test.ts must run as root (it mounts a tmpfs and traces with strace)');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-review5-disk-'));
  mount = join(work, 'mnt');
  mkdirSync(mount);
  // Its root, the bundle directory, .meta-reserve, trace.txt and tracer.stderr: nothing more.
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=50m,nr_inodes=5', 'tmpfs', mount], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs: ${mounted.stderr}`);
});
afterEach(() => killStillRunning(children));
afterAll(() => {
  spawnSync('umount', ['-l', mount]);
  rmSync(work, { recursive: true, force: true });
});

describe('review 5, finding 3: a bundle file that cannot be written is said in the capture’s own words', () => {
  it('a file system out of inodes: no bash error, each failed file named, the hostile path escaped, the target let go', async () => {
    const target = spawn(PYTHON, ['-c', 'import time\nprint("ready", flush=True)\nwhile True: time.sleep(0.01)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(target);
    await new Promise<void>((resolve) => target.stdout!.once('data', () => resolve()));
    // A name whoever owns the directory above may choose: a newline and a terminal escape.
    const bundle = join(mount, 'b\n\x1b[2Jx');
    const child = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(target.pid), '--duration', '1', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const result = await exited(child);

    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    // Every line is a message of the script's or of orphanmap's, none of bash's.
    for (const line of lines) expect(line).toMatch(/^(capture-strace|orphanmap): /);
    expect(result.stderr).not.toMatch(/line \d+:|write error/);
    expect(result.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    const shown = join(mount, 'b\\n\\x1b[2Jx');
    expect(result.stderr).toContain(`capture-strace: error: could not write maps-start.txt fds-start.txt meta.json maps-end.txt into ${shown}: the bundle is incomplete`);
    expect(result.stderr).toContain(`capture-strace: error: could not write into ${shown} (is its file system full?): meta.json lacks the thread list of pid ${target.pid}`);
    expect(procStatus(target.pid!)).toMatchObject({ tracerPid: 0 });
  }, 30_000);
});

// Review 2, F3: `capture --out FIFO/bundle` blocked for good in the capture
// script's open of the parent (a FIFO opens only once someone writes to it),
// and so did a bundle directory swapped for a FIFO between its mkdir and its
// open. Both must fail at once, naming the path, before anything is traced,
// whether orphanmap runs the script or a user does by hand.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureScriptPath } from '../src/capture/index.js';
import { asNobody, NOBODY } from './support/nobody.js';
import { CLI, requireTool } from './support/tools.js';

const LIB = join(captureScriptPath('strace'), '..', 'bundle-lib.sh');

/** A directory nobody owns, under one only root may write. */
function attackersHome(): string {
  const top = mkdtempSync(join(tmpdir(), 'orphanmap-fifo-parent-'));
  chmodSync(top, 0o755);
  const home = join(top, 'home');
  mkdirSync(home);
  chownSync(home, NOBODY, NOBODY);
  return home;
}

describe('capture --out under a FIFO', () => {
  it("--out's parent is another user's FIFO: refused at once with exit 2, naming it, and nothing is run", () => {
    requireTool('strace');
    const home = attackersHome();
    const fifo = join(home, 'fifo');
    asNobody(`mkfifo '${fifo}'`);
    const marker = join(home, 'ran');
    const started = Date.now();
    // Without the fix the script blocks in open(2): the timeout ends it with SIGTERM.
    const result = spawnSync(process.execPath, [CLI, 'capture', '--out', join(fifo, 'bundle'), '--duration', '1', '--', 'touch', marker], { encoding: 'utf8', timeout: 20_000 });
    expect(result.signal).toBeNull();
    expect(result.status, result.stderr).toBe(2);
    // orphanmap walks to --out's parent itself (safe-path.ts), opening each directory as one: a FIFO fails there.
    expect(result.stderr).toContain(`cannot open ${fifo}, the directory that would hold ${join(fifo, 'bundle')}: ${fifo} is not a directory`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(marker)).toBe(false);
    // The script run by hand opens the parent by its path, as PARENT/., which only a directory has.
    const byHand = spawnSync(captureScriptPath('strace'), ['-o', join(fifo, 'bundle'), '-d', '1', '--', 'touch', marker], { encoding: 'utf8', timeout: 20_000 });
    expect(byHand.signal).toBeNull();
    expect(byHand.status, byHand.stderr).toBe(2);
    expect(byHand.stderr).toContain(`${fifo} is not a directory, so it cannot hold ${join(fifo, 'bundle')}`);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(existsSync(marker)).toBe(false);
  }, 30_000);

  it('the new bundle directory swapped for a FIFO right after mkdir: refused at once, never waited on', () => {
    const parent = mkdtempSync(join(tmpdir(), 'orphanmap-fifo-swap-'));
    // om_prepare_bundle as the script runs it, with mkdir followed by the swap
    // the owner of the parent could make in that instant.
    const harness = `
. "$1"
mkdir() { command mkdir "$@" && rmdir -- "\${@: -1}" && mkfifo -- "\${@: -1}"; }
OM_OUT=$2/bundle
om_prepare_bundle
echo prepared`;
    const result = spawnSync('bash', ['-c', harness, 'harness', LIB, parent], { encoding: 'utf8', timeout: 10_000 });
    expect(result.signal).toBeNull();
    expect(result.stdout).toBe('');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`cannot open ${parent}/bundle as a directory`);
  });
});

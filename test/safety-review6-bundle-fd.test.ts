// The session's review: resolveInputs checked a bundle directory it had
// opened (its owner, when a link), closed it, and loaded the bundle by its
// name again, so a link put at the name between the two was followed. Now the
// bundle is loaded through the descriptor checked (loadBundleFrom), whatever
// is at its name since. A real bundle from traces/, and a copy of it with another pid.
import { closeSync, constants, cpSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadBundleFrom } from '../src/ingest/bundle.js';
import { REPO } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-bundle-fd-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('loads the bundle directory it was given open, not what a link put at its name since leads to', async () => {
  const checked = join(scratch, 'bundle');
  const other = join(scratch, 'other');
  cpSync(join(REPO, 'traces', 'launched-late-snapshot', 'bundle'), checked, { recursive: true });
  cpSync(join(REPO, 'traces', 'launched-late-snapshot', 'bundle'), other, { recursive: true });
  // The other bundle: the same, but of another process.
  const meta = JSON.parse(readFileSync(join(other, 'meta.json'), 'utf8')) as { pid: number };
  writeFileSync(join(other, 'meta.json'), JSON.stringify({ ...meta, pid: meta.pid + 1 }));
  const fd = openSync(checked, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const expected = (await loadBundleFrom(fd, checked)).meta.pid;
    const otherFd = openSync(other, constants.O_RDONLY | constants.O_DIRECTORY);
    const elsewhere = (await loadBundleFrom(otherFd, other).finally(() => closeSync(otherFd))).meta.pid;
    expect(expected).not.toBe(elsewhere);
    // The checked directory moves away, and a link to the other bundle takes its name.
    renameSync(checked, join(scratch, 'moved'));
    symlinkSync(other, checked);
    const loaded = await loadBundleFrom(fd, checked);
    expect(loaded.meta.pid).toBe(expected);
    // Named as the user named it.
    expect(loaded.dir).toBe(checked);
  } finally {
    closeSync(fd);
  }
});

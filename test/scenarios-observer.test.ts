// The scenario suite's truth comes from observer.py; these check the observer
// itself, with a client whose /proc maps are known.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { exited, PYTHON, type Truth } from './scenarios/harness.js';
import { REPO } from './support/tools.js';

const HERE = join(REPO, 'test', 'scenarios');

/** What observer.py wrote of one run of reused-key.py in `mode`. */
async function truthOf(mode: 'same-file' | 'new-inode'): Promise<Truth> {
  const dir = mkdtempSync(join(tmpdir(), 'om-observer-'));
  const observer = spawn(PYTHON, [join(HERE, 'observer.py'), join(dir, 'sock'), join(dir, 'truth.json')], { stdio: ['pipe', 'pipe', 'pipe'] });
  const done = exited(observer);
  await new Promise<void>((resolve) => observer.stdout!.once('data', () => resolve()));
  const run = spawnSync(PYTHON, [join(HERE, 'reused-key.py'), dir, join(dir, 'sock'), mode], { encoding: 'utf8', timeout: 20_000 });
  expect(run.status, run.stderr).toBe(0);
  expect((await done).code).toBe(0);
  return JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
}

describe('observer.py', () => {
  // The scenario suite failed once with an "extra" finding: fork-inherit's
  // shared.map got hard-link's a.dat's freed inode number and its address, in
  // the same process, and the observer took it for a.dat's mapping seen again.
  it('reports a mapping whose process, inode and address an earlier, gone mapping had', async () => {
    const truth = await truthOf('same-file');
    expect(truth.checkpoints).toBe(4);
    expect(truth.leaks.map((leak) => leak.label)).toEqual(['first', 'again']);
    expect(truth.leaks[1]!.address).toBe(truth.leaks[0]!.address);
  });

  // And again, under load: partial-munmap's first.map got map-fixed's a.map's
  // inode number and address with no look between a.map's unmap and
  // first.map's mmap, so a.map was still "in sight" and first.map went
  // unreported. Only the inode's generation tells the two files apart.
  it('reports a new file with the inode number and address of a gone mapping when no look fell between them', async () => {
    const truth = await truthOf('new-inode');
    expect(truth.checkpoints).toBe(2);
    expect(truth.leaks.map((leak) => leak.label)).toEqual(['first', 'again']);
    expect(truth.leaks[1]!.address).toBe(truth.leaks[0]!.address);
    expect(truth.leaks[1]!.inode).toBe(truth.leaks[0]!.inode);
  });
});

// The scenario suite's truth comes from observer.py; these check the observer
// itself, with a client whose /proc maps are known.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exited, PYTHON, type Truth } from './scenarios/harness.js';
import { REPO } from './support/tools.js';

const HERE = join(REPO, 'test', 'scenarios');

describe('observer.py', () => {
  // The scenario suite failed once with an "extra" finding: fork-inherit's
  // shared.map got hard-link's a.dat's freed inode number and its address, in
  // the same process, and the observer took it for a.dat's mapping seen again.
  it('reports a mapping whose process, inode and address an earlier, gone mapping had', async () => {
    const dir = mkdtempSync('/tmp/om-observer-');
    const observer = spawn(PYTHON, [join(HERE, 'observer.py'), join(dir, 'sock'), join(dir, 'truth.json')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = exited(observer);
    await new Promise<void>((resolve) => observer.stdout!.once('data', () => resolve()));
    const client = spawnSync(PYTHON, [join(HERE, 'reused-key.py'), dir, join(dir, 'sock')], { encoding: 'utf8', timeout: 20_000 });
    expect(client.status, client.stderr).toBe(0);
    expect((await done).code).toBe(0);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
    expect(truth.checkpoints).toBe(4);
    expect(truth.leaks.map((leak) => leak.label)).toEqual(['first', 'again']);
    expect(truth.leaks[1]!.address).toBe(truth.leaks[0]!.address);
  });
});

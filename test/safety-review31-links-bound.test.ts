// A link of a name the trace holds no file for makes one (review 31, F-3),
// and a file with two names is kept while nothing holds it: as first made,
// without a bound, `cp -al` of 20,000 files under the trace kept every one
// (400,000 links: 577 MB of root's analyze). Those kept unused are 4,096 at
// most, the oldest let go first.
//
// A real program (coreutils' cp -al) under real strace.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { workspace } from './scenarios/harness.js';
import { requireTool } from './support/tools.js';

const FILES = 20_000;

beforeAll(() => requireTool('strace'));

it('cp -al of 20,000 files: the names the engine keeps stay within its bound', async () => {
  const work = workspace('links-bound');
  const source = join(work, 'src');
  mkdirSync(source);
  for (let k = 0; k < FILES; k++) writeFileSync(join(source, `f${k}`), '');
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-o', trace, 'cp', '-al', source, join(work, 'dst')], { encoding: 'utf8', timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  // The trace's word: every file linked, by a name no call of the trace opened.
  expect(readFileSync(trace, 'utf8').match(/ linkat\(/g)?.length).toBe(FILES);
  const analysis = await analyze([trace]);
  expect(analysis.engine.findings()).toEqual([]);
  // Two names each for the 4,096 kept, and the few the program itself holds.
  expect(analysis.engine.namesHeld()).toBeLessThan(2 * 4096 + 100);
}, 180_000);

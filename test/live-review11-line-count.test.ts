// The live view's line count while the traced program is quiet (review 11:
// the header said "lines 0  events 51"): progress was reported every 64 lines
// read, and never once reading had caught up. The trace is the first lines of
// a real strace capture (traces/f-o-ttt-T-y), followed as a capture writes it.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { analyzeLiveBundle } from '../src/ingest/analyze.js';
import { REPO } from './support/tools.js';
import { waitFor } from './support/wait.js';

it('counts every line read once reading has caught up, before the capture ends', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-live-lines-')), 'bundle');
  mkdirSync(dir);
  const lines = readFileSync(join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt'), 'utf8')
    .split('\n')
    .slice(0, 40);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ schema: 'orphanmap/bundle@1', backend: 'strace', mode: 'launched', traceFiles: ['trace.txt'] }));
  writeFileSync(join(dir, 'trace.txt'), `${lines.join('\n')}\n`);
  let endCapture = () => {};
  const captureDone = new Promise<void>((resolve) => (endCapture = resolve));
  let counted = -1;
  const analysis = analyzeLiveBundle(dir, captureDone, { onProgress: (progress) => (counted = progress.lines) });
  // 40 lines, fewer than the 64 between progress reports: only the caught-up report can say them.
  await waitFor('the live count to reach the 40 lines written', () => counted === 40, 10_000);
  endCapture();
  expect((await analysis).lines).toBe(40);
});

// Inputs read again for evidence stay open while the task that reads them goes
// on (issue #14: an open, a check and a close per finding), and no longer: the
// file read is always the one checked, through the descriptor the analysis
// read it from (review 5): a file swapped in later is never read.
import { readdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-open-inputs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const traceOf = (dir: string) =>
  [
    `11020 1795606335.100000 openat(AT_FDCWD, "/data/${dir}/0.index", O_RDWR|O_CREAT, 0644) = 5`,
    '11020 1795606335.100100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000',
    '11020 1795606335.100200 close(5) = 0',
    `11020 1795606335.100300 unlink("/data/${dir}/0.index") = 0`,
    '',
  ].join('\n');

const nextTask = () => new Promise((resolve) => setImmediate(resolve));
const openFiles = () => readdirSync('/proc/self/fd').length;

describe('an input read again for evidence', () => {
  it('is read from the file checked, while the task goes on and in the next, whatever is put at its path', async () => {
    const path = join(scratch, 'trace.txt');
    const other = join(scratch, 'other.txt');
    writeFileSync(path, traceOf('t-0'));
    writeFileSync(other, traceOf('t-1'));
    const [analysis, otherAnalysis] = await Promise.all([analyze([path]), analyze([other])]);
    await nextTask();
    const finding = analysis.engine.findings()[0]!;
    // Another file's lines between two readings: the engine keeps the last reading of one file.
    const readAgain = () => {
      expect(otherAnalysis.engine.findings()[0]!.evidence).toHaveLength(4);
      return finding.evidence.map((line) => line.text);
    };
    const lines = readAgain();
    expect(lines).toEqual(traceOf('t-0').trimEnd().split('\n'));
    const secret = join(scratch, 'secret');
    writeFileSync(secret, `${'S'.repeat(400)}\n`);
    symlinkSync(secret, join(scratch, 'link'));
    renameSync(join(scratch, 'link'), path);
    // Still open: the file that was read, not the one now at its path.
    expect(readAgain()).toEqual(lines);
    await nextTask();
    // And in the next task: the input is read through the descriptor it was analysed from (review 5), never by its path.
    expect(readAgain()).toEqual(lines);
  });

  it('leaves at most a few inputs open at once, and none once the task is over', async () => {
    const paths = Array.from({ length: 20 }, (_, i) => {
      const path = join(scratch, `many-${i}.txt`);
      writeFileSync(path, traceOf(`m-${i}`));
      return path;
    });
    const analyses = await Promise.all(paths.map((path) => analyze([path])));
    await nextTask();
    const before = openFiles();
    let most = 0;
    for (const analysis of analyses) {
      expect(analysis.engine.findings()[0]!.evidence.length).toBe(4);
      most = Math.max(most, openFiles() - before);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(8);
    await nextTask();
    expect(openFiles()).toBe(before);
  });
});

// Report output gathers text in 1 MiB batches (issue #14): the bytes on disk
// are those of each written text encoded on its own, whatever falls on a
// batch boundary (a surrogate pair, half of one, a text longer than a batch).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openReportOutput } from '../src/commands/output.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-batch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const BATCH = 1 << 20;

async function written(texts: readonly string[]): Promise<Buffer> {
  const path = join(scratch, 'report.txt');
  const output = openReportOutput(path);
  for (const text of texts) output.write(text);
  await output.close();
  return readFileSync(path);
}

const encodedApart = (texts: readonly string[]) => Buffer.concat(texts.map((text) => Buffer.from(text, 'utf8')));

describe('report output in batches', () => {
  for (const [name, tail] of [
    ['a surrogate pair', '😀'],
    ['a lone high surrogate', '\ud83d'],
    ['a lone low surrogate', '\ude00'],
    ['a three-byte character', 'é€'],
  ] as const) {
    it(`writes ${name} across a batch boundary as Buffer.from encodes it`, async () => {
      for (const before of [BATCH - 3, BATCH - 2, BATCH - 1, BATCH]) {
        const texts = ['a'.repeat(before), `${tail}b`, 'c'.repeat(BATCH * 2 + 1), tail, '\n'];
        expect((await written(texts)).equals(encodedApart(texts))).toBe(true);
      }
    });
  }

  it('ends a text in half a pair and starts the next with the other half: two replacement characters, as before', async () => {
    const texts = ['x'.repeat(BATCH - 5), 'y\ud83d', '\ude00z'];
    expect((await written(texts)).equals(encodedApart(texts))).toBe(true);
  });
});

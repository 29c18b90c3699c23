// The evidence directory writes its large files (report.json, trace-lines.txt)
// as they are made, in batches of encoded text: what lands on disk must be
// the text whole, whatever the batch boundaries cut, and the digest it
// returns (SHA256SUMS) must be the file's as sha256sum reads it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../src/errors.js';
import { createEvidenceDir } from '../src/evidence/out-dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-produced-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sha256sum(file: string): string {
  const result = spawnSync('sha256sum', [file], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split(' ')[0]!;
}

describe('EvidenceDir.write with a producer', () => {
  it("writes pieces over several batches whole, surrogate pairs cut by a batch's end included, and returns the sha256sum of the file", async () => {
    // Pieces of 1 MiB - 1 characters end in a high surrogate, the next begins with its low half:
    // one batch fills up right inside the pair, whichever way the batches fall.
    const pieces: string[] = [];
    for (let k = 0; k < 4; k++) pieces.push(`${'x'.repeat((1 << 20) - 2 + k)}\ud83d`, `\ude00 piece ${k} é\n`);
    pieces.push('last line without a newline ✓');
    const dir = await createEvidenceDir(join(scratch, 'out'));
    const digest = await dir.write('big.txt', (write) => {
      for (const piece of pieces) write(piece);
    });
    await dir.close();
    const file = join(scratch, 'out', 'big.txt');
    const written = readFileSync(file);
    expect(written.equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
    expect(written.toString('utf8')).not.toContain('\ufffd');
    expect(digest).toBe(sha256sum(file));
  });

  it("says a producer's own error as it is (the trace replaced while its evidence is read), and a write's as a write's", async () => {
    const dir = await createEvidenceDir(join(scratch, 'failing'));
    const replaced = new InputError('is no longer the file that was read (replaced since): its evidence lines are not read from it', 'trace.txt');
    await expect(
      dir.write('report.json', (write) => {
        write('{');
        throw replaced;
      }),
    ).rejects.toBe(replaced);
    const system = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const failed = dir.write('trace-lines.txt', () => {
      throw system;
    });
    await expect(failed).rejects.toBeInstanceOf(UsageError);
    await expect(failed).rejects.toThrow('cannot write trace-lines.txt');
    await dir.close();
  });

  it('returns the sha256sum of a text written whole, and of an empty producer', async () => {
    const dir = await createEvidenceDir(join(scratch, 'small'));
    const text = 'one line ✓\n';
    const textDigest = await dir.write('text.txt', text);
    const emptyDigest = await dir.write('empty.txt', () => undefined);
    await dir.close();
    expect(textDigest).toBe(sha256sum(join(scratch, 'small', 'text.txt')));
    expect(emptyDigest).toBe(sha256sum(join(scratch, 'small', 'empty.txt')));
    expect(readFileSync(join(scratch, 'small', 'empty.txt')).length).toBe(0);
  });
});

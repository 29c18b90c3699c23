// The evidence directory encodes a producer's pieces as they come (out-dir.ts
// writeProduced), not gathered as text first: the bytes on disk must still be
// those of the pieces joined, whatever the pieces cut — a surrogate pair
// across pieces (one piece a lone half), empty pieces, lone halves that are
// never paired (U+FFFD, as Buffer.from encodes them), a text ending in one.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvidenceDir } from '../src/evidence/out-dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-produced-pieces-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CASES: [string, string[]][] = [
  ['a pair across three pieces', ['a\ud83d', '', '\ude00b']],
  ['a piece that is a lone high half', ['x', '\ud83d', '\ude00', '\ud83d', '\ude00y']],
  ['halves never paired', ['\ude00', 'z\ud83d', 'q', '\ud83d\ud83d', '\ude00\ude00']],
  ['a text ending in a high half', ['end ✓', '\ud83d']],
  ['a high half then nothing more but empty pieces', ['\ud83d', '', '']],
  ['a pair at the end of a full batch', [`${'x'.repeat((1 << 20) - 1)}\ud83d`, '\ude00', `${'y'.repeat(1 << 20)}\ud83d`, '\ude00 done']],
];

describe('a producer written as its pieces come', () => {
  for (const [what, pieces] of CASES) {
    it(`writes the bytes of the pieces joined: ${what}`, async () => {
      const name = what.replace(/\W+/g, '-');
      const dir = await createEvidenceDir(join(scratch, name));
      const digest = await dir.write('out.txt', (write) => {
        for (const piece of pieces) write(piece);
      });
      await dir.close();
      const expected = Buffer.from(pieces.join(''), 'utf8');
      const written = readFileSync(join(scratch, name, 'out.txt'));
      expect(written.equals(expected)).toBe(true);
      expect(digest).toBe(createHash('sha256').update(expected).digest('hex'));
    });
  }
});

// `orphanmap diff` exit status: 3 only when the after side still has findings at --fail-on.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDiff } from '../src/commands/diff.js';
import { EXIT_FINDINGS } from '../src/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LEAKY = join(root, 'traces/f-o-ttt-T-y/trace.txt');
const FIXED = join(root, 'traces/fixed/trace.txt');

describe('orphanmap diff --fail-on', () => {
  let written = '';
  beforeEach(() => {
    written = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it('exits 0 when the fixed side has only benign findings', async () => {
    expect(await runDiff(LEAKY, FIXED, { format: 'json', failOn: 'warning' })).toBe(0);
    expect(JSON.parse(written).after.errors).toBe(0);
  });

  it('exits 3 when the after side still leaks', async () => {
    expect(await runDiff(FIXED, LEAKY, { format: 'text', failOn: 'error' })).toBe(EXIT_FINDINGS);
    expect(written).toMatch(/^orphanmap diff: worse/);
  });

  it('exits 0 without --fail-on', async () => {
    expect(await runDiff(FIXED, LEAKY, { format: 'markdown' })).toBe(0);
  });
});

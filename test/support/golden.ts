// Golden files: compared, never written by a test run. Regenerate them on
// purpose with `npm run test:update-golden` (UPDATE_GOLDEN=1) and read the diff.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { REPO } from './tools.js';

export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

/** `actual` must equal test/golden/NAME; with UPDATE_GOLDEN=1 it becomes it. */
export function golden(name: string, actual: string): void {
  const path = join(REPO, 'test', 'golden', name);
  if (UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`missing golden file test/golden/${name}: create it with npm run test:update-golden, then read it`);
  expect(actual, `test/golden/${name} differs; if the change is meant, run npm run test:update-golden and read the diff`).toBe(readFileSync(path, 'utf8'));
}

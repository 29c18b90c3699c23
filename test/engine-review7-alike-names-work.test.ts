// Review 7, item 5: without -y, an unlink of an absolute name the trace never
// opened asks whether a mapped file has another name ending alike (a
// symlinked directory: AliasedNames), and a relative one whether a mapped file
// has its last component (MisplacedNames). Both walked every name with the
// same last component on every such call: 10,000 mapped /dN/seg and 10,000
// unlinks of /qN/seg took 41 s. Counted, not timed: the names visited
// (Files.nameSteps). The warnings must stay: a true alias is still found.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import type { Files } from '../src/engine/files.js';
import { runEngine } from './support/trace-text.js';

const PID = 100;
const LENGTH = 4096;

/** `n` files /dK/seg opened and mapped by one process, then `n` unlinks of names the trace never opened (`unlinked(K)`). */
function trace(n: number, unlinked: (k: number) => string): string {
  const lines: string[] = [];
  let seconds = 1_800_000_000;
  const at = () => `${PID} ${((seconds += 0.000001)).toFixed(6)}`;
  for (let k = 0; k < n; k++) {
    lines.push(`${at()} openat(AT_FDCWD, "/d${k}/seg", O_RDWR) = 3`);
    lines.push(`${at()} mmap(NULL, ${LENGTH}, PROT_READ, MAP_SHARED, 3, 0) = 0x${(0x7f0000000000 + k * LENGTH).toString(16)}`);
    lines.push(`${at()} close(3) = 0`);
  }
  for (let k = 0; k < n; k++) lines.push(`${at()} unlink("${unlinked(k)}") = 0`);
  return lines.join('\n');
}

function run(n: number, unlinked: (k: number) => string): { steps: number; warnings: string[] } {
  const { engine } = runEngine(trace(n, unlinked));
  const files = (engine as unknown as { files: Files }).files;
  engine.finish();
  return { steps: files.nameSteps, warnings: [...(engine as Engine).assumptions()] };
}

describe('unlinks of names the trace never opened, with thousands of mapped files named alike', () => {
  it('absolute names in other directories (/qK/seg): names visited grow linearly, not as files × unlinks', () => {
    const once = run(2000, (k) => `/q${k}/seg`);
    const twice = run(4000, (k) => `/q${k}/seg`);
    // No /qK/seg ends like a /dK/seg in its directory: no warning, and next to no name looked at.
    expect(twice.warnings.filter((warning) => warning.includes('ends in the same directory and name'))).toEqual([]);
    expect(twice.steps).toBeLessThanOrEqual(4 * 4000);
    expect(twice.steps / Math.max(once.steps, 1)).toBeLessThanOrEqual(2.2);
  });

  it('relative names (seg) in a directory the trace did not follow: at most a bounded number of names per call', () => {
    const calls = 4000;
    const { steps, warnings } = run(calls, () => 'seg');
    expect(steps).toBeLessThanOrEqual(1100 * calls);
    // The guess is still made: the first call names a mapped /dK/seg.
    expect(warnings.some((warning) => warning.includes('/seg'))).toBe(true);
  });

  it('a true alias among them is still found: /x/d7/seg unlinked while /y/d7/seg is mapped', () => {
    const { warnings } = run(3000, (k) => (k === 2999 ? '/x/d7/seg' : `/q${k}/seg`));
    // /x/d7/seg and /d7/seg end in the same directory and last component.
    expect(warnings.filter((warning) => warning.includes('/x/d7/seg') && warning.includes('/d7/seg'))).toHaveLength(1);
  });
});

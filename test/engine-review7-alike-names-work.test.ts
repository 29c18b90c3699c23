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
const CHILD = 200;
const LENGTH = 4096;

/**
 * `n` files /dK/seg opened and mapped by one process, then `n` unlinks of
 * names the trace never opened (`unlinked(K)`), by that process or, if
 * `byChild`, by a child it forked before it mapped them (whose address space
 * maps none of them).
 */
function trace(n: number, unlinked: (k: number) => string, byChild: boolean): string {
  const lines: string[] = [];
  let seconds = 1_800_000_000;
  const at = (pid = PID) => `${pid} ${((seconds += 0.000001)).toFixed(6)}`;
  if (byChild) lines.push(`${at()} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000001000) = ${CHILD}`);
  for (let k = 0; k < n; k++) {
    lines.push(`${at()} openat(AT_FDCWD, "/d${k}/seg", O_RDWR) = 3`);
    lines.push(`${at()} mmap(NULL, ${LENGTH}, PROT_READ, MAP_SHARED, 3, 0) = 0x${(0x7f0000000000 + k * LENGTH).toString(16)}`);
    lines.push(`${at()} close(3) = 0`);
  }
  for (let k = 0; k < n; k++) lines.push(`${at(byChild ? CHILD : PID)} unlink("${unlinked(k)}") = 0`);
  return lines.join('\n');
}

function run(n: number, unlinked: (k: number) => string, byChild = false): { steps: number; warnings: string[] } {
  const { engine } = runEngine(trace(n, unlinked, byChild));
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

  it('relative names (seg) in a directory the trace did not follow, by a process that maps none of the files named alike: at most a bounded number of names per call', () => {
    const calls = 4000;
    const { steps, warnings } = run(calls, () => 'seg', true);
    expect(steps).toBeLessThanOrEqual(1100 * calls);
    // Nothing is mapped in the caller: no guess to make.
    expect(warnings.filter((warning) => warning.includes('/seg'))).toEqual([]);
    // While they are mapped, the guess is still made: the first call names a mapped /dK/seg.
    expect(run(100, () => 'seg').warnings.some((warning) => warning.includes('/seg'))).toBe(true);
  });

  it('a true alias among them is still found: /x/d7/seg unlinked while /y/d7/seg is mapped', () => {
    const { warnings } = run(3000, (k) => (k === 2999 ? '/x/d7/seg' : `/q${k}/seg`));
    // /x/d7/seg and /d7/seg end in the same directory and last component.
    expect(warnings.filter((warning) => warning.includes('/x/d7/seg') && warning.includes('/d7/seg'))).toHaveLength(1);
  });
});

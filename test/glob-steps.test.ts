// --path GLOB runs as an NFA (src/report/glob.ts, issue #11 item 12): its work
// grows with the stars in the pattern times the characters in the name, never
// with the ways to split a name among the stars. test/safety-report-glob.test.ts
// guards the answers with a timeout; this counts the work. The NFA reads one
// token per live position per character, so the count is the tokens it reads
// (a matcher that backtracks reads them once per split it tries). Counted,
// not timed: twice the stars or twice the name must cost at most 2.2 times
// the reads, on any machine.
import { describe, expect, it } from 'vitest';
import { globTokens, matchTokens, type GlobToken } from '../src/report/glob.js';

/** matchTokens on the pattern's tokens, counting every read of one of them. */
function match(pattern: string, name: string): { matches: boolean; reads: number } {
  let reads = 0;
  const tokens = new Proxy(globTokens(pattern), {
    get(target, key, receiver): unknown {
      if (typeof key === 'string' && key !== 'length' && Number.isInteger(Number(key))) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  }) as GlobToken[];
  const matches = matchTokens(tokens, name);
  return { matches, reads };
}

describe('glob matching reads tokens linearly in the stars and in the name', () => {
  it("twice the stars of *a*a…*c against 1,000 a's: no match, at most 2.2 times the reads", () => {
    const name = 'a'.repeat(1000);
    const once = match(`${'*a'.repeat(50)}*c`, name);
    const twice = match(`${'*a'.repeat(100)}*c`, name);
    expect([once.matches, twice.matches]).toEqual([false, false]);
    // The count is live: every character keeps most positions live, each read once or twice.
    expect(once.reads).toBeGreaterThan(name.length * 50);
    expect(twice.reads / once.reads).toBeLessThanOrEqual(2.2);
  });

  it('twice the name for *-*-*.deleted: at most 2.2 times the reads, the answer unchanged', () => {
    const once = match('*-*-*.deleted', `${'x-'.repeat(2000)}.deleted`);
    const twice = match('*-*-*.deleted', `${'x-'.repeat(4000)}.deleted`);
    expect([once.matches, twice.matches]).toEqual([true, true]);
    expect(once.reads).toBeGreaterThan(4000);
    expect(twice.reads / once.reads).toBeLessThanOrEqual(2.2);
  });

  it('twice the **/ of **/a**/a…/y across 500 directories: at most 2.2 times the reads', () => {
    const path = `${'/a'.repeat(500)}/x`;
    const once = match(`${'**/a'.repeat(50)}/**/y`, path);
    const twice = match(`${'**/a'.repeat(100)}/**/y`, path);
    expect([once.matches, twice.matches]).toEqual([false, false]);
    expect(once.reads).toBeGreaterThan(path.length);
    expect(twice.reads / once.reads).toBeLessThanOrEqual(2.2);
  });
});

// --path GLOB (issue #11, item 12): a pattern and a name from anyone, matched
// without backtracking. The long cases would not finish with a backtracking
// matcher (`*-*-*.deleted` against 4,000 characters took 14 s; 2,000 stars
// never end): the test timeout is the guard, the assertions are the answers.
// They run in a worker thread, because a regex that backtracks never yields
// and vitest's timeout cannot interrupt a test that holds the thread.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { globMatcher } from '../src/report/glob.js';

/**
 * The glob rules written as directly as possible: try every length for a star.
 * Exponential, so only for short inputs; independent of the code under test.
 */
function reference(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  const from = (i: number, j: number): boolean => {
    if (i === p.length) return j === s.length;
    if (p[i] === '*') {
      const crossesSlash = p[i + 1] === '*';
      const rest = crossesSlash ? i + 2 : i + 1;
      for (let k = j; k <= s.length; k++) {
        if (from(rest, k)) return true;
        if (k < s.length && s[k] === '/' && !crossesSlash) return false;
      }
      return false;
    }
    if (j === s.length) return false;
    if (p[i] === '?') return s[j] !== '/' && from(i + 1, j + 1);
    return p[i] === s[j] && from(i + 1, j + 1);
  };
  return from(0, 0);
}

/** A pattern without a slash is matched against the base name. */
function referenceOnPath(pattern: string, path: string): boolean {
  return reference(pattern, pattern.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1));
}

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

/** globMatcher(pattern)(path) for each case, computed in a worker thread running src/report/glob.ts. */
function matchInWorker(cases: readonly (readonly [pattern: string, path: string])[]): Promise<boolean[]> {
  const source = readFileSync(new URL('../src/report/glob.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const url = `data:text/javascript;base64,${Buffer.from(js).toString('base64')}`;
  const script = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(url)}).then(({ globMatcher }) => parentPort.postMessage(workerData.map(([pattern, path]) => globMatcher(pattern)(path))));`;
  worker = new Worker(script, { eval: true, workerData: cases });
  const running = worker;
  return new Promise((resolve, reject) => {
    running.once('message', resolve);
    running.once('error', reject);
  });
}

/** Each case with its answer; the answers are checked together, in one worker. */
async function expectMatches(cases: readonly (readonly [pattern: string, path: string, expected: boolean])[]): Promise<void> {
  const answers = await matchInWorker(cases.map(([pattern, path]) => [pattern, path] as const));
  expect(answers).toEqual(cases.map(([, , expected]) => expected));
}

const LONG = 60_000;

describe('--path on hostile input', () => {
  it(
    'matches *-*-*.deleted against 4,000-character names',
    async () => {
      await expectMatches([
        ['*-*-*.deleted', `/k/${'-'.repeat(4000)}`, false],
        ['*-*-*.deleted', `/k/${'-'.repeat(4000)}.deletex`, false],
        ['*-*-*.deleted', `/k/${'x-'.repeat(2000)}.deleted`, true],
        ['*-*-*.deleted', `/k/${'x'.repeat(4000)}-y.deleted`, false], // one dash only
      ]);
    },
    LONG,
  );

  it(
    'answers 2,000 stars against a 4,000-character name',
    async () => {
      const name = `${'a'.repeat(3999)}b`;
      await expectMatches([
        [`${'*a'.repeat(2000)}*c`, name, false],
        [`${'*a'.repeat(1999)}*b`, name, true],
        [`${'*a'.repeat(2000)}*b`, `${'a'.repeat(1999)}b`, false], // one a short
        ['*'.repeat(5000), name, true],
        [`${'*'.repeat(5000)}c`, name, false],
      ]);
    },
    LONG,
  );

  it(
    'answers ** across 2,000 directories',
    async () => {
      const path = `${'/a'.repeat(2000)}/x`;
      await expectMatches([
        [`${'**/a'.repeat(1000)}/**/y`, path, false],
        [`${'**/a'.repeat(1000)}/**/x`, path, true],
        [`/a/${'*/'.repeat(1999)}x`, path, true],
        [`/a/${'*/'.repeat(2000)}x`, path, false],
      ]);
    },
    LONG,
  );

  it('gives the same answers in this thread', () => {
    // The worker runs a transpiled copy; make sure the module as imported agrees on a short case.
    expect(globMatcher('*-*-*.deleted')(`/k/${'x-'.repeat(20)}.deleted`)).toBe(true);
  });
});

describe('--path semantics', () => {
  it.each([
    ['*.index.deleted', '/kafka/t-0/00000000000000000000.index.deleted', true],
    ['*.index', '/kafka/t-0/00000000000000000000.index.deleted', false],
    ['0?.index', '/k/01.index', true],
    ['0?.index', '/k/0/.index', false],
    ['/k/*/0.index', '/k/t-0/0.index', true],
    ['/k/*/0.index', '/k/a/b/0.index', false],
    ['/k/**/0.index', '/k/a/b/0.index', true],
    ['/k/**0.index', '/k/0.index', true],
    ['a+b(c)[d]{e}\\f.^$|', '/x/a+b(c)[d]{e}\\f.^$|', true],
    ['[ab]', '/x/a', false],
    ['?', '/x/\u{1f600}', true],
    ['', '/x/', true],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(globMatcher(pattern)(path)).toBe(expected);
    expect(referenceOnPath(pattern, path)).toBe(expected);
  });

  it('agrees with the reference on random short patterns and paths', () => {
    const patternChar = fc.constantFrom('a', 'b', '/', '*', '*', '?', '.', '[', ']', '\\', '(');
    const nameChar = fc.constantFrom('a', 'b', 'a', '/', '.', '[', ']', '\\', '(');
    fc.assert(
      fc.property(fc.string({ unit: patternChar, maxLength: 9 }), fc.string({ unit: nameChar, maxLength: 12 }), (pattern, path) => {
        expect(globMatcher(pattern)(path)).toBe(referenceOnPath(pattern, path));
      }),
      { numRuns: 3000 },
    );
  });
});

// The directory listing behind NameIndex.under: each name remembers the set its
// directory lists it in, and a directory's set must stay that same object while
// it lists anything. Checked against a plain scan of every name after a long
// mix of names set, set again and deleted, in directories that empty and fill.
import { describe, expect, it } from 'vitest';
import { NameIndex } from '../src/engine/name-index.js';

/** Every name under `dir/`, in the order first set, by scanning them all. */
function scanned(names: Map<string, number>, dir: string): [string, number][] {
  return [...names].filter(([name]) => name.startsWith(`${dir}/`));
}

/** What a walk under `dir` must visit, no more: each name under it, and each directory on the way to one. */
function listed(names: Map<string, number>, dir: string): number {
  const paths = new Set<string>();
  for (const name of names.keys()) {
    if (!name.startsWith(`${dir}/`)) continue;
    for (let path = name; path.length > dir.length; path = path.slice(0, path.lastIndexOf('/'))) paths.add(path);
  }
  return paths.size;
}

/** A small deterministic generator: the same mix on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('NameIndex', () => {
  it('finds the names under a directory as a scan does, while directories empty and fill again', () => {
    const index = new NameIndex<number>();
    const names = new Map<string, number>();
    const next = random(7);
    const dirs = ['/a', '/a/b', '/a/b/c', '/a/d', '/e', '', '/a/b/0'];
    const pick = () => `${dirs[Math.floor(next() * dirs.length)]}/${Math.floor(next() * 4)}`;
    for (let step = 0; step < 5000; step++) {
      const name = pick();
      if (next() < 0.45) {
        index.delete(name);
        names.delete(name);
      } else {
        index.set(name, step);
        // A name set again keeps its place in the order, as a Map's key does.
        names.set(name, step);
      }
      if (step % 50 === 0) {
        for (const dir of [...dirs, '/a/b/c/0', '/zz']) {
          const before = index.steps;
          expect(index.under(dir)).toEqual(scanned(names, dir));
          // Nothing stale is listed: a name gone, or a directory left empty, is not visited.
          expect(index.steps - before).toBe(listed(names, dir));
        }
        for (const [known, value] of names) expect(index.get(known)).toBe(value);
      }
    }
  });

  it('keeps a name that is also a directory listed until both the name and the names under it are gone', () => {
    const index = new NameIndex<string>();
    index.set('/d/x', 'file');
    index.set('/d/x/y', 'under');
    index.delete('/d/x');
    expect(index.under('/d')).toEqual([['/d/x/y', 'under']]);
    index.set('/d/x', 'again');
    index.delete('/d/x/y');
    expect(index.under('/d')).toEqual([['/d/x', 'again']]);
    index.delete('/d/x');
    expect(index.under('/d')).toEqual([]);
    index.set('/d/z', 'new');
    expect(index.under('/d')).toEqual([['/d/z', 'new']]);
  });

  it('finds the names that begin with a cut path by looking only into the directories on the way (final review: a walk of every name)', () => {
    const index = new NameIndex<number>();
    const names = new Map<string, number>();
    for (let partition = 0; partition < 1000; partition++) {
      for (let segment = 0; segment < 10; segment++) {
        const name = `/data/topic-${partition}/${String(segment).padStart(20, '0')}.index`;
        names.set(name, names.size);
        index.set(name, names.get(name)!);
      }
    }
    for (const prefix of ['/data/topic-12/0000000000000000000', '/data/topic-99', '/data/topic-4', '/data/to']) {
      index.steps = 0;
      const found = index.startingWith('/data', prefix);
      expect(found).toEqual([...names].filter(([name]) => name.startsWith(prefix)));
      // The data directory's 1,000 partitions are looked at once; only those the prefix leads into, further.
      expect(index.steps).toBeLessThanOrEqual(1000 + 10 * found.length + 10 * 11);
    }
  });
});

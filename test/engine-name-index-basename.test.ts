// NameIndex.withBaseName: the names that end with a last component, for the
// warning about a relative unlink or rename that named nothing while a file
// with that last component was mapped (Files.checkMisplaced). Built on the
// first call, then kept with the names: a name set or deleted afterwards is
// found, or no longer found, as the index's own entries say.
import { describe, expect, it } from 'vitest';
import { NameIndex } from '../src/engine/name-index.js';

const sorted = (found: Iterable<[string, number]>) => [...found].map(([name, value]) => `${name}=${value}`).sort();

describe('NameIndex.withBaseName', () => {
  it('finds every name with that last component, in any directory, relative names too, and follows sets and deletes after it was built', () => {
    const index = new NameIndex<number>();
    index.set('/d/a/c.dat', 1);
    index.set('/d/b/c.dat', 2);
    index.set('/d/c.dat.tmp', 3);
    index.set('c.dat', 4);
    expect(sorted(index.withBaseName('c.dat'))).toEqual(['/d/a/c.dat=1', '/d/b/c.dat=2', 'c.dat=4']);
    index.delete('/d/a/c.dat');
    index.set('/e/c.dat', 5);
    index.set('/d/b/c.dat', 6);
    expect(sorted(index.withBaseName('c.dat'))).toEqual(['/d/b/c.dat=6', '/e/c.dat=5', 'c.dat=4']);
    index.delete('/d/b/c.dat');
    index.delete('/e/c.dat');
    index.delete('c.dat');
    expect([...index.withBaseName('c.dat')]).toEqual([]);
    expect(sorted(index.withBaseName('c.dat.tmp'))).toEqual(['/d/c.dat.tmp=3']);
  });
});

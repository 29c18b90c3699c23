// The copies a fork gets of the mappings gone in the moments of `capture
// --pid`'s attach (AttachWindow, review 33 attack, F1). A candidate gone
// before the attach is never touched by the trace, so it is followed to the
// end: a server that forks a child per request would copy each into every
// child, and each unlink and munmap would look at them all. Past 64 forks,
// or 8,192 candidates in all, a fork gets no copy, and the note says how
// many did not; the copies made before still tell.
import { expect, it } from 'vitest';
import { AttachWindow } from '../src/engine/attach-window.js';
import type { EventBase } from '../src/parse/events.js';

const at = (line: number): EventBase => ({ place: { file: 'trace.txt', line }, time: null, seconds: null, tid: 1, raw: '' });

function window(candidates: number): AttachWindow {
  let id = 0;
  const mappings = Array.from({ length: candidates }, (_, k) => ({ start: 0x10000 * (k + 1), end: 0x10000 * (k + 1) + 0x2000, path: `/d/f${k}`, replaced: false }));
  return new AttachWindow(100, mappings, () => ++id);
}

it('the first 64 forks get copies, the rest none, and the note counts them', () => {
  const followed = window(4);
  for (let child = 1000; child < 1100; child++) followed.forked(100, child, at(child));
  // A copy in the 64th child still tells: its munmap after the name went is a doubt.
  followed.nameRemoved('/d/f0', at(2000));
  followed.unmapped(1063, 0x10000, 0x2000, at(2001));
  // The 65th has none.
  followed.unmapped(1064, 0x10000, 0x2000, at(2002));
  // The parent's own, unmapped after the name went: a doubt of its own.
  followed.unmapped(100, 0x10000, 0x2000, at(2003));
  expect(followed.inDoubt(() => false).map((doubt) => doubt.pid)).toEqual([1063, 100]);
  expect(followed.note()).toContain('36 forks of process 100 or its children, past the first 64, were not given copies');
});

it('a fork that would hold more than 8,192 candidates in all gets none', () => {
  const followed = window(4096);
  followed.forked(100, 1000, at(1));
  followed.forked(100, 1001, at(2));
  expect(followed.note()).toBe(
    '1 fork of process 100 or its children, past the first 64, was not given copies of its mappings gone between the attach and the read of maps-start.txt (maps-before.txt): what they did with such a copy is not weighed',
  );
});

// Review 33's code review, 11: an mremap of part of a candidate forgot the part left at the old place, and one with
// MREMAP_FIXED onto another candidate left both there, out of the address order drop's search needs.
it('an mremap of part of a candidate keeps the rest followed; MREMAP_FIXED onto another replaces it', () => {
  const followed = window(2);
  // f0 is 0x10000-0x12000, f1 0x20000-0x22000. The first page of f0 moves onto f1, replacing it.
  followed.moved(100, 0x10000, 0x1000, 0x20000, 0x1000, at(10), true);
  followed.nameRemoved('/d/f0', at(11));
  followed.nameRemoved('/d/f1', at(12));
  // f1 was replaced by the move (live at the attach, its name not gone then): no doubt. The page left behind and the
  // page moved are f0's, each a doubt when unmapped after its name went.
  followed.unmapped(100, 0x11000, 0x1000, at(13));
  followed.unmapped(100, 0x20000, 0x1000, at(14));
  expect(followed.inDoubt(() => false)).toEqual([
    { pid: 100, name: '/d/f0' },
    { pid: 100, name: '/d/f0' },
  ]);
  expect(followed.note()).toContain('showed the mapping still there at trace.txt:13 (and 1 more like it)');
});

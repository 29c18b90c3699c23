// The copies a fork gets of the mappings gone in the moments of `capture
// --pid`'s attach (AttachWindow, review 33 attack, F1). A candidate gone
// before the attach is never touched by the trace, so it is followed to the
// end: a server that forks a child per request would copy each into every
// child, and each unlink and munmap would look at them all. Past 64 forks,
// or 8,192 candidates in all, a fork gets no copy, and the note says how
// many did not; the copies made before still tell. Review 34 attack, F1: 64
// forks that exit at once, then a 65th that keeps a copy while its parent
// unmaps its own and unlinks the file, read as clean: a fork given no copy
// makes its parent's candidates in doubt when their names go.
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
  // First the copy the first of the 36 forks given none may hold (told once the 64th's munmap showed the mapping live at the attach).
  expect(followed.inDoubt(() => false).map((doubt) => doubt.pid)).toEqual([1064, 1063, 100]);
  expect(followed.note()).toContain('36 forks of process 100 or its children, past the first 64, were not given copies');
});

it("64 forks that exit at once, then a 65th: its parent's mapping unmapped before the unlink is in doubt", () => {
  const followed = window(1);
  for (let child = 1000; child < 1064; child++) {
    followed.forked(100, child, at(child - 900));
    followed.released(child, at(child - 800), 'exit');
  }
  followed.forked(100, 1064, at(300));
  // The parent unmaps its own (the mapping was live at the attach), then unlinks the file: the 65th may hold a copy.
  followed.unmapped(100, 0x10000, 0x2000, at(301));
  expect(followed.inDoubt(() => false)).toEqual([]);
  followed.nameRemoved('/d/f0', at(302));
  expect(followed.inDoubt(() => false)).toEqual([{ pid: 1064, name: '/d/f0' }]);
  expect(followed.note()).toBe(
    'process 1064, forked at trace.txt:300 past the first 64 forks (or 8192 mappings followed), was given no copy to follow of the mapping of /d/f0 at 0x10000 that process 100 had ' +
      'before the capture attached (maps-before.txt) and no longer when maps-start.txt was read after the attach: the trace removed its name at trace.txt:302, and that fork may hold a copy still. ' +
      'The mapping may have outlived its file (in doubt: the name may have been given to another file before the attach). A process that acts the moment a tracer attaches can do this on purpose. ' +
      '1 fork of process 100 or its children, past the first 64, was not given copies of its mappings gone between the attach and the read of maps-start.txt (maps-before.txt): what they did with such a copy is not weighed',
  );
});

// Review 34's code review, 4: each fork past the caps walked all its parent's candidates again (40,000 forks of a
// process with 4,096: 21 s more).
it("forks past the caps look at their parent's candidates once, not once each", () => {
  const followed = window(4096);
  // The first fork's copies bring the candidates to 8,192: the next gets none, and looks at the 4,096 once.
  followed.forked(100, 1000, at(1));
  expect(followed.unfollowedSteps).toBe(0);
  followed.forked(100, 1001, at(2));
  expect(followed.unfollowedSteps).toBe(4096);
  for (let child = 2000; child < 3000; child++) followed.forked(100, child, at(child));
  expect(followed.unfollowedSteps).toBe(4096);
  expect(followed.note()).toContain('1001 forks of process 100 or its children, past the first 64, were not given copies');
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

// The exactness review of 2026-12 (items 1, 4 and 5) on small hand-written
// traces: what each rule does, and the spellings it must not mistake for
// another file. test/review-exactness.test.ts runs the same cases on real
// programs against /proc.
import { describe, expect, it } from 'vitest';
import { Engine, type SeedFd, type SeedMapping } from '../src/engine/engine.js';
import type { Finding } from '../src/engine/findings.js';
import { readStrace, runEngine, trace } from './helpers.js';

const PAGE = 4096;

/** The engine's notes about fds (the others say how threads were taken). */
function fdNotes(engine: Engine): string[] {
  return engine.assumptions().filter((note) => /annotation|open, close or dup/.test(note));
}

function orphans(engine: Engine): { pid: number; path: string; address: string; length: number; ranges?: { address: string; length: number }[] }[] {
  return engine
    .findings()
    .filter((finding: Finding) => finding.kind === 'unlinked-while-mapped')
    .map(({ pid, path, address, length, ranges }) => (ranges === undefined ? { pid, path, address, length } : { pid, path, address, length, ranges }));
}

describe('item 1: the -y annotation of an fd against the fd table the trace showed', () => {
  it("an fd bound from an annotation is rebound when a later annotation names another file (the review's fdreuse.txt)", () => {
    const { engine } = runEngine(trace`
      11666 1796201080.969985 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3</tmp/review/d5/pre1.map>, 0) = 0x7fedfc797000
      11666 1796201080.970224 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3</tmp/review/d5/other.map>, 0) = 0x7fedfc5e3000
      11666 1796201081.571857 unlink("/tmp/review/d5/pre1.map") = 0
    `);
    expect(orphans(engine)).toEqual([{ pid: 11666, path: '/tmp/review/d5/pre1.map', address: '0x7fedfc797000', length: 8192 }]);
    const notes = engine.assumptions().join('\n');
    expect(notes).toContain('fd 3 of process 11666 was /tmp/review/d5/pre1.map as far as the trace showed, but its -y annotation at trace.txt:2 names /tmp/review/d5/other.map');
    expect(notes).toContain('but shows no open, close or dup');
  });

  it('an fd an open bound is rebound when its annotation names a file the engine knows as another (a dup2 filtered out)', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/C.map", O_RDWR|O_CREAT, 0644) = 3</d/C.map>
      100 1796200000.000002 openat(AT_FDCWD</d>, "/d/D.map", O_RDWR|O_CREAT, 0644) = 4</d/D.map>
      100 1796200000.000003 mmap(NULL, 12288, PROT_READ, MAP_SHARED, 3</d/D.map>, 0) = 0x7f0000000000
      100 1796200000.000004 unlink("/d/C.map") = 0
      100 1796200000.000005 unlink("/d/D.map") = 0
    `);
    expect(orphans(engine)).toEqual([{ pid: 100, path: '/d/D.map', address: '0x7f0000000000', length: 12288 }]);
    expect(engine.assumptions().join('\n')).toContain('its -y annotation at trace.txt:3 names /d/D.map');
  });

  it('an fd an open bound keeps its file when the annotation is a spelling the engine lost at a rename (a symlinked directory)', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/link/a", O_RDWR|O_CREAT, 0644) = 3</d/real/a>
      100 1796200000.000002 rename("/d/link/a", "/d/link/b") = 0
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/real/b>, 0) = 0x7f0000000000
      100 1796200000.000004 close(3</d/real/b>) = 0
      100 1796200000.000005 unlink("/d/link/b") = 0
    `);
    expect(orphans(engine)).toEqual([{ pid: 100, path: '/d/link/b', address: '0x7f0000000000', length: PAGE }]);
    expect(fdNotes(engine)).toEqual([]);
  });

  it('a file known by a name relative to a cwd the trace never showed is the one the kernel names by its absolute path', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD, "seg.index", O_RDWR|O_CREAT, 0644) = 3</srv/data/seg.index>
      100 1796200000.000002 openat(AT_FDCWD, "other.index", O_RDWR|O_CREAT, 0644) = 4</srv/data/other.index>
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</srv/data/seg.index>, 0) = 0x7f0000000000
      100 1796200000.000004 unlink("seg.index") = 0
    `);
    // Named by the kernel's path, which -y printed for the fd: the relative name says less.
    expect(orphans(engine)).toEqual([{ pid: 100, path: '/srv/data/seg.index', address: '0x7f0000000000', length: PAGE }]);
    expect(fdNotes(engine)).toEqual([]);
  });

  it.each([
    ['strace 6: "(deleted)" after the annotation', '3</d/x.map>(deleted)'],
    ['older strace: " (deleted)" inside it', '3</d/x.map (deleted)>'],
  ])('an annotation of a deleted file names the file that had that name (%s)', (_, fd) => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/x.map>, 0) = 0x7f0000000000
      100 1796200000.000002 unlink("/d/x.map") = 0
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, ${fd}, 0) = 0x7f0000010000
    `);
    expect(engine.assumptions().join('\n')).not.toContain('annotation at');
    // The second mapping is made of the file already gone: a finding of its own at the same unlink (review 1, finding 4).
    expect(orphans(engine).map((finding) => finding.address)).toEqual(['0x7f0000000000', '0x7f0000010000']);
    expect(engine.findings().map((finding) => finding.unlinkedAt?.line)).toEqual([2, 2]);
  });

  it('a trace that shows its opens and closes gets no warning about them', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/a.map", O_RDWR|O_CREAT, 0644) = 3</d/a.map>
      100 1796200000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/a.map>, 0) = 0x7f0000000000
      100 1796200000.000003 close(3</d/a.map>) = 0
    `);
    expect(fdNotes(engine)).toEqual([]);
  });
});

describe('item 5: a mapping of a deleted file decided after its last piece went shows the pieces it held', () => {
  it("a forked child's inherited finding has the pieces partial munmaps left (the review's forkpieces.txt)", () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 execve("/bin/prog", ["prog"], 0x7ffd /* 1 var */) = 0
      100 1796200000.000002 openat(AT_FDCWD, "/d/C.map", O_RDWR|O_CREAT, 0644) = 3</d/C.map>
      100 1796200000.000003 mmap(NULL, 12288, PROT_READ|PROT_WRITE, MAP_SHARED, 3</d/C.map>, 0) = 0x7f0000000000
      100 1796200000.000004 close(3</d/C.map>) = 0
      100 1796200000.000005 munmap(0x7f0000001000, 4096) = 0
      100 1796200000.000006 unlink("/d/C.map") = 0
      100 1796200000.000007 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
      101 1796200000.000008 +++ exited with 0 +++
      100 1796200000.000009 +++ exited with 0 +++
    `);
    const pieces = [
      { address: '0x7f0000000000', length: PAGE },
      { address: '0x7f0000002000', length: PAGE },
    ];
    expect(orphans(engine)).toEqual([
      { pid: 100, path: '/d/C.map', address: '0x7f0000000000', length: 2 * PAGE, ranges: pieces },
      { pid: 101, path: '/d/C.map', address: '0x7f0000000000', length: 2 * PAGE, ranges: pieces },
    ]);
  });

  it('a child that cuts its inherited mapping further and unmaps the rest shows what it held before that last munmap', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 execve("/bin/prog", ["prog"], 0x7ffd /* 1 var */) = 0
      100 1796200000.000002 openat(AT_FDCWD, "/d/C.map", O_RDWR|O_CREAT, 0644) = 3</d/C.map>
      100 1796200000.000003 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_SHARED, 3</d/C.map>, 0) = 0x7f0000000000
      100 1796200000.000004 unlink("/d/C.map") = 0
      100 1796200000.000005 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
      101 1796200000.000006 munmap(0x7f0000000000, 4096) = 0
      101 1796200000.000007 munmap(0x7f0000001000, 12288) = 0
      101 1796200000.000008 +++ exited with 0 +++
    `);
    expect(orphans(engine).find((finding) => finding.pid === 101)).toEqual({
      pid: 101,
      path: '/d/C.map',
      address: '0x7f0000001000',
      length: 3 * PAGE,
      ranges: [{ address: '0x7f0000001000', length: 3 * PAGE }],
    });
  });

  it('a deleted mapping of maps-start.txt, cut by a munmap and released at exit, shows the pieces left', () => {
    const engine = new Engine({ rootPid: 200 });
    const seed: SeedMapping = {
      start: 0x7f0000000000,
      end: 0x7f0000003000,
      offset: 0,
      path: '/d/snap.map',
      deleted: true,
      place: { file: 'maps-start.txt', line: 1 },
      text: '7f0000000000-7f0000003000 rw-s 00000000 fe:00 12 /d/snap.map (deleted)',
    };
    engine.seedMappings(200, [seed]);
    const { events } = readStrace(trace`
      200 1796200000.000001 munmap(0x7f0000001000, 4096) = 0
      200 1796200000.000002 +++ exited with 0 +++
    `);
    for (const event of events) engine.apply(event);
    engine.finish();
    expect(orphans(engine)).toEqual([
      {
        pid: 200,
        path: '/d/snap.map',
        address: '0x7f0000000000',
        length: 2 * PAGE,
        ranges: [
          { address: '0x7f0000000000', length: PAGE },
          { address: '0x7f0000002000', length: PAGE },
        ],
      },
    ]);
  });
});

describe('item 4: the fds open when an attached capture began (fds-start.txt)', () => {
  function seeded(fds: SeedFd[], text: string): Engine {
    const engine = new Engine({ rootPid: 300 });
    engine.seedFds(300, fds);
    for (const event of readStrace(text).events) engine.apply(event);
    engine.finish();
    return engine;
  }
  const fd = (n: number, path: string, deleted = false): SeedFd => ({ fd: n, path, deleted, place: { file: 'fds-start.txt', line: n + 1 }, text: `${n}\t${path}` });

  it('an fd opened before the attach, mapped through its number alone and unlinked, is a finding on its file', () => {
    const engine = seeded(
      [fd(3, '/d/prefd.map'), fd(4, '/d/other.map')],
      trace`
        300 1796200000.000001 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
        300 1796200000.000002 unlink("/d/prefd.map") = 0
      `,
    );
    expect(orphans(engine)).toEqual([{ pid: 300, path: '/d/prefd.map', address: '0x7f0000000000', length: 2 * PAGE }]);
    expect(engine.evidenceOf(engine.findings()[0]!).map((line) => `${line.file}:${line.line}`)).toEqual(['fds-start.txt:4', 'trace.txt:1', 'trace.txt:2']);
  });

  it('the trace decides after the snapshot: a close and an open of the number rebind it', () => {
    const engine = seeded(
      [fd(3, '/d/prefd.map')],
      trace`
        300 1796200000.000001 close(3) = 0
        300 1796200000.000002 openat(AT_FDCWD, "/d/new.map", O_RDWR) = 3
        300 1796200000.000003 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
        300 1796200000.000004 unlink("/d/prefd.map") = 0
        300 1796200000.000005 close(3) = 0
        300 1796200000.000006 unlink("/d/new.map") = 0
      `,
    );
    expect(orphans(engine).map((finding) => finding.path)).toEqual(['/d/new.map']);
  });

  it('an fd of a file deleted before the attach is not taken for a file created later with its name', () => {
    const engine = seeded(
      [fd(3, '/d/gone.map', true)],
      trace`
        300 1796200000.000001 openat(AT_FDCWD, "/d/gone.map", O_RDWR|O_CREAT, 0644) = 4
        300 1796200000.000002 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 4, 0) = 0x7f0000000000
        300 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000010000
        300 1796200000.000004 unlink("/d/gone.map") = 0
      `,
    );
    // fd 3's mapping is of the file gone before the attach (review 1, finding 4), not of the one unlinked at line 4.
    expect(engine.findings().map((finding) => [finding.address, finding.unlinkedAt?.line ?? null])).toEqual([
      ['0x7f0000010000', null],
      ['0x7f0000000000', 4],
    ]);
  });
});

// Review 1 of 2026-12, findings 2 to 5, on small hand-written traces: what each
// rule does and the cases it must leave alone. test/engine-review2-real.test.ts
// runs them on a real program against its /proc.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import { runEngine, trace } from './helpers.js';

function orphans(engine: Engine): { address: string; path: string; unlinked: number | null }[] {
  return engine
    .findings()
    .filter((finding) => finding.kind === 'unlinked-while-mapped')
    .map((finding) => ({ address: finding.address, path: finding.path, unlinked: finding.unlinkedAt?.line ?? null }));
}

const rebindings = (engine: Engine): string =>
  engine
    .assumptions()
    .filter((note) => /annotation at/.test(note))
    .join('\n');

describe('finding 2: a trace that shows closes but no dup', () => {
  it('an annotation naming another known file wins over the table (a dup2 filtered out), and is said', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/A", O_RDWR|O_CREAT, 0644) = 3</d/A>
      100 1796200000.000002 close(3</d/A>) = 0
      100 1796200000.000003 openat(AT_FDCWD</d>, "/d/C", O_RDWR|O_CREAT, 0644) = 3</d/C>
      100 1796200000.000004 openat(AT_FDCWD</d>, "/d/B", O_RDWR|O_CREAT, 0644) = 4</d/B>
      100 1796200000.000005 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</d/B>, 0) = 0x7f0000000000
      100 1796200000.000006 close(3</d/B>) = 0
      100 1796200000.000007 unlink("/d/C") = 0
      100 1796200000.000008 unlink("/d/B") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/B', unlinked: 8 }]);
    expect(rebindings(engine)).toContain('fd 3 of process 100 was /d/C as far as the trace showed, but its -y annotation at trace.txt:5 names /d/B');
  });

  it('once the trace has shown a dup, the table it showed wins', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/C", O_RDWR|O_CREAT, 0644) = 3</d/C>
      100 1796200000.000002 openat(AT_FDCWD</d>, "/d/B", O_RDWR|O_CREAT, 0644) = 4</d/B>
      100 1796200000.000003 dup(4</d/B>) = 5</d/B>
      100 1796200000.000004 close(5</d/B>) = 0
      100 1796200000.000005 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</d/B>, 0) = 0x7f0000000000
      100 1796200000.000006 unlink("/d/C") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/C', unlinked: 6 }]);
    expect(rebindings(engine)).toBe('');
  });

  it('a rename through a symlinked directory replaces the file of that name in the real directory too: the annotation then names the file the fd holds', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/real/y", O_RDWR|O_CREAT, 0644) = 4</d/real/y>
      100 1796200000.000002 openat(AT_FDCWD</d>, "/d/link/x", O_RDWR|O_CREAT, 0644) = 3</d/real/x>
      100 1796200000.000003 close(5</etc/passwd>) = 0
      100 1796200000.000004 rename("/d/link/x", "/d/link/y") = 0
      100 1796200000.000005 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</d/real/y>, 0) = 0x7f0000000000
      100 1796200000.000006 close(3</d/real/y>) = 0
      100 1796200000.000007 unlink("/d/link/y") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/link/y', unlinked: 7 }]);
    expect(rebindings(engine)).toBe('');
  });

  it('an annotation that spells a name of a file reached through a symlinked directory in another directory, where the engine knows another file by it: the table is kept, and that guess is said (review 3, finding D)', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/link/x", O_RDWR|O_CREAT, 0644) = 3</d/real/x>
      100 1796200000.000002 openat(AT_FDCWD</d>, "/e/x", O_RDWR|O_CREAT, 0644) = 4</e/x>
      100 1796200000.000003 close(5</etc/passwd>) = 0
      100 1796200000.000004 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</e/x>, 0) = 0x7f0000000000
      100 1796200000.000005 unlink("/d/link/x") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/link/x', unlinked: 5 }]);
    expect(rebindings(engine)).toBe(
      'fd 3 of process 100 is /d/link/x as far as the trace showed, but its -y annotation at trace.txt:4 names /e/x, another file the trace knows: ' +
        'kept /d/link/x because the annotation ends with its base name and the trace reached it through a symlinked directory (another spelling of it?), ' +
        'and the trace shows closes but no dup. If a dup2 or dup3 left out with -e trace=… put /e/x on that fd, the findings of both files are wrong: ' +
        'capture without -e trace=, or with orphanmap capture',
    );
  });

  it('review 3, finding D: two files of one base name in two directories, neither reached through a symlink: the annotation wins, and is said', () => {
    // /tmp/review3/p closedup under strace -e trace=openat,close,mmap,munmap,unlink,ftruncate: dup2(4, 3) out of sight.
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</w>, "/w/d1/x.index", O_RDWR|O_CREAT, 0644) = 3</w/d1/x.index>
      100 1796200000.000002 openat(AT_FDCWD</w>, "/w/d2/x.index", O_RDWR|O_CREAT, 0644) = 4</w/d2/x.index>
      100 1796200000.000003 openat(AT_FDCWD</w>, "/dev/null", O_RDONLY) = 5</dev/null>
      100 1796200000.000004 close(5</dev/null>) = 0
      100 1796200000.000005 mmap(NULL, 65536, PROT_READ, MAP_SHARED, 3</w/d2/x.index>, 0) = 0x7f0000000000
      100 1796200000.000006 close(3</w/d2/x.index>) = 0
      100 1796200000.000007 close(4</w/d2/x.index>) = 0
      100 1796200000.000008 unlink("/w/d2/x.index") = 0
      100 1796200000.000009 unlink("/w/d1/x.index") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/w/d2/x.index', unlinked: 8 }]);
    expect(rebindings(engine)).toBe(
      'fd 3 of process 100 was /w/d1/x.index as far as the trace showed, but its -y annotation at trace.txt:5 names /w/d2/x.index: ' +
        'the trace does not show every open, close or dup of its fds (filtered out with -e trace=…?), so each such fd was taken for the file its annotation names',
    );
  });
});

describe('finding 3: a "(deleted)" annotation never names the file that has that name now', () => {
  it('with no open in the trace: a file gone before it, not the new file of that name', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 unlink("/d/A") = 0
      100 1796200000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/A>(deleted), 0) = 0x7f0000000000
      100 1796200000.000003 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 4</d/A>, 0) = 0x7f0000010000
      100 1796200000.000004 munmap(0x7f0000010000, 8192) = 0
      100 1796200000.000005 unlink("/d/A") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/A', unlinked: null }]);
  });

  it('with the opens in the trace: the file that last had the name, held by the fd', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/A", O_RDWR|O_CREAT, 0644) = 3</d/A>
      100 1796200000.000002 unlink("/d/A") = 0
      100 1796200000.000003 openat(AT_FDCWD</d>, "/d/A", O_RDWR|O_CREAT, 0644) = 4</d/A>
      100 1796200000.000004 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/A>(deleted), 0) = 0x7f0000000000
      100 1796200000.000005 dup2(3</d/A>(deleted), 7) = 7</d/A>(deleted)
      100 1796200000.000006 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 7</d/A>(deleted), 0) = 0x7f0000010000
      100 1796200000.000007 unlink("/d/A") = 0
    `);
    expect(orphans(engine)).toEqual([
      { address: '0x7f0000000000', path: '/d/A', unlinked: 2 },
      { address: '0x7f0000010000', path: '/d/A', unlinked: 2 },
    ]);
    expect(rebindings(engine)).toBe('');
  });

  it("an fd the table binds to the name's current file is rebound to a gone one, and that is said", () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/A>, 0) = 0x7f0000000000
      100 1796200000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/A>(deleted), 0) = 0x7f0000010000
      100 1796200000.000003 unlink("/d/A") = 0
    `);
    expect(orphans(engine)).toEqual([
      { address: '0x7f0000010000', path: '/d/A', unlinked: null },
      { address: '0x7f0000000000', path: '/d/A', unlinked: 3 },
    ]);
    expect(rebindings(engine)).toContain('its -y annotation at trace.txt:2 names /d/A (deleted)');
  });

  it.each(['3</memfd:buf>(deleted)', '3</memfd:buf (deleted)>', '3</dev/zero>(deleted)'])('%s never had a name: no finding', (fd) => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 mmap(NULL, 4096, PROT_READ, MAP_SHARED, ${fd}, 0) = 0x7f0000000000
    `);
    expect(orphans(engine)).toEqual([]);
  });
});

describe('finding 4: a mapping of a file whose last name was already gone', () => {
  it('is a benign unlinked-while-mapped finding decided at the mmap, with a note, resolved at its munmap (review 3, finding E)', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/A", O_RDWR|O_CREAT, 0644) = 3</d/A>
      100 1796200000.000002 unlink("/d/A") = 0
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/A>(deleted), 0) = 0x7f0000000000
      100 1796200000.000004 close(3</d/A>(deleted)) = 0
      100 1796200000.000005 munmap(0x7f0000000000, 4096) = 0
    `);
    const [finding] = engine.findings();
    expect(engine.findings()).toHaveLength(1);
    // The delay runs from the mapping (line 3), not from the unlink before it.
    expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', severity: 'info', benign: 'mapped with no name left', path: '/d/A', resolution: 'unmapped', delayMs: 0.002 });
    expect([finding!.mappedAt?.line, finding!.unlinkedAt?.line, finding!.resolvedAt?.line]).toEqual([3, 2, 5]);
    expect(finding!.note).toMatch(/^Mapped after its last name was unlinked \(through an fd kept open\)\. The idiom for shared memory .* no unlink left it behind\. Benign; not a leak\.$/);
  });

  it('a file that still has a name (a hard link) is no finding', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d/A", O_RDWR|O_CREAT, 0644) = 3</d/A>
      100 1796200000.000002 link("/d/A", "/d/A2") = 0
      100 1796200000.000003 unlink("/d/A") = 0
      100 1796200000.000004 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/A>(deleted), 0) = 0x7f0000000000
    `);
    expect(orphans(engine)).toEqual([]);
  });
});

describe('finding 5: a link that names its file by an fd', () => {
  it.each([
    ['/proc/self/fd/3', 'linkat(AT_FDCWD</d>, "/proc/self/fd/3", AT_FDCWD</d>, "/d/T", AT_SYMLINK_FOLLOW) = 0'],
    ['/proc/thread-self/fd/3', 'linkat(AT_FDCWD</d>, "/proc/thread-self/fd/3", AT_FDCWD</d>, "/d/T", AT_SYMLINK_FOLLOW) = 0'],
    ['/proc/PID/fd/3', 'linkat(AT_FDCWD</d>, "/proc/100/fd/3", AT_FDCWD</d>, "/d/T", AT_SYMLINK_FOLLOW) = 0'],
    ['AT_EMPTY_PATH', 'linkat(3</d/#4242>(deleted), "", AT_FDCWD</d>, "/d/T", AT_EMPTY_PATH) = 0'],
  ])('an O_TMPFILE file named by %s, mapped, its name unlinked', (_, link) => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</d>, "/d", O_RDWR|O_TMPFILE, 0644) = 3</d/#4242>(deleted)
      100 1796200000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/#4242>(deleted), 0) = 0x7f0000000000
      100 1796200000.000003 ${link}
      100 1796200000.000004 unlink("/d/T") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/T', unlinked: 4 }]);
  });

  it("the same with the open out of sight (-e trace= without openat): the annotation's DIR/#INODE is no name", () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/#4242>(deleted), 0) = 0x7f0000000000
      100 1796200000.000002 linkat(AT_FDCWD</d>, "/proc/self/fd/3", AT_FDCWD</d>, "/d/T", AT_SYMLINK_FOLLOW) = 0
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/#4242>(deleted), 0) = 0x7f0000010000
      100 1796200000.000004 unlink("/d/T") = 0
    `);
    expect(orphans(engine)).toEqual([
      { address: '0x7f0000000000', path: '/d/T', unlinked: 4 },
      { address: '0x7f0000010000', path: '/d/T', unlinked: 4 },
    ]);
  });

  it('an O_TMPFILE file never linked is a benign finding (review 3, finding E), and its directory keeps its own file', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</>, "/d", O_RDONLY|O_DIRECTORY) = 5</d>
      100 1796200000.000002 openat(AT_FDCWD</d>, "/d", O_RDWR|O_TMPFILE, 0644) = 3</d/#4242>(deleted)
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/#4242>(deleted), 0) = 0x7f0000000000
      100 1796200000.000004 linkat(5</d>, "x", AT_FDCWD</d>, "/d/T", 0) = 0
      100 1796200000.000005 unlink("/d/T") = 0
    `);
    expect(orphans(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/#4242', unlinked: null }]);
    expect(engine.findings()[0]).toMatchObject({ severity: 'info', benign: 'mapped with no name left' });
  });
});

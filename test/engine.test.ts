import { describe, expect, it } from 'vitest';
import { benignRuleFor } from '../src/engine/benign.js';
import { Engine } from '../src/engine/engine.js';
import { readStrace, runEngine, trace } from './helpers.js';

// The pre-fix Kafka index life cycle (docs/kafka-index-lifecycle.md), in
// the shape JDK 17 prints under strace -f -ttt.
const LEAKY = trace`
  5958 1795544190.000001 openat(AT_FDCWD, "/kafka-logs/t-0/00000000000000000000.index", O_RDWR|O_CREAT, 0666) = 41
  5958 1795544190.000002 ftruncate(41, 10485760) = 0
  5958 1795544190.000003 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 41, 0) = 0x7f9912200000
  5958 1795544190.000004 close(41) = 0
  5958 1795544191.000000 openat(AT_FDCWD, "/kafka-logs/t-0/00000000000000000000.index", O_RDWR|O_CREAT, 0666) = 41
  5958 1795544191.000001 ftruncate(41, 24) = 0
  5958 1795544191.000002 mmap(NULL, 24, PROT_READ|PROT_WRITE, MAP_SHARED, 41, 0) = 0x7f99c6a29000
  5958 1795544191.000003 close(41) = 0
  5959 1795544192.000000 rename("/kafka-logs/t-0/00000000000000000000.index", "/kafka-logs/t-0/00000000000000000000.index.deleted") = 0
  5959 1795544252.000000 munmap(0x7f99c6a29000, 24) = 0
  5959 1795544252.000100 unlink("/kafka-logs/t-0/00000000000000000000.index.deleted") = 0
`;

describe('engine: the resize signature and the orphan', () => {
  it('flags the old mapping when the file is mapped again after ftruncate', () => {
    const { engine } = runEngine(LEAKY);
    const remap = engine.findings().find((f) => f.kind === 'remapped-without-unmap');
    expect(remap).toMatchObject({
      address: '0x7f9912200000',
      length: 10485760,
      newAddress: '0x7f99c6a29000',
      severity: 'warning',
      mappedAt: { line: 3, tid: 5958 },
      remappedAt: { line: 7 },
      unlinkedAt: { line: 11 },
    });
  });

  it('flags every mapping still live when the last name is unlinked, with its names', () => {
    const { engine } = runEngine(LEAKY);
    const orphans = engine.findings().filter((f) => f.kind === 'unlinked-while-mapped');
    expect(orphans).toHaveLength(1);
    expect(orphans[0]).toMatchObject({
      pid: 5958,
      address: '0x7f9912200000',
      length: 10485760,
      severity: 'error',
      path: '/kafka-logs/t-0/00000000000000000000.index.deleted',
      names: ['/kafka-logs/t-0/00000000000000000000.index', '/kafka-logs/t-0/00000000000000000000.index.deleted'],
      unlinkedAt: { line: 11, tid: 5959, time: '1795544252.000100' },
      resolution: 'still-mapped',
    });
  });

  it('resolves the orphan as unmapped with the delay when a GC unmaps it later', () => {
    const { engine } = runEngine(`${LEAKY}\n5960 1795544262.000100 munmap(0x7f9912200000, 10485760) = 0`);
    const orphan = engine.findings().find((f) => f.kind === 'unlinked-while-mapped')!;
    expect(orphan.resolution).toBe('unmapped');
    expect(orphan.resolvedAt).toMatchObject({ line: 12, tid: 5960 });
    expect(orphan.delayMs).toBeCloseTo(10_000, 3);
  });

  it('reports nothing when the old mapping is unmapped before the remap (the fix)', () => {
    const fixed = LEAKY.replace('5958 1795544191.000002 mmap', '5958 1795544191.000001 munmap(0x7f9912200000, 10485760) = 0\n5958 1795544191.000002 mmap');
    expect(runEngine(fixed).engine.findings()).toEqual([]);
  });

  it('resolves findings as process-exited when the process ends', () => {
    const { engine } = runEngine(`${LEAKY}\n5959 +++ exited with 0 +++\n5958 +++ exited with 0 +++`);
    expect(engine.findings().every((f) => f.resolution === 'process-exited')).toBe(true);
  });
});

describe('engine: file identity', () => {
  it('follows a file, not a name: unlinking one of two hard links orphans nothing', () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 link("/d/a", "/d/b") = 0
      1 unlink("/d/a") = 0
    `);
    expect(engine.findings()).toEqual([]);
  });

  it('a rename over a mapped file unlinks it', () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 openat(AT_FDCWD, "/d/b", O_RDWR|O_CREAT, 0644) = 4
      1 rename("/d/b", "/d/a") = 0
    `);
    expect(engine.findings()).toMatchObject([{ kind: 'unlinked-while-mapped', path: '/d/a', address: '0x10000' }]);
  });

  it('RENAME_EXCHANGE swaps names without unlinking', () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 openat(AT_FDCWD, "/d/b", O_RDWR|O_CREAT, 0644) = 4
      1 renameat2(AT_FDCWD, "/d/a", AT_FDCWD, "/d/b", RENAME_EXCHANGE) = 0
      1 unlink("/d/a") = 0
    `);
    expect(engine.findings()).toEqual([]);
  });

  it('resolves relative paths against dirfds and the cwd', () => {
    const { engine } = runEngine(trace`
      1 chdir("/data") = 0
      1 openat(AT_FDCWD, "x.index", O_RDWR) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 openat(AT_FDCWD, "/data", O_RDONLY|O_DIRECTORY) = 4
      1 unlinkat(4, "x.index", 0) = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/data/x.index' }]);
  });

  it('failed calls change nothing', () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 unlink("/d/a") = -1 EACCES (Permission denied)
    `);
    expect(engine.findings()).toEqual([]);
  });
});

describe('engine: address spaces', () => {
  const MAPPED = trace`
    1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
    1 mmap(NULL, 16384, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
  `;

  it('a partial munmap splits the mapping; the finding resolves when the last piece goes', () => {
    const { engine } = runEngine(`${MAPPED}\n1 munmap(0x11000, 4096) = 0\n1 unlink("/d/a") = 0\n1 munmap(0x10000, 4096) = 0`);
    expect(engine.findings()).toMatchObject([{ kind: 'unlinked-while-mapped', resolution: 'still-mapped' }]);
    const all = runEngine(`${MAPPED}\n1 munmap(0x11000, 4096) = 0\n1 unlink("/d/a") = 0\n1 munmap(0x10000, 4096) = 0\n1 munmap(0x12000, 8192) = 0`);
    expect(all.engine.findings()).toMatchObject([{ resolution: 'unmapped' }]);
  });

  it('one munmap can release several mappings', () => {
    const { engine } = runEngine(`${MAPPED}\n1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x14000\n1 unlink("/d/a") = 0\n1 munmap(0x10000, 20480) = 0`);
    expect(engine.findings().map((f) => f.resolution)).toEqual(['unmapped', 'unmapped']);
  });

  it('MAP_FIXED replaces what it overlaps', () => {
    const { engine } = runEngine(`${MAPPED}\n1 unlink("/d/a") = 0\n1 mmap(0x10000, 16384, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x10000`);
    expect(engine.findings()).toMatchObject([{ resolution: 'unmapped' }]);
  });

  it('mremap moves a mapping and its finding follows it', () => {
    const { engine } = runEngine(`${MAPPED}\n1 mremap(0x10000, 16384, 32768, MREMAP_MAYMOVE) = 0x40000\n1 unlink("/d/a") = 0\n1 munmap(0x10000, 16384) = 0`);
    expect(engine.findings()).toMatchObject([{ address: '0x40000', length: 32768, resolution: 'still-mapped' }]);
    const moved = runEngine(`${MAPPED}\n1 mremap(0x10000, 16384, 32768, MREMAP_MAYMOVE) = 0x40000\n1 unlink("/d/a") = 0\n1 munmap(0x40000, 32768) = 0`);
    expect(moved.engine.findings()).toMatchObject([{ resolution: 'unmapped' }]);
  });

  it('threads share the address space; a forked child gets a copy, and execve empties it', () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 2
      1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 3
      3 execve("/bin/true", ["true"], 0x7ffd /* 35 vars */) = 0
      2 unlink("/d/a") = 0
    `);
    // One finding: the parent's mapping. The child's copy went with its execve.
    expect(engine.findings()).toMatchObject([{ pid: 1, address: '0x10000' }]);
  });

  it('places a child whose calls are printed before its clone returns', () => {
    const { engine } = runEngine(trace`
      1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f <unfinished ...>
      7 openat(AT_FDCWD, "/d/child", O_RDWR|O_CREAT, 0644) = 5
      7 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x20000
      7 unlink("/d/child") = 0
      1 <... clone resumed>) = 7
      7 exit_group(3) = ?
      7 +++ exited with 3 +++
    `);
    expect(engine.findings()).toMatchObject([{ pid: 7, resolution: 'process-exited' }]);
  });

  it("a close still unfinished on one thread frees the fd for another thread's open", () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
      1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM}, 88) = 2
      1 close(3 <unfinished ...>
      2 openat(AT_FDCWD, "/d/b", O_RDWR) = 3
      1 <... close resumed>) = 0
      2 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      2 unlink("/d/b") = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/d/b' }]);
  });

  it('a close printed after the open that reused its number (merged -ff, entry times) closes the old file', () => {
    const { engine } = runEngine(
      trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 4
      2 openat(AT_FDCWD, "/d/b", O_RDWR) = 4
      1 close(4) = 0
      2 ftruncate(4, 100) = 0
      2 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0) = 0x10000
      2 unlink("/d/b") = 0
    `,
      {
        threadGroups: new Map([
          [1, 1],
          [2, 1],
        ]),
      },
    );
    expect(engine.findings()).toMatchObject([{ path: '/d/b' }]);
  });

  it('merged -ff input: a munmap printed after the mmap that reused its range removes the old mapping, not the new', () => {
    const { engine } = runEngine(
      trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      2 openat(AT_FDCWD, "/d/b", O_RDWR) = 4
      2 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0) = 0x10000
      1 munmap(0x10000, 4096) = 0
      2 unlink("/d/b") = 0
    `,
      {
        threadGroups: new Map([
          [1, 1],
          [2, 1],
        ]),
        entryOrdered: true,
      },
    );
    expect(engine.findings()).toMatchObject([{ path: '/d/b', resolution: 'still-mapped' }]);
  });

  it('dup, dup2 and fcntl(F_DUPFD) alias the same file', () => {
    const { engine } = runEngine(trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
      1 dup2(3, 50) = 50
      1 fcntl(50, F_DUPFD_CLOEXEC, 60) = 60
      1 close(3) = 0
      1 close(50) = 0
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 60, 0) = 0x10000
      1 unlink("/d/a") = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/d/a' }]);
  });
});

describe('engine: the JVM hsperfdata file', () => {
  it('is reported for what it is: benign, severity info', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/tmp/hsperfdata_root/100", O_RDWR|O_CREAT|O_NOFOLLOW, 0600) = 4
      100 ftruncate(4, 32768) = 0
      100 mmap(NULL, 32768, PROT_READ|PROT_WRITE, MAP_SHARED, 4, 0) = 0x7f0000000000
      100 close(4) = 0
      100 unlink("/tmp/hsperfdata_root/100") = 0
      100 +++ exited with 0 +++
    `);
    expect(engine.findings()).toMatchObject([{ severity: 'info', resolution: 'process-exited' }]);
    expect(engine.findings()[0]!.note).toBe(benignRuleFor('/tmp/hsperfdata_root/100')!.note);
  });
});

// Regressions found in review: each input is the smallest trace that showed the bug.
describe('engine: review regressions', () => {
  it('an attach trace names the process after the attached pid and a thread exit does not end it', () => {
    const { engine } = runEngine(
      trace`
      strace: Process 100 attached with 3 threads
      [pid 102] openat(AT_FDCWD, "/d/x.log", O_RDONLY) = 9
      [pid 102] close(9) = 0
      [pid 101] openat(AT_FDCWD, "/d/0.index", O_RDWR) = 5
      [pid 101] mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000
      [pid 102] +++ exited with 0 +++
      [pid 101] unlink("/d/0.index") = 0
    `,
      {},
      true,
    );
    expect(engine.findings()).toMatchObject([{ pid: 100, resolution: 'still-mapped' }]);
  });

  it('renaming a directory renames the files in it (Kafka partition deletion)', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/k/t-0/0.index", O_RDWR) = 5
      100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000
      100 close(5) = 0
      100 rename("/k/t-0", "/k/t-0.abc-delete") = 0
      100 unlink("/k/t-0.abc-delete/0.index") = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/k/t-0.abc-delete/0.index', names: ['/k/t-0/0.index', '/k/t-0.abc-delete/0.index'] }]);
  });

  it('a file mapped by windows at other offsets as it grows is not a remap', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/db/x", O_RDWR) = 5
      100 ftruncate(5, 32768) = 0
      100 mmap(NULL, 32768, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000
      100 ftruncate(5, 65536) = 0
      100 mmap(NULL, 32768, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0x8000) = 0x7f0000100000
    `);
    expect(engine.findings()).toEqual([]);
  });

  it('a failed fork leaves no pending child to adopt', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/d/a", O_RDWR) = 5
      100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000
      100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1 <unfinished ...>
      100 <... clone resumed>) = -1 EAGAIN (Resource temporarily unavailable)
      101 munmap(0x7f0000000000, 4096) = 0
      100 unlink("/d/a") = 0
    `);
    expect(engine.findings()).toEqual([]);
  });

  it('dup of an fd opened before the trace keeps its -y name', () => {
    const { engine } = runEngine(trace`
      100 dup(6</d/0.index>) = 11</d/0.index>
      100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 11, 0) = 0x7f0000000000
      100 unlink("/d/0.index") = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/d/0.index' }]);
  });

  it('close_range with CLOSE_RANGE_UNSHARE leaves the fds of the other threads open', () => {
    const { engine } = runEngine(trace`
      100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 101
      100 openat(AT_FDCWD, "/d/a", O_RDWR) = 5
      101 close_range(3, 4294967295, CLOSE_RANGE_UNSHARE) = 0
      100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000
      100 unlink("/d/a") = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/d/a' }]);
  });

  it('a moved mapping is reported at its new address', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/d/a", O_RDWR) = 5
      100 mmap(NULL, 12288, PROT_READ, MAP_SHARED, 5, 0) = 0x7fd9996d0000
      100 mremap(0x7fd9996d0000, 12288, 24576, MREMAP_MAYMOVE) = 0x7fd9996bb000
      100 unlink("/d/a") = 0
    `);
    expect(engine.findings()).toMatchObject([{ address: '0x7fd9996bb000', length: 24576 }]);
  });

  it('in one strace stream a munmap is never taken for a late one', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/d/a", O_RDWR) = 5
      100 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0) = 0x7f0000000000
      100 openat(AT_FDCWD, "/d/b", O_RDWR) = 6
      100 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 6, 0) = 0x7f0000000000
      100 munmap(0x7f0000000000, 4096) = 0
      100 unlink("/d/b") = 0
    `);
    expect(engine.findings()).toEqual([]);
  });

  it('a close that fails with EINTR still releases the fd', () => {
    const { engine } = runEngine(trace`
      100 openat(AT_FDCWD, "/d/a", O_RDWR) = 5
      100 close(5) = -1 EINTR (Interrupted system call)
      100 openat(AT_FDCWD, "/d/b", O_RDWR) = 5
      100 close(5) = 0
      100 openat(AT_FDCWD, "/d/c", O_RDWR) = 5
      100 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0) = 0x7f0000000000
      100 unlink("/d/c") = 0
    `);
    expect(engine.findings()).toMatchObject([{ path: '/d/c' }]);
  });

  it('exit markers printed after the group ended do not make new processes', () => {
    const { engine } = runEngine(trace`
      100 execve("/bin/x", ["x"], 0x7ffd /* 1 vars */) = 0
      100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 101
      100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 102
      100 exit_group(0) = ?
      100 +++ exited with 0 +++
      101 +++ exited with 0 +++
      102 +++ exited with 0 +++
    `);
    expect(engine.stats().processes).toBe(1);
  });
});

describe('engine: bundles', () => {
  it('threads missing from the bundle metadata join the captured process and its seeded mappings', () => {
    const engine = new Engine({ rootPid: 100, threadGroups: new Map([[100, 100]]) });
    engine.seedMappings(100, [
      {
        start: 0x7f0000000000,
        end: 0x7f0000a00000,
        offset: 0,
        path: '/k/t-0/0.index',
        deleted: false,
        place: { file: 'maps-start.txt', line: 7 },
        text: '7f0000000000-7f0000a00000 rw-s 00000000 fe:00 42 /k/t-0/0.index',
      },
    ]);
    const { events } = readStrace(trace`
      105 rename("/k/t-0/0.index", "/k/t-0/0.index.deleted") = 0
      105 unlink("/k/t-0/0.index.deleted") = 0
      105 +++ exited with 0 +++
    `);
    for (const event of events) engine.apply(event);
    engine.finish();
    expect(engine.findings()).toMatchObject([{ pid: 100, address: '0x7f0000000000', mappedAt: { file: 'maps-start.txt', line: 7 }, resolution: 'still-mapped' }]);
  });
});

describe('engine: a remap of a maps-start.txt mapping early in the trace', () => {
  const SEED = {
    start: 0x7f0000000000,
    end: 0x7f0000002000,
    offset: 0,
    path: '/k/t-0/0.index',
    deleted: false,
    place: { file: 'maps-start.txt', line: 7 },
    text: '7f0000000000-7f0000002000 rw-s 00000000 fe:00 42 /k/t-0/0.index',
  };
  /** The engine's decided remaps after each event of `text`, the seed above in process 100. */
  function remapsAfterEach(text: string): string[][] {
    const engine = new Engine({ rootPid: 100, threadGroups: new Map([[100, 100]]) });
    engine.seedMappings(100, [SEED]);
    const decided: string[] = [];
    const after: string[][] = [];
    for (const event of readStrace(text).events) {
      for (const change of engine.apply(event)) if (change.type === 'decided' && change.finding.kind === 'remapped-without-unmap') decided.push(change.finding.address);
      after.push([...decided]);
    }
    for (const change of engine.finish()) if (change.type === 'decided' && change.finding.kind === 'remapped-without-unmap') decided.push(change.finding.address);
    after.push([...decided]);
    return after;
  }
  const RESIZE = trace`
    100 1795544190.000001 openat(AT_FDCWD, "/k/t-0/0.index", O_RDWR) = 41
    100 1795544190.000002 ftruncate(41, 16384) = 0
    100 1795544190.000003 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_SHARED, 41, 0) = 0x7f0000100000
  `;

  it('is held back while the snapshot may have been read after it, and decided once the trace is 5 s further on (live sees it then)', () => {
    const after = remapsAfterEach(`${RESIZE}\n100 1795544194.000000 close(41) = 0\n100 1795544195.000001 close(42) = 0\n100 1795544196.000000 close(43) = 0`);
    expect(after).toEqual([[], [], [], [], ['0x7f0000000000'], ['0x7f0000000000'], ['0x7f0000000000']]);
  });

  it("is dropped when an mmap (not MAP_FIXED) then returns the seed's range: the snapshot was read after that mmap", () => {
    const after = remapsAfterEach(`${RESIZE}\n100 1795544190.010000 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 41, 0) = 0x7f0000000000`);
    expect(after.at(-1)).toEqual([]);
  });

  it('is decided when the trace cuts the seed, showing what it held at the remap', () => {
    const engine = new Engine({ rootPid: 100, threadGroups: new Map([[100, 100]]) });
    engine.seedMappings(100, [SEED]);
    const decided = readStrace(`${RESIZE}\n100 1795544190.100000 munmap(0x7f0000001000, 4096) = 0`).events.flatMap((event) => engine.apply(event));
    expect(decided.filter((change) => change.type === 'decided').map((change) => [change.finding.kind, change.finding.address, change.finding.length])).toEqual([
      ['remapped-without-unmap', '0x7f0000000000', 8192],
    ]);
  });

  it('is decided in a quiet live trace once the reader has seen 5 s of it pass, as the next event would decide it (quietAfter)', () => {
    const engine = new Engine({ rootPid: 100, threadGroups: new Map([[100, 100]]) });
    engine.seedMappings(100, [SEED]);
    for (const event of readStrace(RESIZE).events) engine.apply(event);
    const remaps = (changes: ReturnType<Engine['quietAfter']>) => changes.filter((change) => change.type === 'decided').map((change) => change.finding.address);
    // The first event was at .000001, the doubt ends at 5.000001: 4.9 s in, still held back.
    expect(remaps(engine.quietAfter(4.9))).toEqual([]);
    expect(remaps(engine.quietAfter(5))).toEqual(['0x7f0000000000']);
    expect(remaps(engine.quietAfter(60))).toEqual([]);
  });

  it('quietAfter decides nothing of a trace with no time, nor before any event', () => {
    const untimed = new Engine({ rootPid: 100, threadGroups: new Map([[100, 100]]) });
    untimed.seedMappings(100, [SEED]);
    expect(untimed.quietAfter(60)).toEqual([]);
    for (const event of readStrace(RESIZE.replace(/ 1795544190\.\d+/g, '')).events) untimed.apply(event);
    expect(untimed.quietAfter(60)).toEqual([]);
    expect(
      untimed
        .finish()
        .filter((change) => change.type === 'decided')
        .map((change) => change.finding.address),
    ).toEqual(['0x7f0000000000']);
  });

  it('is decided when the seed is unmapped, and at the end when it is still there', () => {
    expect(remapsAfterEach(`${RESIZE}\n100 1795544190.010000 munmap(0x7f0000000000, 8192) = 0`).at(-2)).toEqual(['0x7f0000000000']);
    expect(remapsAfterEach(RESIZE).at(-1)).toEqual(['0x7f0000000000']);
  });
});

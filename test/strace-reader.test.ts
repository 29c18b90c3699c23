// StraceReader on real multi-line shapes (docs/trace-formats.md, "Line bodies"):
// joins, repairs and the lines that must not be lost or invented.
import { describe, expect, it } from 'vitest';
import { readStrace, trace } from './support/trace-text.js';

describe('StraceReader', () => {
  it('joins an unfinished call with its resume while other threads interleave', () => {
    const { events, diagnostics } = readStrace(trace`
      13725 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0 <unfinished ...>
      13724 ftruncate(7, 4096 <unfinished ...>
      13723 ftruncate(6, 4096 <unfinished ...>
      13725 <... mmap resumed>)               = 0x7f7941afe000
      13724 <... ftruncate resumed>)          = 0
    `);
    expect(events.map((e) => `${e.tid} ${e.kind}`)).toEqual(['13725 mmap', '13724 truncate']);
    expect(events[0]).toMatchObject({ address: 0x7f7941afe000, length: 4096, fd: 5, lines: [1, 4], place: { line: 1 } });
    // The third call never resumed: cut off by the end of the trace, and said so.
    expect(diagnostics).toMatchObject([{ place: { line: 3 }, reason: 'ftruncate call cut off by the end of the trace' }]);
  });

  it('repairs a line cut by "strace: Process N attached" on stderr (no -o)', () => {
    const { events, diagnostics } = readStrace(
      [
        'clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f6ffe7cf990, parent_tid=0x7f6ffe7cf990, exit_signal=0, stack=0x7f6ffdfcf000, stack_size=0x7fff80, tls=0x7f6ffe7cf6c0}strace: Process 13734 attached',
        ' => {parent_tid=[13734]}, 88) = 13734',
        '[pid 13733] vfork(strace: Process 13741 attached',
        ' <unfinished ...>',
        '[pid 13733] <... vfork resumed>)        = 13741',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(events.filter((e) => e.kind === 'clone')).toMatchObject([
      { childTid: 13734, place: { line: 1 } },
      { childTid: 13741, tid: 13733, place: { line: 3 } },
    ]);
  });

  it('moves a non-leader execve to the leader when it is superseded', () => {
    const { events } = readStrace(trace`
      14175 execve("/bin/true", ["true"], 0x7fff0e5ac830 /* 35 vars */ <unfinished ...>
      14174 <... futex resumed>)              = ?
      14174 +++ superseded by execve in pid 14175 +++
      14174 <... execve resumed>)             = 0
    `);
    expect(events.filter((e) => e.kind === 'exec')).toMatchObject([{ tid: 14174, formerTid: 14175, path: '/bin/true' }]);
  });

  it('joins the bare ") = 0" continuation of strace -z with the call before it', () => {
    const { events, diagnostics } = readStrace(trace`
      14079 close(5 <unfinished ...>
      )                                       = 0
      14079 close(6)                          = 0
    `);
    expect(diagnostics).toEqual([]);
    expect(events.map((e) => e.kind === 'close' && e.fd)).toEqual([5, 6]);
  });

  it('applies close and munmap at their entry, before another thread reuses the fd', () => {
    const { events } = readStrace(trace`
      14231 munmap(0x7fbc41997000, 4096 <unfinished ...>
      14232 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fbc41997000
      14231 <... munmap resumed>)             = 0
    `);
    expect(events.map((e) => e.kind)).toEqual(['munmap', 'mmap']);
  });

  it('ignores detached calls and a thread killed inside a call, and reads exit markers', () => {
    const { events, diagnostics } = readStrace(trace`
      restart_syscall(<... resuming interrupted read ...> <detached ...>
      13734 read(3,  <unfinished ...>
      13733 exit_group(0)               = ?
      13734 <... read resumed> <unfinished ...>) = ?
      13734 +++ exited with 0 +++
      13733 +++ killed by SIGSEGV (core dumped) +++
    `);
    expect(diagnostics).toEqual([]);
    expect(events).toMatchObject([
      { kind: 'thread-exit', tid: 13734, how: 'exited with 0' },
      { kind: 'thread-exit', tid: 13733, how: 'killed by SIGSEGV (core dumped)' },
    ]);
  });

  it('reports a followed call whose return value strace could not fetch', () => {
    const { events, diagnostics } = readStrace('1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = ? <unavailable>');
    expect(events).toEqual([]);
    expect(diagnostics).toMatchObject([{ place: { line: 1 }, reason: 'mmap returned a value strace could not fetch' }]);
  });

  it('reads -yy, -X raw and -e raw shapes of the same calls', () => {
    const { events } = readStrace(trace`
      openat(-100, "/data/demo/files", 0x90000) = 3
      mmap(0, 0x1000, 0x1, 0x1, 0x4, 0)       = 0x7f039c1b0000
      renameat2(3, "v-b.txt", 3, "v-c.txt", 0x1) = 0
      fcntl(7</dev/null<char 1:3>>, F_DUPFD_CLOEXEC, 0) = 15</dev/null<char 1:3>>
    `);
    expect(events).toMatchObject([
      { kind: 'open', dir: { fd: 'cwd' }, path: '/data/demo/files', fd: 3, cloexec: true },
      { kind: 'mmap', length: 4096, prot: 1, flags: 1, fd: 4 },
      { kind: 'rename', exchange: false },
      { kind: 'dup', oldFd: 7, newFd: 15, cloexec: true },
    ]);
  });
});

describe('StraceReader on one -ff file', () => {
  it('reads the leader file of a non-leader execve: the exec resumes with no start here', () => {
    const { events, diagnostics } = readStrace(
      trace`
      futex(0x7ff19dad1990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 14180, NULL, FUTEX_BITSET_MATCH_ANY) = ?
      +++ superseded by execve in pid 14180 +++
      <... execve resumed>)                   = 0
      exit_group(0)                           = ?
      +++ exited with 0 +++
    `,
      'trace.14179',
      14179,
    );
    expect(diagnostics).toEqual([]);
    expect(events).toMatchObject([
      { kind: 'exec', tid: 14179, formerTid: 14180 },
      { kind: 'thread-exit', tid: 14179 },
    ]);
  });
});

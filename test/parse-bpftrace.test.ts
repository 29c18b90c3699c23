// The orphanmap.bt reader, on real captures from this machine (test/fixtures/bpftrace/README.md).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Diagnostic, TraceEvent } from '../src/parse/events.js';
import { BpftraceReader, ContinuationJoiner, ReorderBuffer, describeWaitStatus, looksLikeBpftrace, parseBpftraceLine, type BpftraceReaderOptions } from '../src/parse/bpftrace.js';
import { requireTool } from './support/tools.js';
import { readLines } from './support/trace-text.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`fixtures/bpftrace/${name}`, import.meta.url)), 'latin1');
const scriptPath = fileURLToPath(new URL('../scripts/orphanmap.bt', import.meta.url));

function read(text: string, options: BpftraceReaderOptions = {}): { events: TraceEvent[]; diagnostics: Diagnostic[]; reader: BpftraceReader } {
  const reader = new BpftraceReader('trace.bt.txt', options);
  return { ...readLines(reader, text.endsWith('\n') ? text.slice(0, -1) : text), reader };
}

function one(line: string): TraceEvent {
  const record = parseBpftraceLine(line, 7, 'x.txt');
  if (record.type !== 'event') throw new Error(`expected an event, got ${JSON.stringify(record)}`);
  return record.event;
}

describe('parseBpftraceLine on real records', () => {
  it('reads an open with its inode, a blank in the path, O_CLOEXEC and O_TRUNC', () => {
    const line = '1498786270073 0 26514 26581 open sys=openat ret=3 dfd=-100 flags=0x80242 ino=2164510 dev=266338304 path=/tmp/omw/data dir/00000000.index';
    expect(one(line)).toEqual({
      kind: 'open',
      place: { file: 'x.txt', line: 7 },
      time: '1498786270073',
      seconds: 1498.786270073,
      tid: 26581,
      tgid: 26514,
      raw: line,
      dir: { fd: 'cwd' },
      path: '/tmp/omw/data dir/00000000.index',
      fd: 3,
      cloexec: true,
      inode: { dev: 266338304, ino: 2164510 },
      // flags=0x80242: O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC.
      truncated: true,
      mayCreate: true,
    });
  });

  it('ignores a failed open', () => {
    const record = parseBpftraceLine('1498770756332 1 26514 26514 open sys=openat ret=-2 dfd=-100 flags=0x0 ino=0 dev=0 path=/usr/pyvenv.cfg', 1, 'x');
    expect(record).toMatchObject({ type: 'ignored' });
  });

  it('reads a file mmap with the inode taken at entry, and an anonymous one without', () => {
    expect(
      one('1498786347689 0 26514 26581 mmap ret=0x7fc9b8fe2000 addr=0x0 len=4096 prot=0x3 flags=0x1 fd=3 off=0x0 ens=1498786335085 mm=0xffff8881097d5140 ino=2164510 dev=266338304 nlink=1'),
    ).toMatchObject({ kind: 'mmap', address: 0x7fc9b8fe2000, length: 4096, prot: 3, flags: 1, fd: 3, offset: 0, inode: { dev: 266338304, ino: 2164510 } });
    const anon = one('1498786435474 1 26514 26582 mmap ret=0x7fc9ab600000 addr=0x0 len=134217728 prot=0x0 flags=0x4022 fd=-1 off=0x0 ens=1498786427138 mm=0xffff8881097d5140 ino=0 dev=0 nlink=0');
    expect(anon).toMatchObject({ kind: 'mmap', fd: -1, length: 134217728, flags: 0x4022 });
    expect(anon).not.toHaveProperty('inode');
  });

  it('sorts close and munmap by their entry ns, the moment the kernel releases the fd or range', () => {
    const close = parseBpftraceLine('1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797', 1, 'x');
    expect(close).toMatchObject({ type: 'event', key: 1498786415797n, event: { kind: 'close', fd: 3, time: '1498786418121' } });
    const munmap = parseBpftraceLine('1498786485578 0 26514 26581 munmap addr=0x7fc9b8206000 len=8192 ret=0 ens=1498786479085 mm=0xffff8881097d5140', 1, 'x');
    expect(munmap).toMatchObject({ type: 'event', key: 1498786479085n, event: { kind: 'munmap', address: 0x7fc9b8206000, length: 8192 } });
  });

  it("reads a close's link count with its inode, and neither from a capture made before the script printed them", () => {
    const event = (line: string) => (parseBpftraceLine(line, 1, 'x') as { event: TraceEvent }).event;
    expect(event('1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797 nlink=0 ino=2164510 dev=266338304')).toMatchObject({
      kind: 'close',
      fd: 3,
      nlink: 0,
      inode: { dev: 266338304, ino: 2164510 },
    });
    expect(event('1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797 nlink=2 ino=2164510 dev=266338304')).toMatchObject({ kind: 'close', fd: 3, nlink: 2 });
    // A count with no inode says nothing of whose it is (the first script that printed it: review 48, C3).
    expect(event('1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797 nlink=0')).not.toHaveProperty('nlink');
    expect(event('1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797')).not.toHaveProperty('nlink');
  });

  it('keeps a close that failed with EBADF out, as it released nothing', () => {
    expect(parseBpftraceLine('2896276562378 0 16043 16043 close fd=52 ret=-9 ens=2896276561497', 1, 'x').type).toBe('ignored');
  });

  it('reads ftruncate with nlink, dup, dup2, fcntl F_DUPFD_CLOEXEC, setfd', () => {
    expect(one('1498786618016 0 26514 26581 ftruncate fd=6 len=100 ret=0 ino=2164510 dev=266338304 nlink=0')).toMatchObject({
      kind: 'truncate',
      fd: 6,
      length: 100,
      inode: { dev: 266338304, ino: 2164510 },
    });
    expect(one('1498786328393 0 26514 26581 dup sys=fcntl oldfd=3 newfd=-1 cloexec=1 ret=4')).toMatchObject({ kind: 'dup', oldFd: 3, newFd: 4, cloexec: true });
    expect(one('1498787353536 1 26514 26514 dup sys=dup2 oldfd=3 newfd=50 cloexec=0 ret=50')).toMatchObject({ kind: 'dup', oldFd: 3, newFd: 50, cloexec: false });
    expect(one('2896276350384 0 16043 16043 setfd fd=6 fdflags=0x1 ret=0')).toMatchObject({ kind: 'set-cloexec', fd: 6, cloexec: true });
  });

  it('reads mremap, truncate, unlinkat rmdir, chdir, fchdir, close_range', () => {
    expect(one('2896275676905 0 16043 16241 mremap ret=0x7f15abb6c000 addr=0x7f15add5d000 old_len=12288 new_len=24576 flags=0x1 new_addr=0x0 ens=2896275666320 mm=0xffff88810006d780')).toMatchObject({
      kind: 'mremap',
      oldAddress: 0x7f15add5d000,
      oldLength: 12288,
      newLength: 24576,
      flags: 1,
      newAddress: 0x7f15abb6c000,
    });
    expect(one('2896276286799 0 16043 16043 truncate len=100 ret=0 path=/data/demo/files/v-a.txt')).toMatchObject({
      kind: 'truncate',
      path: '/data/demo/files/v-a.txt',
      dir: { fd: 'cwd' },
      length: 100,
    });
    expect(one('2896276477813 0 16043 16043 unlink sys=unlinkat ret=0 dfd=5 flags=0x200 path=v-c')).toMatchObject({ kind: 'unlink', dir: { fd: 5 }, path: 'v-c', removeDir: true });
    expect(one('1498785755227 1 26514 26514 chdir ret=0 path=/tmp/omw/data dir')).toMatchObject({ kind: 'chdir', path: '/tmp/omw/data dir' });
    expect(one('1 0 5 5 fchdir fd=4 ret=0')).toMatchObject({ kind: 'chdir', fd: 4 });
    expect(one('1 0 5 5 close_range fd=3 max=4294967295 flags=0x4 ret=0 ens=1')).toMatchObject({ kind: 'close-range', low: 3, high: 4294967295, cloexecOnly: true });
  });

  it('reads clone, exec after a non-leader exec, and exits with their wait status', () => {
    expect(one('1498785995528 1 26514 26514 clone child=26581 flags=0x3d0f00')).toMatchObject({ kind: 'clone', childTid: 26581, flags: 0x3d0f00 });
    expect(one('2903366571205 0 16252 16252 exec old_tid=16455 mm=0xffff88810006d140 path=/bin/true')).toMatchObject({ kind: 'exec', path: '/bin/true', formerTid: 16455, tgid: 16252 });
    expect(one('1498766759003 1 26514 26514 exec old_tid=26514 mm=0xffff8881097d5140 path=/usr/bin/python3')).not.toHaveProperty('formerTid');
    expect(one('1498788650188 0 26583 26583 exit code=0x300 group_dead=1')).toMatchObject({ kind: 'thread-exit', how: 'exited with 3', groupDead: true });
    expect(describeWaitStatus(0x9)).toBe('killed by SIGKILL');
    expect(describeWaitStatus(0x8b)).toBe('killed by SIGSEGV (core dumped)');
  });

  it('reads the header, Attaching, end and blank lines as markers', () => {
    expect(parseBpftraceLine('orphanmap-bt 1 begin ns=1498737093204 cpu=1 self=26011 root=0', 2, 'x')).toEqual({
      type: 'marker',
      marker: { kind: 'header', place: { file: 'x', line: 2 }, version: 1, root: 0, self: 26011, ns: '1498737093204' },
    });
    expect(parseBpftraceLine('Attaching 61 probes...', 1, 'x')).toMatchObject({ type: 'marker', marker: { kind: 'attaching', probes: 61 } });
    expect(parseBpftraceLine('1503436511894 1 0 0 end', 1, 'x')).toMatchObject({ type: 'marker', marker: { kind: 'end' } });
    expect(parseBpftraceLine('', 1, 'x')).toMatchObject({ type: 'marker', marker: { kind: 'blank' } });
  });

  it('turns junk into diagnostics with the place, never an exception', () => {
    const junk = [
      'MAPS 7fc9b820b000-7fc9b820c000 rw-s 00000000 fe:00 2164512 /x (deleted)',
      "ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace.",
      '1498786270073 0 26514 26581 frobnicate fd=3',
      '1498786270073 0 26514 26581 close fd=3 ret=0',
      '1498786270073 0 26514 26581 mmap ret=0x7f00 garbage',
      '1498786270073 0 26514 26581 open sys=openat ret=3 dfd=-100 flags=0x80242',
    ];
    for (const [index, line] of junk.entries()) {
      const record = parseBpftraceLine(line, index + 10, 'junk.txt');
      expect(record.type, line).toBe('diagnostic');
      if (record.type === 'diagnostic') expect(record.diagnostic.place).toEqual({ file: 'junk.txt', line: index + 10 });
    }
  });
});

describe('BpftraceReader on python-segments.txt (a real capture)', () => {
  const { events, diagnostics, reader } = read(fixture('python-segments.txt'));

  it('reads every line: no diagnostics, header, end, no loss', () => {
    expect(diagnostics).toEqual([]);
    expect(reader.shape).toMatchObject({ version: 1, root: 0, endSeen: true, lostEvents: 0, late: 0 });
    expect(reader.warnings()).toEqual([]);
  });

  it('delivers events in kernel order although the CPU streams arrive interleaved', () => {
    const raw = fixture('python-segments.txt')
      .split('\n')
      .filter((l) => /^\d+ /.test(l))
      .map((l) => BigInt(l.split(' ')[0]!));
    expect(raw.some((ns, i) => i > 0 && ns < raw[i - 1]!)).toBe(true);
    const keys = events.map((e) => (e.kind === 'close' || e.kind === 'munmap' ? /ens=(\d+)/.exec(e.raw)![1]! : e.time!)).map(BigInt);
    for (let i = 1; i < keys.length; i++) expect(keys[i]! >= keys[i - 1]!, events[i]!.raw).toBe(true);
    // The thread's first record comes after the clone that made it, not before.
    const clone = events.findIndex((e) => e.kind === 'clone' && e.childTid === 26582);
    const firstOfThread = events.findIndex((e) => e.tid === 26582);
    expect(clone).toBeGreaterThanOrEqual(0);
    expect(clone).toBeLessThan(firstOfThread);
  });

  it('joins the rename halves and keeps both names', () => {
    const renames = events.filter((e) => e.kind === 'rename');
    expect(renames).toHaveLength(2);
    expect(renames.find((e) => e.tid === 26581)).toMatchObject({
      oldPath: '/tmp/omw/data dir/00000000.index',
      newPath: '/tmp/omw/data dir/00000000.index.deleted',
      oldDir: { fd: 'cwd' },
      newDir: { fd: 'cwd' },
      exchange: false,
      time: '1498786458066',
    });
  });

  it('joins a path with a newline, in open, link.old and unlink', () => {
    const withNewline = events.filter((e) => 'path' in e && e.path === 'new\nline.bin');
    expect(withNewline.map((e) => e.kind)).toEqual(['open', 'unlink']);
    const open = withNewline[0]!;
    expect(open.lines).toHaveLength(2);
    expect(events.find((e) => e.kind === 'link')).toMatchObject({ oldPath: 'new\nline.bin', newPath: 'hard link.bin' });
  });

  it('sees the resize signature: a second mmap of the same inode after ftruncate, then nlink 0', () => {
    const ino = 2164510;
    const life = events.filter((e) => 'inode' in e && e.inode?.ino === ino).map((e) => e.kind);
    expect(life).toEqual(['open', 'truncate', 'mmap', 'truncate', 'mmap', 'truncate']);
    const last = events.filter((e) => e.kind === 'truncate' && e.inode?.ino === ino).pop()!;
    expect(last.raw).toContain('nlink=0');
  });

  it('follows the fork child under its own tgid and ends it with group_dead', () => {
    expect(events.filter((e) => e.tgid === 26583).map((e) => e.kind)).toEqual(['open', 'truncate', 'dup', 'mmap', 'unlink', 'thread-exit']);
    expect(events.find((e) => e.kind === 'thread-exit' && e.tgid === 26583)).toMatchObject({ how: 'exited with 3', groupDead: true });
  });
});

describe('BpftraceReader on other real captures', () => {
  it('reads an attach-mode capture with a fork and an exec', () => {
    const { events, diagnostics, reader } = read(fixture('attach-fork-exec.txt'));
    expect(diagnostics).toEqual([]);
    expect(reader.shape.root).toBe(27396);
    expect(events.find((e) => e.kind === 'exec')).toMatchObject({ tgid: 29273, path: '/bin/true' });
    expect(events.find((e) => e.kind === 'unlink')).toMatchObject({ path: '/tmp/omw/att.bin', tgid: 27396 });
  });

  it('turns "Lost N events" into a lost event and warns about it', () => {
    const { events, diagnostics, reader } = read(fixture('lost-excerpt.txt'));
    expect(diagnostics).toEqual([]);
    const lost = events.filter((e) => e.kind === 'lost');
    expect(lost).toEqual([expect.objectContaining({ kind: 'lost', count: 25, place: { file: 'trace.bt.txt', line: 6 } })]);
    // Placed after the records that preceded it, before the ones that followed.
    const at = events.indexOf(lost[0]!);
    expect(events[at - 1]!.place.line).toBe(5);
    expect(events[at + 1]!.place.line).toBe(7);
    expect(reader.warnings().join('\n')).toContain('lost 25 events');
  });

  it('reports a rename whose first half is missing, and junk after a record without a path', () => {
    const text = [
      'orphanmap-bt 1 begin ns=1 cpu=0 self=1 root=5',
      '10 0 5 5 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=/b',
      '20 0 5 5 close fd=3 ret=0 ens=19',
      'some workload output',
      '30 0 0 0 end',
    ].join('\n');
    const { events, diagnostics } = read(text);
    expect(diagnostics.map((d) => d.place.line)).toEqual([2, 4]);
    expect(events.map((e) => e.kind)).toEqual(['close']);
  });

  it('takes a stray line right after a record with a path for the rest of that path (documented limit)', () => {
    const { events } = read('1 0 5 5 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/a\nworkload says hi\n2 0 0 0 end');
    expect(events).toEqual([expect.objectContaining({ kind: 'unlink', path: '/a\nworkload says hi', lines: [1, 2] })]);
  });

  it('warns when a path reached BPFTRACE_STRLEN-1 bytes', () => {
    const long = `/${'a'.repeat(198)}`;
    const { reader } = read(`orphanmap-bt 1 begin ns=1 cpu=0 self=1 root=5\n2 0 5 5 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=${long}\n3 0 0 0 end\n`);
    expect(reader.warnings().join('\n')).toContain('probably cut');
  });
});

describe('ReorderBuffer', () => {
  it('restores order across two in-order streams within the window, keeping ties in arrival order', () => {
    const buffer = new ReorderBuffer<string>({ windowNs: 100n });
    const out: string[] = [];
    const arrivals: [bigint, string][] = [
      [10n, 'a0'],
      [30n, 'a1'],
      [20n, 'b0'],
      [30n, 'b1'],
      [40n, 'b2'],
      [35n, 'a2'],
      [300n, 'a3'],
    ];
    for (const [key, item] of arrivals) out.push(...buffer.push(key, item));
    expect(out).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
    expect(buffer.flush()).toEqual(['a3']);
  });

  it('never holds more than maxHeld and counts what arrives too late to place', () => {
    const buffer = new ReorderBuffer<number>({ windowNs: 1_000_000n, maxHeld: 2 });
    expect(buffer.push(5n, 5)).toEqual([]);
    expect(buffer.push(6n, 6)).toEqual([]);
    expect(buffer.push(7n, 7)).toEqual([5]);
    expect(buffer.push(1n, 1)).toEqual([1]);
    expect(buffer.late).toBe(1);
    expect(buffer.flush()).toEqual([6, 7]);
  });
});

describe('ContinuationJoiner', () => {
  it('joins the lines of a path with newlines, and only after a record with a path', () => {
    const joiner = new ContinuationJoiner();
    const got = ['1 0 5 5 open sys=openat ret=3 dfd=-100 flags=0x0 ino=1 dev=2 path=a', 'b', 'c', '2 0 5 5 close fd=3 ret=0 ens=2', 'stray', ''].flatMap((line, i) => joiner.push(line, i + 1));
    got.push(...joiner.end());
    expect(got).toEqual([
      { text: '1 0 5 5 open sys=openat ret=3 dfd=-100 flags=0x0 ino=1 dev=2 path=a\nb\nc', lines: [1, 2, 3] },
      { text: '2 0 5 5 close fd=3 ret=0 ens=2', lines: [4] },
      { text: 'stray', lines: [5] },
      { text: '', lines: [6] },
    ]);
  });
});

describe('format detection', () => {
  it('recognises orphanmap.bt output from its first lines, and not strace', () => {
    expect(looksLikeBpftrace(['Attaching 61 probes...', 'orphanmap-bt 1 begin ns=1 cpu=0 self=1 root=0'])).toBe(true);
    expect(looksLikeBpftrace(['1498786418121 0 26514 26581 close fd=3 ret=0 ens=1498786415797'])).toBe(true);
    expect(looksLikeBpftrace(['5959  17:41:43.090043 close(4) = 0'])).toBe(false);
    expect(looksLikeBpftrace(['1795544192.489878 close(4) = 0'])).toBe(false);
  });
});

describe('scripts/orphanmap.bt', () => {
  const script = readFileSync(scriptPath, 'utf8');

  it('has the header sections docs/bpftrace-format.md names', () => {
    for (const section of ['USAGE', 'EXAMPLE', 'FORMAT', 'FIELDS', 'OVERHEAD', 'REQUIREMENTS']) expect(script).toContain(` * ${section}`);
  });

  it('parses the EXAMPLE output of its own header', () => {
    const block = script.slice(script.indexOf(' * EXAMPLE'), script.indexOf(' * FORMAT'));
    const lines = block
      .split('\n')
      .slice(1)
      .map((l) => l.replace(/^ \*( {3})?/, ''))
      .filter((l) => l.startsWith('Attaching') || l.startsWith('orphanmap-bt') || /^\d/.test(l));
    expect(lines.length).toBeGreaterThan(15);
    const { events, diagnostics, reader } = read(lines.join('\n'), { windowNs: 10n ** 12n });
    expect(diagnostics).toEqual([]);
    expect(reader.shape.version).toBe(1);
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(['exec', 'clone', 'open', 'truncate', 'dup', 'mmap', 'close', 'rename', 'munmap', 'unlink', 'thread-exit', 'chdir']));
    // The second example: the open through the symlinked directory gets its real path from the dir records.
    expect(events.find((e) => e.kind === 'open' && e.path === 'rel.map')).toMatchObject({ resolvedHint: '/tmp/omw-symlink/real/rel.map' });
    // The example's out-of-order CPU 1 mmap is sorted before the CPU 0 exit.
    const mmapAt = events.findIndex((e) => e.kind === 'mmap' && e.tid === 26582);
    const exitAt = events.findIndex((e) => e.kind === 'thread-exit' && e.tid === 26581);
    expect(mmapAt).toBeLessThan(exitAt);
  });

  it('runs under bpftrace and its output parses (needs root and bpftrace)', () => {
    requireTool('bpftrace');
    const output = execFileSync('bpftrace', ['-c', '/bin/true', scriptPath, '0'], {
      encoding: 'latin1',
      env: { ...process.env, BPFTRACE_STRLEN: '200' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 110_000,
    });
    const { events, diagnostics, reader } = read(output);
    expect(diagnostics).toEqual([]);
    expect(reader.shape).toMatchObject({ version: 2, endSeen: true, unkeyed: 0 });
    // Run by hand, the file's own key: zeros before every line it printed, which anyone can print too.
    expect(output.split('\n').filter((line) => line !== '' && !line.startsWith('0000000000000000 ') && !line.startsWith('Attaching '))).toEqual([]);
    expect(reader.warnings()).toContainEqual(expect.stringContaining("the trace's key is zeros"));
    expect(events[0]).toMatchObject({ kind: 'exec', path: '/bin/true' });
    expect(events.filter((e) => e.kind === 'mmap' && e.inode !== undefined).length).toBeGreaterThan(0);
    expect(events[events.length - 1]).toMatchObject({ kind: 'thread-exit', groupDead: true });
  });
});

describe('symlink records (symlink.old, then symlink with the same tid and ns)', () => {
  const header = 'orphanmap-bt 1 begin ns=1000 cpu=0 self=5 root=0 cpus=1';
  const call = (ns: number, target: string, rest: string, path: string) => [`${ns} 0 300 300 symlink.old path=${target}`, `${ns} 0 300 300 symlink ${rest} path=${path}`];

  it('joins them into one symlink event, by symlink and by symlinkat relative to a directory fd', () => {
    const { events, diagnostics } = read(
      [
        header,
        ...call(2000, '/w/sb/data.db', 'sys=symlink ret=0 newdfd=-100 ens=1990', '/w/etc/data.db'),
        ...call(3000, '../sb/index.db', 'sys=symlinkat ret=0 newdfd=7 ens=2990', 'index.db'),
        '',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(events.filter((e) => e.kind === 'symlink')).toMatchObject([
      { target: '/w/sb/data.db', path: '/w/etc/data.db', dir: { fd: 'cwd' }, tid: 300, time: '2000' },
      { target: '../sb/index.db', path: 'index.db', dir: { fd: 7 }, tid: 300, time: '3000' },
    ]);
  });

  it('gives no symlink event for a failed call, a blind spot for a name the script could not read, and says a half alone', () => {
    const { events, diagnostics } = read(
      [
        header,
        ...call(2000, '/w/a', 'sys=symlink ret=-17 newdfd=-100 ens=1990', '/w/b'),
        ...call(3000, '', 'sys=symlink ret=0 newdfd=-100 ens=2990', '/w/c'),
        '4000 0 300 300 symlink sys=symlink ret=0 newdfd=-100 ens=3990 path=/w/d',
        '',
      ].join('\n'),
    );
    expect(events.filter((e) => e.kind === 'symlink')).toEqual([]);
    // Where a name leads is not known: as for any call whose name was not read (review 43, F10).
    expect(events.filter((e) => e.kind === 'blind-spot')).toMatchObject([{ call: 'symlink', missed: 'name', time: '3000' }]);
    expect(diagnostics.map((d) => d.reason)).toEqual(['symlink record without its symlink.old record (same tid and ns)']);
  });
});

// The strace reader's fast path (StraceReader.skipLine, asked by the line
// splitter before a line becomes a string of its own) must decide exactly as
// the full path does: the same events, diagnostics and counts whatever the
// chunking, on the real traces and on lines written to trip it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filteringSink } from '../src/ingest/line-filter.js';
import { LineSplitter } from '../src/ingest/lines.js';
import { type ParseOutput, StraceReader } from '../src/parse/strace.js';

const TRACES = join(import.meta.dirname, '..', 'traces');

/** Reads `text` through a splitter fed `chunk` bytes at a time; with or without the fast path. */
function read(text: string, chunk: number, fast: boolean, defaultTid = 0) {
  const reader = new StraceReader('trace.txt', defaultTid);
  const out: ParseOutput[] = [];
  let skipped = 0;
  const filtering = filteringSink(
    (line, lineNo) => reader.push(line, lineNo, out),
    () => undefined,
    fast
      ? {
          policy: () => reader.skipPolicy(),
          skipped: (lines) => {
            skipped += lines.lines;
            reader.noteSkipped(lines);
          },
        }
      : undefined,
  );
  const splitter = new LineSplitter(filtering.sink, 'the input');
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += chunk) splitter.write(bytes.subarray(at, at + chunk));
  splitter.end();
  filtering.end();
  reader.end(out);
  return { out, shape: { ...reader.shape }, skipped };
}

function expectSame(text: string, defaultTid = 0): number {
  const full = read(text, 1 << 20, false, defaultTid);
  let skipped = 0;
  for (const chunk of [1 << 20, 4096, 97]) {
    const fast = read(text, chunk, true, defaultTid);
    expect(fast.out).toEqual(full.out);
    expect(fast.shape).toEqual(full.shape);
    skipped = Math.max(skipped, fast.skipped);
  }
  return skipped;
}

describe('the strace fast path', () => {
  const straceTraces = readdirSync(TRACES).filter((name) => {
    try {
      return readFileSync(join(TRACES, name, 'trace.txt'), 'utf8').length > 0;
    } catch {
      return false;
    }
  });

  it.each(straceTraces)('decides as the full path on traces/%s', (name) => {
    const text = readFileSync(join(TRACES, name, 'trace.txt'), 'utf8');
    expectSame(text);
  });

  it('skips most lines of an unfiltered trace (so it is the path taken)', () => {
    const text = readFileSync(join(TRACES, 'unfiltered', 'trace.txt'), 'utf8');
    const lines = text.split('\n').length;
    expect(expectSame(text)).toBeGreaterThan(lines / 2);
  });

  it('decides as the full path on lines written to trip it', () => {
    const head = [
      '100 1795606335.100000 execve("/bin/x", ["x"], 0x7ffd /* 1 vars */) = 0',
      '100 1795606335.100001 brk(NULL) = 0x55',
      '100 1795606335.100002 brk(NULL) = 0x55',
      '100 1795606335.100003 brk(NULL) = 0x55',
    ];
    const body = [
      // A "<... x resumed>" inside a followed call's argument: the call is read.
      '100 1795606335.100010 openat(AT_FDCWD, "/d/<... x resumed>/f", O_RDWR|O_CREAT, 0644) = 3',
      '100 1795606335.100011 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000',
      // Inside an ignored call's argument: still ignored.
      '100 1795606335.100012 write(1, "<... openat resumed>", 20) = 20',
      // A comm prefix before the name.
      '100<java> 1795606335.100013 futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0',
      '100 1795606335.100014 futex(0x7f, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
      // strace -z: a bare continuation of the ignored call above.
      ') = 0',
      '101 1795606335.100015 read(5, "a = b", 5 <unfinished ...>',
      '101 1795606335.100016 <... read resumed>) = 5',
      '101 1795606335.100017 <... openat resumed>) = 4',
      '101 1795606335.100018 see printf(3) in the manual',
      '101 1795606335.100019 getpid() = 101\r',
      '101 1795606335.100020 clone(child_stack=NULL, flags=CLONE_VM|SIGCHLDstrace: Process 102 attached',
      ', child_tidptr=0x7f) = 102',
      // An ignored call cut by strace's message, anywhere (even in its name).
      '101 1795606335.100025 futex(0x7f, FUTEX_WAKEstrace: Process 103 attached',
      '_PRIVATE, 1) = 0',
      '100 1795606335.100030 fustrace: Process 104 attached',
      'tex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 1',
      '101 1795606335.100021 rt_sigprocmask(SIG_BLOCK, [CHLD], NULL, 8) = 0 (is said)',
      '100 1795606335.100022 unlink("/d/<... x resumed>/f") = 0',
      '100 1795606335.100023 epoll_wait(4, [], 1024, 0)  =  0',
      '100 1795606335.100024 epoll_wait(4, "=", 1024, 0) = -1 EINTR (Interrupted system call)',
    ];
    const text = [...head, ...body].join('\n');
    expect(expectSame(text)).toBeGreaterThan(8);
    const { out } = read(text, 1 << 20, true);
    const kinds = out.flatMap((item) => (item.type === 'event' ? [item.event.kind] : []));
    expect(kinds).toEqual(expect.arrayContaining(['open', 'mmap', 'unlink']));
  });

  it('does not skip the line after an empty one, which the reader may join to a line cut twice (found by review)', () => {
    let time = 100000;
    const at = () => `1795606335.${String(time++).padStart(6, '0')}`;
    const lines = [`100 ${at()} execve("/bin/x", ["x"], 0x7ffd /* 1 vars */) = 0`];
    for (let k = 0; k < 60; k++) lines.push(`100 ${at()} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`);
    lines.push(`100 ${at()} openat(AT_FDCWD, "/d/x.index", O_RDWR|O_CREAT, 0600) = 3</d/x.index>`);
    lines.push(`100 ${at()} mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</d/x.index>, 0) = 0x7f0000000000`);
    lines.push(`100 ${at()} read(4, strace: Process 7 attachedstrace: Process 8 attached`, '', `100 ${at()} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`);
    lines.push(`100 ${at()} unlink("/d/x.index") = 0`);
    for (let k = 0; k < 10; k++) lines.push(`100 ${at()} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`);
    expectSame(lines.join('\n'));
    expectSame(lines.join('\r\n'));
  });

  it('finds every resume in chunks of the same text (found by review: a cache keyed by content)', () => {
    const block = 4096;
    const lines = ['100 1795606335.100000 execve("/bin/x", ["x"], 0x7ffd /* 1 vars */) = 0'];
    for (let k = 0; k < 20; k++) lines.push('100 1795606335.100001 futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0');
    lines.push('100 1795606335.100002 openat(AT_FDCWD, <unfinished ...>');
    lines.push('100 1795606335.100003 <... openat resumed>"/d/a b(1).index", O_RDWR|O_CREAT, 0600) = 3');
    lines.push('100 1795606335.100004 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000');
    lines.push('100 1795606335.100005 unlink("/d/a b(1).index") = 0');
    lines.push('100 1795606335.100006 munmap(0x7f0000000000, 4096) = 0');
    lines.push('100 1795606335.100007 close(3) = 0');
    let text = `${lines.join('\n')}\n`;
    const filler = '100 1795606335.100008 futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0\n';
    while (text.length + filler.length < block - 100) text += filler;
    text += `${'100 1795606335.100009 futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0 '.padEnd(block - text.length - 1, ' ')}\n`;
    expect(text.length).toBe(block);
    const fast = read(text.repeat(5), block, true);
    expect(fast.out).toEqual(read(text.repeat(5), block, false).out);
    expect(fast.out.filter((item) => item.type === 'event' && item.event.kind === 'open')).toHaveLength(5);
  });

  it('decides as the full path on a stderr trace whose pid prefix comes and goes', () => {
    const text = readFileSync(join(TRACES, 'f-stderr-tt', 'trace.txt'), 'utf8');
    expectSame(text);
    expectSame(text, 4242);
  });
});

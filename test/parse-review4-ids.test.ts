// Thread and process ids no Linux thread can have (review 2, item 5): each is
// an unreadable line naming its file and line, never a number rounded into a
// thread. The kernel hands out ids below pid_max, which is at most
// PID_MAX_LIMIT = 2^22 (include/linux/threads.h): 1 to 4194303.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filteringSink } from '../src/ingest/line-filter.js';
import { LineSplitter } from '../src/ingest/lines.js';
import { parseBpftraceLine } from '../src/parse/bpftrace.js';
import { type ParseOutput, StraceReader } from '../src/parse/strace.js';
import type { SkippedLines } from '../src/parse/strace-skip.js';
import { MAX_TID } from '../src/parse/strace-line.js';
import { readLines, readStrace, trace } from './support/trace-text.js';
import { runCli } from './support/tools.js';

const REASON = 'thread id out of range (a Linux thread or process id is a whole number from 1 to 4194303)';
const FIXTURES = join(import.meta.dirname, 'fixtures', 'review4');
const work = mkdtempSync(join(tmpdir(), 'orphanmap-review4-ids-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the bound', () => {
  it('is the largest id the kernel can allocate: below PID_MAX_LIMIT, 2^22', () => {
    expect(MAX_TID).toBe(2 ** 22 - 1);
  });
});

describe('strace: an out-of-range id is an unreadable line', () => {
  it("the review's bigpid.txt (-Y prefix 99999999999999999999<java>): three unreadable lines, no rounded pid or tid", () => {
    const file = join(FIXTURES, 'bigpid.txt');
    const text = runCli(['analyze', file]);
    expect(text.stdout).toContain('unreadable lines 3');
    for (const line of [1, 2, 3]) expect(text.stdout).toContain(`${file}:${line}: ${REASON}: 99999999999999999999<java>`);
    const json = runCli(['analyze', file, '-f', 'json']);
    const report = JSON.parse(json.stdout) as { summary: { events: number; processes: number; unparsedLines: number }; unparsedSamples: { file: string; line: number; reason: string }[] };
    expect(report.summary).toMatchObject({ events: 0, processes: 0, unparsedLines: 3 });
    expect(report.unparsedSamples.map((s) => [s.file, s.line, s.reason])).toEqual([1, 2, 3].map((line) => [file, line, REASON]));
    for (const rounded of ['9007199254740991', '100000000000000000000', '1e+20']) {
      expect(text.stdout).not.toContain(rounded);
      expect(json.stdout).not.toContain(rounded);
    }
  });

  it('in every prefix: "N ", "N<comm> ", "[pid N] ", from 0 and from 2^22 up; 4194303 is read', () => {
    const { events, diagnostics } = readStrace(trace`
      0 openat(AT_FDCWD, "/a", O_RDONLY) = 3
      4194304 openat(AT_FDCWD, "/b", O_RDONLY) = 3
      4194303 openat(AT_FDCWD, "/c", O_RDONLY) = 3
      9007199254740993<java> openat(AT_FDCWD, "/d", O_RDONLY) = 3
      9007199254740992<java> openat(AT_FDCWD, "/e", O_RDONLY) = 3
      99999999999 1795606335.400000 openat(AT_FDCWD, "/f", O_RDONLY) = 3
    `);
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([1, 2, 4, 5, 6].map((line) => [line, REASON]));
    expect(events.map((e) => [e.tid, e.place.line])).toEqual([[4194303, 3]]);
  });

  it('on stderr: "[pid N] " with N out of range, and a "Process N attached" that cuts a line or stands alone', () => {
    const { events, diagnostics, attached } = readLines(
      new StraceReader('trace.txt'),
      trace`
      openat(AT_FDCWD, "/a", O_RDONLY) = 3
      [pid 99999999999] openat(AT_FDCWD, "/b", O_RDONLY) = 4
      strace: Process 99999999999 attached
      [pid 12] vfork(strace: Process 99999999999 attached
      strace: Process 4194304 detached
      strace: Process 13 attached
    `,
    );
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([2, 3, 4, 5].map((line) => [line, REASON]));
    expect(attached).toEqual([13]);
    expect(events.map((e) => e.place.line)).toEqual([1]);
  });

  it('"+++ superseded by execve in pid N +++" and a clone that returns N', () => {
    const { events, diagnostics } = readStrace(trace`
      12 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0c) = 99999999999
      12 fork() = 4194304
      12 vfork() = 4194303
      12 +++ superseded by execve in pid 99999999999 +++
    `);
    expect(diagnostics.map((d) => [d.place.line, d.reason])).toEqual([
      [1, `clone returned 99999999999: ${REASON}`],
      [2, `fork returned 4194304: ${REASON}`],
      [4, REASON],
    ]);
    expect(events.map((e) => (e.kind === 'clone' ? e.childTid : e.kind))).toEqual([4194303]);
  });

  it('a --timestamps=unix,s line without a pid is still read: 9 or 10 digits are epoch seconds', () => {
    const { events, diagnostics } = readStrace('1795544192 openat(AT_FDCWD, "/x", O_RDONLY) = 3');
    expect(diagnostics).toEqual([]);
    expect(events).toMatchObject([{ kind: 'open', tid: 0, seconds: 1795544192 }]);
  });

  it('an ignored call with such a pid is unreadable too, when the line filter skips ignored calls as when it does not', () => {
    const read = (n: number, tid: number) => `${tid} 1795606335.${String(400000 + n)} read(3, "x", 1) = 1`;
    const lines = [...Array.from({ length: 20 }, (_, n) => read(n, 12)), read(20, 99999999999), read(21, 4194304), ...Array.from({ length: 20 }, (_, n) => read(22 + n, 12))];
    const text = `${lines.join('\n')}\n`;
    const full = readFiltered(text, false);
    const fast = readFiltered(text, true);
    expect(fast.skipped).toBeGreaterThan(30);
    expect(fast.out).toEqual(full.out);
    const unreadable = fast.out.flatMap((o) => (o.type === 'diagnostic' ? [[o.diagnostic.place.line, o.diagnostic.reason]] : []));
    expect(unreadable).toEqual([
      [21, REASON],
      [22, REASON],
    ]);
    // And through analyze.
    const file = join(work, 'ignored.txt');
    writeFileSync(file, text);
    const report = JSON.parse(runCli(['analyze', file, '-f', 'json']).stdout) as { unparsedSamples: { line: number; reason: string }[] };
    expect(report.unparsedSamples.map((s) => [s.line, s.reason])).toEqual(unreadable);
  });
});

/** The reader fed through the line splitter, with the line filter of ignored calls (fast) or without it. */
function readFiltered(text: string, fast: boolean): { out: ParseOutput[]; skipped: number } {
  const reader = new StraceReader('trace.txt');
  const out: ParseOutput[] = [];
  let skipped = 0;
  const skipping = {
    policy: () => reader.skipPolicy(),
    skipped: (lines: SkippedLines) => {
      skipped += lines.lines;
      reader.noteSkipped(lines);
    },
  };
  const filtering = filteringSink(
    (line, lineNo) => reader.push(line, lineNo, out),
    () => undefined,
    fast ? skipping : undefined,
  );
  const splitter = new LineSplitter(filtering.sink, 'the input');
  splitter.write(Buffer.from(text));
  splitter.end();
  filtering.end();
  reader.end(out);
  return { out, skipped };
}

describe('bpftrace: an out-of-range id is an unreadable record', () => {
  const record = (line: string) => parseBpftraceLine(line, 7, 'trace.bt.txt');
  const reason = (line: string) => {
    const got = record(line);
    return got.type === 'diagnostic' ? got.diagnostic.reason : got.type;
  };

  it('in the tgid and tid columns: 0 (but in the end trailer), 2^22 and up', () => {
    expect(reason('3800 0 500 99999999999 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/x')).toBe(REASON);
    expect(reason('3800 0 4194304 500 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/x')).toBe(REASON);
    expect(reason('3800 0 500 0 close fd=3 ret=0 ens=3700')).toBe(REASON);
    expect(reason('3800 0 4194303 4194303 close fd=3 ret=0 ens=3700')).toBe('event');
    expect(record('5000 1 0 0 end')).toMatchObject({ type: 'marker', marker: { kind: 'end' } });
    const bad = record('3800 0 500 9007199254740993 close fd=3 ret=0 ens=3700');
    expect(bad).toMatchObject({ type: 'diagnostic', diagnostic: { place: { file: 'trace.bt.txt', line: 7 } } });
  });

  it("in clone's child= and exec's old_tid=", () => {
    expect(reason('3800 0 500 500 clone child=99999999999 flags=0x11')).toBe('clone: missing or bad child (out of range)');
    expect(reason('3800 0 500 500 clone child=0 flags=0x11')).toBe('clone: missing or bad child (out of range)');
    expect(reason('3800 0 500 500 exec old_tid=4194304 mm=0x1 path=/bin/true')).toBe('exec: missing or bad old_tid (out of range)');
    expect(record('3800 0 500 500 clone child=501 flags=0x11')).toMatchObject({ type: 'event', event: { kind: 'clone', childTid: 501 } });
  });

  it("in the header's self= and root= (root=0 is the -c child)", () => {
    expect(reason('orphanmap-bt 1 begin ns=1000 cpu=0 self=99999999999 root=0')).toBe(`orphanmap-bt header: ${REASON}`);
    expect(reason('orphanmap-bt 1 begin ns=1000 cpu=0 self=1 root=4194304')).toBe(`orphanmap-bt header: ${REASON}`);
    expect(record('orphanmap-bt 1 begin ns=1000 cpu=0 self=1 root=0')).toMatchObject({ type: 'marker', marker: { kind: 'header', self: 1, root: 0 } });
  });

  it('through analyze: file and line named', () => {
    const file = join(work, 'bigtid.bt.txt');
    writeFileSync(
      file,
      [
        'orphanmap-bt 1 begin ns=1000 cpu=0 self=1 root=0',
        '3800 0 500 99999999999999999999 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/x',
        '3900 0 500 500 clone child=99999999999999999999 flags=0x11',
        '5000 1 0 0 end',
        '',
      ].join('\n'),
    );
    const { stdout } = runCli(['analyze', file]);
    expect(stdout).toContain('unreadable lines 2');
    expect(stdout).toContain(`${file}:2: ${REASON}: 3800 0 500 99999999999999999999 unlink`);
    expect(stdout).toContain(`${file}:3: clone: missing or bad child (out of range): 3900 0 500 500 clone child=99999999999999999999`);
  });
});

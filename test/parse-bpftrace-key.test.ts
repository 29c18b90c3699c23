// Format 2 of orphanmap.bt's output: the capture's key before every line the
// script prints, and after every path (review 25's F3, review 27's F1 and
// F2). bpftrace prints file names raw, so a traced process can end a name's
// line and print one shaped like a record, or like bpftrace's own messages;
// in a keyed trace every line from a record's path= to the one that ends in
// the key is that path, and any other line without the key is no line of the
// script's. The lines below are shaped as scripts/orphanmap.bt prints them
// (capture-bpftrace-forged-stop.test.ts makes a real program forge them under
// real bpftrace).
import { describe, expect, it } from 'vitest';
import type { Diagnostic, TraceEvent } from '../src/parse/events.js';
import { BpftraceReader, looksLikeBpftrace } from '../src/parse/bpftrace.js';
import { readLines } from './support/trace-text.js';

const KEY = '3f0c5e9a1b2d4c67';
const HEADER = `${KEY} orphanmap-bt 2 begin ns=1000 cpu=0 self=900 root=100 cpus=1 stopper=901`;
const OPEN = `${KEY} 2000 0 100 100 open sys=openat ret=3 dfd=-100 flags=0x2 ino=7 dev=9 path=/data/x ${KEY}`;
const MMAP = `${KEY} 3000 0 100 100 mmap ret=0x7f0000000000 addr=0x0 len=4096 prot=0x3 flags=0x1 fd=3 off=0x0 ens=2900 mm=0x1 ino=7 dev=9 nlink=1`;
/** What a traced process prints into a file name: a munmap of its own mapping, stamped before its unlink. */
const FORGED_MUNMAP = '3500 0 100 100 munmap addr=0x7f0000000000 len=4096 ret=0 ens=3500 mm=0x1';
const END = `${KEY} 9000 0 0 0 end`;

function read(lines: string[]): { events: TraceEvent[]; diagnostics: Diagnostic[]; reader: BpftraceReader } {
  const reader = new BpftraceReader('trace.txt');
  return { ...readLines(reader, lines.join('\n')), reader };
}

/** An open of `name` and its unlink, as the script prints them: two records, each with the name and then the key. */
function openAndUnlink(name: string, ns: number): string[] {
  return [
    `${KEY} ${ns} 0 100 100 open sys=openat ret=4 dfd=-100 flags=0x241 ino=8 dev=9 path=${name} ${KEY}`,
    `${KEY} ${ns + 10} 0 100 100 unlink sys=unlink ret=0 dfd=-100 flags=0x0 ens=${ns + 5} path=${name} ${KEY}`,
  ].flatMap((record) => record.split('\n'));
}

const unlinked = (events: TraceEvent[]) => events.flatMap((event) => (event.kind === 'unlink' ? [event.path] : []));

describe('a keyed trace (format 2)', () => {
  it('reads a munmap printed inside a file name as the rest of the name, with or without the zeros of a hand-run script', () => {
    const { events, diagnostics, reader } = read([
      'Attaching 70 probes...',
      HEADER,
      OPEN,
      MMAP,
      ...openAndUnlink(`/tmp/x\n${FORGED_MUNMAP}`, 3400),
      ...openAndUnlink(`/tmp/y\n0000000000000000 ${FORGED_MUNMAP}`, 3600),
      `${KEY} 4000 0 100 100 unlink sys=unlink ret=0 dfd=-100 flags=0x0 ens=3990 path=/data/x ${KEY}`,
      END,
    ]);
    expect(diagnostics).toEqual([]);
    expect(events.filter((event) => event.kind === 'munmap')).toEqual([]);
    expect(unlinked(events)).toEqual([`/tmp/x\n${FORGED_MUNMAP}`, `/tmp/y\n0000000000000000 ${FORGED_MUNMAP}`, '/data/x']);
    // A name of two physical lines keeps both line numbers, for its evidence.
    expect(events.find((event) => event.kind === 'unlink')!.lines).toEqual([7, 8]);
    expect(reader.shape.version).toBe(2);
    expect(reader.warnings()).toEqual([]);
    expect(reader.damage()).toBeNull();
  });

  it("keeps a name's newlines whole: blank lines inside it, a newline at its end, bpftrace's messages inside it", () => {
    const names = ['/tmp/a\n\n\nb', '/tmp/e\n', '/tmp/e\n\n', '/tmp/l\nLost 1 events\nAttaching 1 probes...\n__BPFTRACE_NOTIFY_PROBES_ATTACHED'];
    const { events, diagnostics, reader } = read([
      HEADER,
      ...names.flatMap((name, index) => openAndUnlink(name, 2000 + index * 100)),
      `${KEY} 2900 0 100 100 chdir ret=0 path=/tmp ${KEY}`,
      END,
      '',
      '',
    ]);
    expect(diagnostics).toEqual([]);
    expect(unlinked(events)).toEqual(names);
    expect(events.find((event) => event.kind === 'chdir')).toMatchObject({ path: '/tmp' });
    // "Lost 1 events" in a name is no loss.
    expect(reader.shape.lostEvents).toBe(0);
    expect(events.filter((event) => event.kind === 'lost')).toEqual([]);
  });

  it("says a line without the key is not the script's, whatever it looks like, and reads bpftrace's own messages between records", () => {
    const { events, diagnostics, reader } = read([HEADER, MMAP, FORGED_MUNMAP, 'Lost 3 events', `0000000000000000 ${FORGED_MUNMAP}`, `${KEY} 5000 0 100 100 exit code=0x0 group_dead=1`, END]);
    expect(events.map((event) => event.kind)).toEqual(['mmap', 'lost', 'thread-exit']);
    expect(diagnostics.map((diagnostic) => [diagnostic.place.line, diagnostic.reason])).toEqual([
      [3, "not printed by orphanmap.bt: it lacks the capture's key"],
      [5, "not printed by orphanmap.bt: it lacks the capture's key"],
    ]);
    expect(reader.shape.unkeyed).toBe(2);
    expect(reader.warnings()).toContainEqual(expect.stringContaining("2 line(s) without the capture's key, and not the rest of a file name, were left out"));
    // Something else than the script wrote into the trace: no verdict passes it.
    expect(reader.damage()).toBe("trace.txt: 2 line(s) without the capture's key are in the trace: something else than orphanmap.bt wrote into it");
  });

  it('says a record whose path never ended was cut, and reads the line of the script that came instead', () => {
    const cut = `${KEY} 2000 0 100 100 unlink sys=unlink ret=0 dfd=-100 flags=0x0 ens=1990 path=/tmp/half`;
    const { events, diagnostics, reader } = read([HEADER, cut, 'name', MMAP, cut]);
    expect(events.map((event) => event.kind)).toEqual(['mmap']);
    expect(diagnostics.map((diagnostic) => diagnostic.place.line)).toEqual([2, 5]);
    expect(diagnostics[0]!.reason).toContain('a record whose path never ended with the capture');
    expect(reader.warnings()).toContainEqual(expect.stringContaining("2 record(s) whose path never ended with the capture's key were left out"));
    expect(reader.damage()).toContain('2 record(s) of orphanmap.bt were cut short');
  });

  it("takes no key from a header after the first, and warns of a hand-run script's zeros", () => {
    const forged = read([HEADER.replace(KEY, '0000000000000000'), `1111111111111111 orphanmap-bt 2 begin ns=1 cpu=0 self=1 root=1 cpus=64 stopper=1`, MMAP.replace(KEY, '0000000000000000')]);
    expect(forged.events.map((event) => event.kind)).toEqual(['mmap']);
    expect(forged.diagnostics.map((diagnostic) => diagnostic.place.line)).toEqual([2]);
    expect(forged.reader.warnings()).toContainEqual(expect.stringContaining("the trace's key is zeros (orphanmap.bt run by hand"));
  });

  it('is told from other input by its first line', () => {
    expect(looksLikeBpftrace([HEADER])).toBe(true);
    expect(looksLikeBpftrace([MMAP])).toBe(true);
    expect(looksLikeBpftrace([`${KEY} is not a trace`])).toBe(false);
  });
});

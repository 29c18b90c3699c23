// Review 2, D4: names bpftrace cut at BPFTRACE_STRLEN-1 bytes (199) are
// matched with no other (src/engine/cut-names.ts). Synthetic orphanmap.bt
// records, through the real reader and engine; the real capture is
// test/capture-cut-names.test.ts.
import { describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../src/engine/engine.js';
import type { Finding } from '../src/engine/findings.js';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import { nameTag } from '../src/parse/bpftrace-dirs.js';
import type { OpenEvent } from '../src/parse/events.js';
import { readLines } from './support/trace-text.js';

const PID = 100;
/** A directory whose files' absolute paths bpftrace cuts: every one prints as CUT. */
const DIR = `/d/${'x'.repeat(200)}`;
const CUT = DIR.slice(0, 199);

/** Records of process PID, one a line after the header (line 1), stamped 10, 11, …; those of an array share a stamp (a rename's two records). */
function trace(...records: (string | string[])[]): string {
  const lines = records.flatMap((record, index) => (Array.isArray(record) ? record : [record]).map((text) => `${10 + index} 0 ${PID} ${PID} ${text}`));
  return ['orphanmap-bt 1 begin ns=1 cpu=0 self=1 root=100', ...lines, '999 0 0 0 end'].join('\n');
}

const open = (fd: number, ino: number, path: string) => `open sys=openat ret=${fd} dfd=-100 flags=0x2 ino=${ino} dev=1 path=${path}`;
const mmap = (address: number, fd: number, ino: number, nlink: number) =>
  `mmap ret=0x${address.toString(16)} addr=0x0 len=8192 prot=0x3 flags=0x1 fd=${fd} off=0x0 ens=1 mm=0x1 ino=${ino} dev=1 nlink=${nlink}`;
const close = (fd: number) => `close fd=${fd} ret=0 ens=1`;
const unlink = (path: string) => `unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=${path}`;
const ftruncate = (fd: number, ino: number, nlink: number) => `ftruncate fd=${fd} len=8192 ret=0 ino=${ino} dev=1 nlink=${nlink}`;
const A = 0x7f0000000000;
const B = 0x7f0000010000;

function analyze(text: string, options: EngineOptions = {}): { findings: readonly Finding[]; warnings: readonly string[] } {
  const { events } = readLines(new BpftraceReader('trace.txt'), text);
  const engine = new Engine(options);
  for (const event of events) engine.apply(event);
  engine.finish();
  return { findings: engine.findings(), warnings: engine.assumptions() };
}

const doubtOf = (warnings: readonly string[]) => warnings.find((text) => text.startsWith('bpftrace cut paths at the length it prints'));

describe('names bpftrace cut', () => {
  it('the review: an unlink of a never-mapped file whose name printed as two mapped files’ is tied to neither; the warning names both mappings', () => {
    const { findings, warnings } = analyze(trace(open(3, 10, CUT), mmap(A, 3, 10, 1), close(3), open(3, 11, CUT), mmap(B, 3, 11, 1), close(3), open(3, 12, CUT), close(3), unlink(CUT)));
    expect(findings).toEqual([]);
    const doubt = doubtOf(warnings);
    expect(doubt).toContain(`process ${PID}'s of ${CUT} at 0x${A.toString(16)} (mapped at trace.txt:3): trace.txt:10`);
    expect(doubt).toContain(`process ${PID}'s of ${CUT} at 0x${B.toString(16)} (mapped at trace.txt:6): trace.txt:10`);
  });

  it('a later link count of 1 or more says the file kept a name: its doubt goes', () => {
    const { findings, warnings } = analyze(trace(open(3, 10, CUT), mmap(A, 3, 10, 1), open(4, 11, CUT), mmap(B, 4, 11, 1), unlink(CUT), ftruncate(3, 10, 1)));
    expect(findings).toEqual([]);
    const doubt = doubtOf(warnings);
    expect(doubt).not.toContain(`0x${A.toString(16)}`);
    expect(doubt).toContain(`0x${B.toString(16)}`);
  });

  it('a later link count of 0 says the file has no name left: its live mapping is an orphan, with no unlink, and a note that says why', () => {
    const { findings, warnings } = analyze(trace(open(3, 10, CUT), mmap(A, 3, 10, 1), unlink(CUT), unlink(CUT), ftruncate(3, 10, 0)));
    expect(findings.map((finding) => [finding.kind, finding.severity, finding.address, finding.unlinkedAt, finding.path])).toEqual([
      ['unlinked-while-mapped', 'error', `0x${A.toString(16)}`, null, CUT],
    ]);
    expect(findings[0]!.note).toBe(
      'No unlink in the trace can be tied to it: bpftrace cut its names, or names that may be its, at the length it prints (BPFTRACE_STRLEN). The ftruncate at trace.txt:6 shows it with no name left (link count 0), and the delay counts from there. ' +
        'The calls by names cut alike at trace.txt:4, trace.txt:5 may have removed its last name.',
    );
    expect(doubtOf(warnings)).toBeUndefined();
    // An mmap reports the link count too; the mapping it makes then, in the process whose mapping outlived the name, is the leak going on (review 9, R9-1).
    const viaMmap = analyze(trace(open(3, 10, CUT), mmap(A, 3, 10, 1), unlink(CUT), mmap(B, 3, 10, 0)));
    expect(viaMmap.findings.map((finding) => [finding.address, finding.severity, finding.unlinkedAt])).toEqual([
      [`0x${A.toString(16)}`, 'error', null],
      [`0x${B.toString(16)}`, 'error', null],
    ]);
  });

  it('a file whose names the trace follows lost them out of sight at a link count of 0 (review 9, R9-3: another process removed it)', () => {
    const { findings } = analyze(trace(open(3, 10, '/d/short.map'), mmap(A, 3, 10, 1), ftruncate(3, 10, 0)));
    expect(findings.map((finding) => [finding.address, finding.severity, finding.unlinkedAt, finding.resolution])).toEqual([[`0x${A.toString(16)}`, 'error', null, 'still-mapped']]);
  });

  it('a cut name that a whole name of the same file begins with is that name: the unlink of the whole name is of its last', () => {
    // Opened as f.map in DIR (a whole name), then by its absolute path, cut.
    const { findings, warnings } = analyze(trace(open(3, 10, 'f.map'), mmap(A, 3, 10, 1), open(4, 10, CUT), close(4), unlink('f.map')), { rootPid: PID, rootCwd: DIR });
    expect(findings.map((finding) => [finding.address, finding.path, finding.unlinkedAt?.line])).toEqual([[`0x${A.toString(16)}`, `${DIR}/f.map`, 6]]);
    expect(doubtOf(warnings)).toBeUndefined();
  });

  it('a cut name the whole names do not begin with is another name: the unlink of the whole one is not of the last, and a warning says so', () => {
    const { findings, warnings } = analyze(trace(open(3, 10, '/d/short.map'), mmap(A, 3, 10, 1), open(4, 10, CUT), close(4), unlink('/d/short.map')));
    expect(findings).toEqual([]);
    expect(doubtOf(warnings)).toContain(`process ${PID}'s of /d/short.map at 0x${A.toString(16)} (mapped at trace.txt:3): trace.txt:6`);
  });

  it('a link or a rename to a cut name leaves the file a name; an unlink by a name cut alike may have removed it', () => {
    const link = [`link.old path=/d/short.map`, `link sys=link ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=${CUT}`];
    const linked = analyze(trace(open(3, 10, '/d/short.map'), mmap(A, 3, 10, 1), link, unlink('/d/short.map'), unlink(CUT)));
    expect(linked.findings).toEqual([]);
    expect(doubtOf(linked.warnings)).toContain(`process ${PID}'s of /d/short.map at 0x${A.toString(16)} (mapped at trace.txt:3): trace.txt:6, trace.txt:7`);
    const rename = [`rename.old path=/d/short.map`, `rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=${CUT}`];
    const renamed = analyze(trace(open(3, 10, '/d/short.map'), mmap(A, 3, 10, 1), rename, unlink(CUT)));
    expect(renamed.findings).toEqual([]);
    expect(doubtOf(renamed.warnings)).toContain(`process ${PID}'s of /d/short.map at 0x${A.toString(16)} (mapped at trace.txt:3): trace.txt:6`);
  });

  it('a chdir to a cut path leaves the working directory unknown: names relative to it are not made absolute with a cut one', () => {
    const { findings, warnings } = analyze(trace(`chdir ret=0 path=${CUT}`, open(3, 10, 'f.map'), mmap(A, 3, 10, 1), unlink(`${CUT}/f.map`)), { rootPid: PID, rootCwd: '/d' });
    expect(findings).toEqual([]);
    expect(warnings.some((text) => text.includes('relative to a working directory the trace never shows (the first: f.map'))).toBe(true);
  });
});

describe('reading paths as long as bpftrace prints them', () => {
  /** `dir` records for /aaa…/bbb…/ccc… (60 bytes each), and an open in it with dir= for `name`. */
  function inDeepDirectory(given: string, name: string): OpenEvent {
    const parts = ['a', 'b', 'c'].map((letter) => letter.repeat(60));
    const dirs = parts.map((part, index) => `dir id=0x${index + 1}000000 up=0x${index === 0 ? '0' : `${index}000000`} len=60 name=${Buffer.from(part).toString('hex')}${'00'.repeat(4)}`);
    const bytes = Buffer.from(name);
    const ref = (3n << 24n) | (BigInt(nameTag(bytes)) << 8n) | BigInt(bytes.length);
    const { events } = readLines(new BpftraceReader('trace.txt'), trace(...dirs, `open sys=openat ret=3 dfd=-100 flags=0x2 ino=10 dev=1 dir=0x${ref.toString(16)} path=${given}`));
    return events.find((event): event is OpenEvent => event.kind === 'open')!;
  }
  const deep = `/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}/`;

  it('takes a path of 199 bytes whose last component is the whole name (length and tag from dir=) as whole', () => {
    const whole = `${deep}${'f'.repeat(199 - deep.length)}`;
    expect(Buffer.byteLength(whole)).toBe(199);
    const event = inDeepDirectory(whole, whole.slice(deep.length));
    expect(event.resolvedHint).toBe(whole);
    expect(event.pathCut).toBeUndefined();
  });

  it('marks a path of 199 bytes cut when the name dir= describes is longer', () => {
    const printed = `${deep}${'f'.repeat(199 - deep.length)}`;
    const event = inDeepDirectory(printed, `${printed.slice(deep.length)}.index`);
    expect(event.resolvedHint).toBeUndefined();
    expect(event.pathCut).toBe(true);
  });
});

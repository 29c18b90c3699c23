// An event whose text is not its physical line as the input has it (a line
// cut by a "strace: Process N attached" message and joined again, a second \r
// taken off) must say so (EventBase.rebuilt): the evidence then keeps its
// text, not the place of a line that reads back as something else. The
// length of the line is no guard: the piece after the cut can be exactly as
// long as the message, and then the place reads back the cut line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { type ParseOutput, StraceReader } from '../src/parse/strace.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-rebuilt-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PID = 4242;
const MESSAGE = 'strace: Process 4243 attached';

/** Each followed call of a file's life, one line each; the mmap is the one cut. */
function callLines(): string[] {
  return [
    `${PID} 1795606335.100001 execve("/usr/bin/java", ["java"], 0x7ffd3c2e1a08 /* 3 vars */) = 0 <0.000100>`,
    `${PID} 1795606335.100002 openat(AT_FDCWD, "/tmp/kafka/0.index", O_RDWR|O_CREAT, 0666) = 5 <0.000020>`,
    `${PID} 1795606335.100003 ftruncate(5, 10485760) = 0 <0.000010>`,
    `${PID} 1795606335.100004 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000 <0.000010>`,
    `${PID} 1795606335.100005 close(5) = 0 <0.000004>`,
    `${PID} 1795606335.100006 unlink("/tmp/kafka/0.index") = 0 <0.000012>`,
  ];
}

/** The trace with the mmap line cut by MESSAGE so that its second piece is `rest` characters long. */
function cutTrace(rest: number): { text: string; mmap: string } {
  const lines = callLines();
  const mmap = lines[3]!;
  const cut = mmap.length - rest;
  lines.splice(3, 1, `${mmap.slice(0, cut)}${MESSAGE}`, mmap.slice(cut));
  return { text: `${lines.join('\n')}\n`, mmap };
}

async function mmapEvidence(text: string): Promise<string[]> {
  const path = join(scratch, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(path, text);
  const analysis = await analyze([path]);
  const findings = analysis.engine.findings();
  expect(findings.length).toBe(1);
  return findings[0]!.evidence.map((line) => line.text).filter((line) => line.includes('mmap('));
}

describe('an event read from a rebuilt line', () => {
  it('says so, whatever call it is', () => {
    const { text } = cutTrace(MESSAGE.length);
    const reader = new StraceReader('t');
    const out: ParseOutput[] = [];
    const lines = text.split('\n').slice(0, -1);
    for (const [k, line] of lines.entries()) reader.push(line, k + 1, out);
    const events = out.flatMap((output) => (output.type === 'event' ? [output.event] : []));
    expect(events.map((event) => [event.kind, event.rebuilt])).toEqual([
      ['exec', undefined],
      ['open', undefined],
      ['truncate', undefined],
      ['mmap', true],
      ['close', undefined],
      ['unlink', undefined],
    ]);
  });

  it('is kept as its text when the piece after the cut is as long as the message', async () => {
    const { text, mmap } = cutTrace(MESSAGE.length);
    expect(await mmapEvidence(text)).toEqual([mmap]);
  });

  it('is kept as its text when the pieces’ lengths differ', async () => {
    const { text, mmap } = cutTrace(MESSAGE.length + 7);
    expect(await mmapEvidence(text)).toEqual([mmap]);
  });

  it('is kept as its text when a second \\r was taken off', async () => {
    const lines = callLines();
    const mmap = lines[3]!;
    lines[3] = `${mmap}\r\r`;
    expect(await mmapEvidence(`${lines.join('\n')}\n`)).toEqual([mmap]);
  });
});

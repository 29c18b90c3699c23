// A keyed bpftrace capture's evidence (format 2): "KEY " starts every line
// the script prints and " KEY" ends every record with a path, and the reader
// takes both off. A finding's evidence lines are kept as their places in the
// trace, with the key left out, and read back when a report asks (issue #14,
// goal 3: kept as text, a bpftrace capture's evidence grew with every
// finding). The truth is the trace file itself: each evidence line must be
// its physical line with the key cut off by plain string operations here.
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvidenceLine, Finding } from '../src/engine/findings.js';
import { analyze } from '../src/ingest/analyze.js';
import { REPO } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-evidence-keyed-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A real capture (test/fixtures/ci34-rename-stalled): a renamer and two readers under bpftrace, renames printed as two records. */
const REAL = join(REPO, 'test', 'fixtures', 'ci34-rename-stalled', 'bundle', 'trace.txt');

const KEY = '3f0c5e9a1b2d4c67';
/** Records shaped as scripts/orphanmap.bt prints them: a file named with a newline, mapped, renamed and unlinked while mapped. */
const NEWLINE_NAME = [
  'Attaching 86 probes...',
  `${KEY} orphanmap-bt 2 begin ns=1000 cpu=0 self=900 root=100 cpus=1 stopper=0`,
  `${KEY} 2000 0 100 100 open sys=openat ret=3 dfd=-100 flags=0x2 ino=7 dev=9 path=/data/two`,
  `lines.index ${KEY}`,
  `${KEY} 3000 0 100 100 mmap ret=0x7f0000000000 addr=0x0 len=4096 prot=0x3 flags=0x1 fd=3 off=0x0 ens=2900 mm=0x1 ino=7 dev=9 nlink=1`,
  `${KEY} 3500 0 100 100 close fd=3 ret=0 ens=3490`,
  `${KEY} 3600 0 100 100 rename.old path=/data/two`,
  `lines.index ${KEY}`,
  `${KEY} 3600 0 100 100 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 ens=3590 path=/data/two.deleted ${KEY}`,
  `${KEY} 4000 0 100 100 unlink sys=unlink ret=0 dfd=-100 flags=0x0 ino=7 dev=9 nlink=0 ens=3990 path=/data/two.deleted ${KEY}`,
  `${KEY} 9000 0 0 0 end`,
];

/**
 * The physical line `lineNo` of the trace as the script printed its part of a
 * record: without the key that starts a line of the script's, nor the key
 * that ends a record's path (a line with path=, or the rest of a path).
 */
function withoutKey(text: string, lineNo: number): string {
  const key = /^([0-9a-f]{16}) orphanmap-bt /m.exec(text)![1]!;
  let line = text.split('\n')[lineNo - 1]!;
  const keyed = line.startsWith(`${key} `);
  if (keyed) line = line.slice(key.length + 1);
  if ((!keyed || line.includes(' path=')) && line.endsWith(` ${key}`)) line = line.slice(0, -(key.length + 1));
  return line;
}

/**
 * Writes an X over the first character of each evidence line's text, in place
 * (the same file, the same length): evidence kept as places reads the X back,
 * a text kept as the trace was read would not.
 */
function markInPlace(path: string, lines: readonly EvidenceLine[]): void {
  const bytes = readFileSync(path);
  const starts = [0];
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) starts.push(at + 1);
  const fd = openSync(path, 'r+');
  for (const line of lines) {
    const physical = bytes.subarray(starts[line.line - 1]!, starts[line.line]! - 1);
    writeSync(fd, 'X', starts[line.line - 1]! + physical.indexOf(Buffer.from(line.text)));
  }
  closeSync(fd);
}

/** Evidence as read again, once the task that last read the trace (and kept it open) has ended. */
async function readAgain(analysis: Awaited<ReturnType<typeof analyze>>, findings: readonly Finding[]): Promise<EvidenceLine[]> {
  await new Promise((done) => setImmediate(done));
  return findings.flatMap((finding) => analysis.engine.evidenceOf(finding));
}

/**
 * The time evidence shows for physical line `lineNo`: its record's ns less the
 * header's, in seconds to the nearest µs (a rename's second record has its first's ns).
 */
function timeOf(text: string, lineNo: number): string {
  const begin = BigInt(/ orphanmap-bt 2 begin ns=(\d+) /.exec(text)![1]!);
  const lines = text.split('\n');
  let at = lineNo - 1;
  // A line of a name's rest has its record's time: the record began on an earlier line.
  while (!/^[0-9a-f]{16} \d+ /.test(lines[at]!)) at--;
  const ns = BigInt(lines[at]!.split(' ')[1]!) - begin;
  return `${ns < 0n ? '-' : '+'}${(Number(ns < 0n ? -ns : ns) / 1e9).toFixed(6)}`;
}

async function evidenceOf(path: string) {
  const analysis = await analyze([path]);
  const findings = analysis.engine.findings();
  return { analysis, findings, lines: findings.flatMap((finding) => analysis.engine.evidenceOf(finding)) };
}

describe('evidence of a keyed bpftrace capture', () => {
  it('is each physical line without the key, a name of two lines and a rename of two records included', async () => {
    const path = join(scratch, 'newline.txt');
    writeFileSync(path, `${NEWLINE_NAME.join('\n')}\n`);
    const { findings, lines } = await evidenceOf(path);
    expect(findings).toHaveLength(1);
    const text = readFileSync(path, 'utf8');
    // The open (two lines), the mmap, the close, the rename (two records of two and one lines) and the unlink.
    expect(lines.map((line) => line.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    for (const line of lines) expect(line).toMatchObject({ text: withoutKey(text, line.line), time: timeOf(text, line.line) });
    expect(lines.find((line) => line.line === 4)!.text).toBe('lines.index');
  });

  it('of a real capture: every finding, each line as the trace has it, read again from the trace', async () => {
    const path = join(scratch, 'real.txt');
    copyFileSync(REAL, path);
    const { analysis, findings, lines } = await evidenceOf(path);
    expect(findings.length).toBeGreaterThan(0);
    const text = readFileSync(path, 'utf8');
    expect(lines.length).toBeGreaterThan(findings.length);
    for (const line of lines) expect(line).toMatchObject({ text: withoutKey(text, line.line), time: timeOf(text, line.line) });
    markInPlace(path, lines);
    expect((await readAgain(analysis, findings)).map((line) => line.text)).toEqual(lines.map((line) => `X${line.text.slice(1)}`));
  });
});

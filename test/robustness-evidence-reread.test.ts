// Evidence is kept as the places of its lines in the input and read again when
// a report asks (issue #14, goal 3). The places must be right wherever the
// input's chunks fall: inside a multibyte UTF-8 character, between \r and \n,
// and for a call cut into an unfinished line and its resume. The expected
// text is the input's own line, taken from its bytes here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { LineSplitter } from '../src/ingest/lines.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-reread-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The input's lines as a reader of its bytes sees them: split on \n, one \r before it dropped. */
function linesOf(bytes: Buffer): string[] {
  return linesOfText(bytes.toString('utf8'));
}

function linesOfText(text: string): string[] {
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

const PID = 4242;
const HELPER = 4243;

/**
 * A JVM-like trace with CRLF line ends, files named in UTF-8 (2, 3 and 4-byte
 * characters), each opened by an unfinished call that resumes after another
 * thread's line, resized and mapped again without an unmap, then unlinked:
 * two findings per file. Lines of UTF-8 noise between them, so that 256 KiB
 * reads end inside characters.
 */
function utf8Trace(files: number): Buffer {
  const lines: string[] = [];
  let us = 1795606335_100000;
  const at = () => {
    us += 7;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  };
  lines.push(`${PID} ${at()} execve("/usr/bin/java", ["java"], 0x7ffd3c2e1a08 /* 3 vars */) = 0 <0.000100>`);
  for (let k = 0; k < files; k++) {
    const name = `/tmp/données-€/😀-índex-${k}.index`;
    const first = (0x7f0000000000 + k * 0x2000000).toString(16);
    const second = (0x7f0001000000 + k * 0x2000000).toString(16);
    lines.push(`${PID} ${at()} openat(AT_FDCWD, "${name}", O_RDWR|O_CREAT, 0666 <unfinished ...>`);
    lines.push(`${HELPER} ${at()} write(1, "ça coûte 5 € — 😀 ok", 27) = 27 <0.000005>`);
    lines.push(`${PID} ${at()} <... openat resumed>) = 5 <0.000020>`);
    lines.push(`${PID} ${at()} ftruncate(5, 10485760) = 0 <0.000010>`);
    lines.push(`${PID} ${at()} mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x${first} <0.000010>`);
    lines.push(`${PID} ${at()} ftruncate(5, 4096 <unfinished ...>`);
    lines.push(`${HELPER} ${at()} futex(0x7f3a10001f88, FUTEX_WAKE_PRIVATE, 1) = 0 <0.000004>`);
    lines.push(`${PID} ${at()} <... ftruncate resumed>) = 0 <0.000030>`);
    lines.push(`${PID} ${at()} mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x${second} <0.000010>`);
    lines.push(`${PID} ${at()} close(5) = 0 <0.000004>`);
    for (let n = 0; n < 40; n++) lines.push(`${HELPER} ${at()} write(1, "ünïcödé ñøïsé ${n} ✓ 日本語 𝄞", 40) = 40 <0.000003>`);
    lines.push(`${PID} ${at()} unlink("${name}") = 0 <0.000012>`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

describe('evidence read again from the input', () => {
  it('gives back the input’s own lines: UTF-8 names, CRLF, unfinished and resumed calls, across read chunks', async () => {
    const files = 300;
    const bytes = utf8Trace(files);
    expect(bytes.length).toBeGreaterThan(3 * 256 * 1024);
    const path = join(scratch, 'utf8.txt');
    writeFileSync(path, bytes);
    const inputLines = linesOf(bytes);
    const analysis = await analyze([path]);
    const findings = analysis.engine.findings();
    expect(findings.length).toBe(3 * files);
    let resumed = 0;
    for (const finding of findings) {
      const evidence = finding.evidence;
      expect(evidence.length).toBeGreaterThanOrEqual(8);
      for (const line of evidence) {
        expect(line.file).toBe(path);
        expect(line.text).toBe(inputLines[line.line - 1]);
        // The time shown is the one printed on that very line.
        expect(line.time).toBe(line.text.split(' ')[1]);
        expect(line.tid).toBe(PID);
        if (line.text.includes('resumed>')) resumed++;
      }
      expect(evidence.some((line) => line.text.includes('😀-índex'))).toBe(true);
    }
    expect(resumed).toBeGreaterThanOrEqual(3 * 2 * files);
  }, 60_000);

  it('the line source gives each line’s byte offset and length wherever the chunks fall', () => {
    // '\xff' and '\xc3' are written as those bytes, alone: no part of UTF-8 (0xc3 starts a character the next piece never ends).
    const bytesAlone = ['\xff', '\xc3'];
    const pieces = ['abc', 'é', '€', '😀', '\r\n', '\n', '\r', ' ', 'strace', '\u2028', ...bytesAlone];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
        // A byte alone is read as U+DC00 plus the byte (review 27, F5), so its line cannot be read back as UTF-8.
        const alone = (part: string) => bytesAlone.includes(part);
        const bytes = Buffer.concat(parts.map((part) => (alone(part) ? Buffer.from([part.charCodeAt(0)]) : Buffer.from(part, 'utf8'))));
        const text = parts.map((part) => (alone(part) ? String.fromCharCode(0xdc00 | part.charCodeAt(0)) : part)).join('');
        const seen: { text: string; offset: number; bytes: number }[] = [];
        const splitter = new LineSplitter({ line: (text, _no, offset, length) => seen.push({ text, offset, bytes: length }), longLine: () => undefined }, 'the input');
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const point of [...points, bytes.length]) {
          if (point > from) splitter.write(bytes.subarray(from, point));
          from = Math.max(from, point);
        }
        splitter.end();
        expect(seen.map((line) => line.text)).toEqual(linesOfText(text).slice(0, seen.length));
        for (const line of seen) {
          if (line.bytes < 0) {
            expect(line.text).toMatch(/[\udcff\udcc3]/u);
            continue;
          }
          expect(bytes.subarray(line.offset, line.offset + line.bytes).toString('utf8')).toBe(line.text);
          // The line ends at a \n, a \r\n, or the end of the input.
          const after = bytes.subarray(line.offset + line.bytes, line.offset + line.bytes + 2).toString('latin1');
          expect(after === '' || after.startsWith('\n') || after === '\r\n' || (after === '\r' && line.offset + line.bytes + 1 === bytes.length)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

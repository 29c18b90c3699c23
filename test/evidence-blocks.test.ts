// Evidence lines are read again through the blocks of the input read last
// (ingest/evidence.ts's RecentBlocks: 2 MiB for all inputs, a block in the
// slot of its index). Whatever was read before, a line must read as a fresh
// read of the input gives it: across block ends, longer than a block, after
// its slot went to another block or another input, and from the file as it
// is in the task that reads it (changed in place: its new bytes; replaced:
// refused, as always).
import { mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { analyze } from '../src/ingest/analyze.js';
import { prng } from './support/generate-trace.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-evidence-blocks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const nextTask = () => new Promise((resolve) => setImmediate(resolve));

/**
 * `files` files opened, mapped, closed and unlinked, their lives interleaved
 * in a shuffled order with lines of noise of every length between, so that a
 * finding's lines lie far apart, lines end across 16 KiB block ends, and some
 * names (so some evidence lines) are longer than a block. `letter` fills the
 * names: two traces of the same shape differ only by it. UTF-8 in every name.
 */
function trace(files: number, seed: number, letter: string): Buffer {
  const next = prng(seed);
  let us = 1795606335_100000;
  const at = () => {
    us += 11;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  };
  const names = Array.from({ length: files }, (_, k) => `/data/é-${k}/${letter.repeat(k % 17 === 0 ? 17_000 + k : 20 + Math.floor(next() * 400))}-😀.index`);
  const steps: string[][] = names.map((name, k) => [
    `openat(AT_FDCWD, "${name}", O_RDWR|O_CREAT, 0644) = ${k + 10}`,
    `mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, ${k + 10}, 0) = 0x${(0x7f0000000000 + k * 0x100000).toString(16)}`,
    `close(${k + 10}) = 0`,
    `unlink("${name}") = 0`,
  ]);
  const lines = [`11020 ${at()} execve("/usr/bin/java", ["java"], 0x7ffd3c2e1a08 /* 3 vars */) = 0`];
  const pending = steps.map((_, k) => k);
  while (pending.length > 0) {
    const pick = Math.floor(next() * Math.min(pending.length, 40));
    const k = pending[pick]!;
    lines.push(`11020 ${at()} ${steps[k]!.shift()}`);
    if (steps[k]!.length === 0) pending.splice(pick, 1);
    for (let noise = Math.floor(next() * 4); noise > 0; noise--) lines.push(`11021 ${at()} write(1, "${'ñ'.repeat(Math.floor(next() * 3000))}", 9) = 9`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** Each line's bytes in the input, as a fresh read of `bytes` gives them. */
function lineBytes(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(0x0a, start);
    lines.push(bytes.subarray(start, end < 0 ? bytes.length : end));
    start = end < 0 ? bytes.length : end + 1;
  }
  return lines;
}

function expectFreshLines(finding: Finding, lines: readonly Buffer[]): void {
  const evidence = finding.evidence;
  expect(evidence.length).toBe(4);
  for (const line of evidence) expect(line.text).toBe(lines[line.line - 1]!.toString('utf8'));
}

describe('evidence read again through the blocks read last', () => {
  it('gives every line as a fresh read does, in the report order, in reverse and at random, over more than the blocks kept', async () => {
    const bytes = trace(1500, 1, 'a');
    expect(bytes.length).toBeGreaterThan(4 * 1024 * 1024);
    const path = join(scratch, 'big.txt');
    writeFileSync(path, bytes);
    const lines = lineBytes(bytes);
    const analysis = await analyze([path]);
    const findings = analysis.engine.findings();
    expect(findings.length).toBe(1500);
    // Lines longer than a block are among them.
    expect(findings.some((finding) => finding.evidence.some((line) => Buffer.byteLength(line.text) > 16 * 1024))).toBe(true);
    const next = prng(7);
    const shuffled = findings.map((finding) => ({ finding, key: next() })).sort((a, b) => a.key - b.key);
    for (const finding of findings) expectFreshLines(finding, lines);
    for (const finding of [...findings].reverse()) expectFreshLines(finding, lines);
    for (const { finding } of shuffled) expectFreshLines(finding, lines);
  }, 60_000);

  it('gives lines that start or end a few bytes either side of a block end as they are', async () => {
    const BLOCK = 16 * 1024;
    const lines = [`11020 1795606335.000001 execve("/usr/bin/java", ["java"], 0x7ffd3c2e1a08 /* 3 vars */) = 0`];
    let bytes = Buffer.byteLength(`${lines[0]}\n`);
    const add = (line: string) => {
      lines.push(line);
      bytes += Buffer.byteLength(line) + 1;
    };
    let k = 0;
    for (let delta = -4; delta <= 4; delta++) {
      for (const which of ['openat', 'newline'] as const) {
        const name = `/data/edge-${k}/0.index`;
        const open = `11020 1795606335.${String(100000 + k).padStart(6, '0')} openat(AT_FDCWD, "${name}", O_RDWR|O_CREAT, 0644) = 5`;
        // Noise up to where the openat line (or the newline after it) ends `delta` bytes from the next block's end.
        const boundary = (Math.floor(bytes / BLOCK) + 2) * BLOCK;
        const wanted = boundary + delta - (which === 'openat' ? Buffer.byteLength(open) : Buffer.byteLength(open) + 1);
        const head = '11021 1795606335.000002 write(1, "';
        const tail = '", 9) = 9';
        add(`${head}${'x'.repeat(wanted - bytes - 1 - head.length - tail.length)}${tail}`);
        expect(bytes + Buffer.byteLength(open) + (which === 'openat' ? 0 : 1)).toBe(boundary + delta);
        add(open);
        add(`11020 1795606335.${String(100000 + k).padStart(6, '0')} mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x${(0x7f0000000000 + k * 0x100000).toString(16)}`);
        add('11020 1795606335.200000 close(5) = 0');
        add(`11020 1795606335.300000 unlink("${name}") = 0`);
        k++;
      }
    }
    const input = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const path = join(scratch, 'edges.txt');
    writeFileSync(path, input);
    const analysis = await analyze([path]);
    expect(analysis.engine.findings().length).toBe(k);
    for (const finding of analysis.engine.findings()) expectFreshLines(finding, lineBytes(input));
  });

  it('gives each input its own lines when two inputs of the same shape take turns in the same slots', async () => {
    const first = trace(300, 2, 'a');
    const second = trace(300, 2, 'b');
    expect(second.length).toBe(first.length);
    const paths = [join(scratch, 'first.txt'), join(scratch, 'second.txt')];
    writeFileSync(paths[0]!, first);
    writeFileSync(paths[1]!, second);
    const [a, b] = await Promise.all(paths.map((path) => analyze([path])));
    const [linesA, linesB] = [lineBytes(first), lineBytes(second)];
    const findingsA = a!.engine.findings();
    const findingsB = b!.engine.findings();
    for (let k = 0; k < findingsA.length; k++) {
      expectFreshLines(findingsA[k]!, linesA);
      expectFreshLines(findingsB[k]!, linesB);
    }
  }, 60_000);

  it('reads a file changed in place anew in a later task, cut where it now ends; a file put at its name is never read', async () => {
    const bytes = trace(200, 3, 'a');
    const path = join(scratch, 'changed.txt');
    writeFileSync(path, bytes);
    const analysis = await analyze([path]);
    const findings = analysis.engine.findings();
    for (const finding of findings) expectFreshLines(finding, lineBytes(bytes));
    // Same file (same inode), other bytes of the same length: what a fresh read gives now.
    const changed = Buffer.from(bytes.toString('latin1').replace(/a/g, 'z'), 'latin1');
    writeFileSync(path, changed);
    await nextTask();
    for (const finding of findings) expectFreshLines(finding, lineBytes(changed));
    // Cut short in place: a line across the new end reads up to it, a line past it reads empty.
    const end = Math.floor(changed.length / 2);
    truncateSync(path, end);
    await nextTask();
    const starts = lineBytes(changed).map((line) => line.byteOffset - changed.byteOffset);
    for (const finding of findings) {
      for (const line of finding.evidence) {
        const start = starts[line.line - 1]!;
        const whole = lineBytes(changed)[line.line - 1]!;
        expect(line.text).toBe(changed.subarray(start, Math.max(start, Math.min(end, start + whole.length))).toString('utf8'));
      }
    }
    // Replaced by another file (the first bytes again): never read. The input is read through the
    // descriptor the analysis read it from (review 5), so the lines are still the cut file's.
    const cut = findings.map((finding) => finding.evidence.map((line) => line.text));
    writeFileSync(join(scratch, 'other.txt'), bytes);
    renameSync(join(scratch, 'other.txt'), path);
    await nextTask();
    expect(findings.map((finding) => finding.evidence.map((line) => line.text))).toEqual(cut);
  }, 60_000);
});

// Memory must not grow with the number of findings beyond the finding itself
// (issue #14, goal 3): a finding's evidence is its file's life, up to 48
// events, and a trace where every index trim leaks has a finding every few
// dozen lines. Kept as the events themselves (each with its raw line, ~900
// bytes), that was about 7 KiB a finding: 31,000 findings held 400 MiB.
// Kept as positions in the input, re-read when a report asks, an object per
// line (80 bytes), it was 2.2 KiB; as three numbers a line in one array per
// file, with the file's empty sets gone, its mapping's span in fields, flat
// strings and shared name lists, about 1.1 KiB: the finding itself, its file,
// the live mapping it is about and about 10 lines of evidence (24 bytes each).
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { heapAfterGc } from './support/heap.js';
import { generate } from './support/generate-trace.mjs';
import { analyze } from '../src/ingest/analyze.js';

const MiB = 1024 * 1024;

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-memory-findings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A filtered trace in which every index trim leaks and nothing unmaps the leak: bench's "leaky" trace. */
function leakyTrace(name: string, bytes: number): { path: string; findings: number } {
  const path = join(scratch, name);
  const fd = openSync(path, 'w');
  const options = { bytes, seed: 3, leakRate: 1, gcRate: 0, filtered: true, write: (text: string) => writeSync(fd, text) };
  const expected = generate(options);
  closeSync(fd);
  return { path, findings: expected.findings['remapped-without-unmap'] + expected.findings['unlinked-while-mapped'] };
}

/** The heap an analysis keeps alive once it is done: the heap after a full GC, with it and before it. */
async function heapKeptBy(path: string, findings: number): Promise<number> {
  const before = heapAfterGc();
  const analysis = await analyze([path]);
  const kept = heapAfterGc() - before;
  expect(analysis.engine.findings().length).toBe(findings);
  return kept;
}

describe('memory stays flat in the number of findings', () => {
  it('keeps under 1.4 KiB per finding, evidence included, between about 2,000 and 8,000 findings (was 6.9 KiB, then 2.2)', async () => {
    const few = leakyTrace('leaky-5.txt', 5 * MiB);
    const many = leakyTrace('leaky-20.txt', 20 * MiB);
    expect(few.findings).toBeGreaterThan(1500);
    expect(many.findings).toBeGreaterThan(6000);
    const keptByFew = await heapKeptBy(few.path, few.findings);
    const keptByMany = await heapKeptBy(many.path, many.findings);
    const perFinding = (keptByMany - keptByFew) / (many.findings - few.findings);
    expect(perFinding, `kept ${keptByFew} bytes for ${few.findings} findings, ${keptByMany} for ${many.findings}`).toBeLessThan(1400);
  }, 120_000);

  // bt10's shape (a bpftrace capture of a renamer and its readers): every file is mapped, unlinked, unmapped and
  // closed, a finding each, and then nothing can reach it. Its finding kept the whole file (its inode, its set of
  // holders, the address space it leaked in); it keeps the file's evidence alone now. The files left are counted
  // in a heap snapshot: the heap per finding moves with what ran before in the same process (about 2,090 bytes
  // a finding here before, 1,480 to 1,650 after, and 1,880 before when run after the test above).
  it('lets go of the files of findings that nothing can reach any more: none is left on the heap, and each finding keeps under 1,850 bytes', async () => {
    const few = goneFilesTrace('gone-2000.txt', 2000);
    const many = goneFilesTrace('gone-8000.txt', 8000);
    const perFinding = ((await heapKeptBy(many, 8000)) - (await heapKeptBy(few, 2000))) / 6000;
    const analysis = await analyze([few]);
    expect(analysis.engine.findings()).toHaveLength(2000);
    expect(objectsNamed('FileNode')).toBeLessThan(10);
    // Its evidence is still there, read from the input: the open, mmap, unlink and munmap (the call that resolved it).
    expect(analysis.engine.findings()[1999]!.evidence.map((line) => line.line)).toEqual([9996, 9997, 9998, 9999]);
    expect(perFinding).toBeLessThan(1850);
  }, 120_000);
});

/** How many objects of the class `name` the heap holds (a heap snapshot's nodes of that name). */
function objectsNamed(name: string): number {
  const path = writeHeapSnapshot(join(scratch, 'heap.heapsnapshot'));
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  rmSync(path);
  const fields = snapshot.snapshot.meta.node_fields;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const objectType = snapshot.snapshot.meta.node_types[0].indexOf('object');
  let count = 0;
  for (let node = 0; node < snapshot.nodes.length; node += fields.length) {
    if (snapshot.nodes[node + typeAt] === objectType && snapshot.strings[snapshot.nodes[node + nameAt]!] === name) count++;
  }
  return count;
}

/** `count` files, each opened, mapped, unlinked by another process, unmapped and closed: an unlink-while-mapped finding each, resolved. */
function goneFilesTrace(name: string, count: number): string {
  const lines: string[] = [];
  let micros = 0;
  const time = () => `1700000000.${String(++micros).padStart(6, '0')}`;
  for (let k = 0; k < count; k++) {
    const file = `/d/${String(k).padStart(20, '0')}.index`;
    const address = `0x${(0x7f0000000000 + k * 0x2000).toString(16)}`;
    lines.push(
      `100 ${time()} openat(AT_FDCWD</d>, "${file}", O_RDWR|O_CREAT, 0644) = 3<${file}> <0.000010>`,
      `100 ${time()} mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3<${file}>, 0) = ${address} <0.000010>`,
      `101 ${time()} unlink("${file}") = 0 <0.000010>`,
      `100 ${time()} munmap(${address}, 8192) = 0 <0.000010>`,
      `100 ${time()} close(3<${file} (deleted)>) = 0 <0.000010>`,
    );
  }
  const path = join(scratch, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

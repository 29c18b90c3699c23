// Property tests at the edges where traces break: arbitrary bytes never crash
// the reader or the engine; where split2's chunks fall changes nothing; the
// order in which independent processes' lines interleave changes nothing.
// Each property is bounded (numRuns) so the whole file stays well under 20 s.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotATraceError } from '../src/errors.js';
import { generate } from './support/generate-trace.mjs';
import { Engine } from '../src/engine/engine.js';
import type { Finding } from '../src/engine/findings.js';
import { streamSource } from '../src/ingest/lines.js';
import type { Diagnostic } from '../src/parse/events.js';
import { StraceReader, type ParseOutput } from '../src/parse/strace.js';

/** ORPHANMAP_FUZZ_SCALE=50 npx vitest run test/robustness.test.ts: a longer hunt, off CI. */
const SCALE = Math.max(1, Number(process.env.ORPHANMAP_FUZZ_SCALE ?? 1));
const runs = (n: number) => ({ numRuns: Math.round(n * SCALE) });

/** The analyze pipeline minus the file system: lines → StraceReader → Engine. */
function runLines(lines: Iterable<string>): { findings: readonly Finding[]; diagnostics: Diagnostic[]; engine: Engine; lines: number } {
  const reader = new StraceReader('trace.txt');
  const engine = new Engine();
  const out: ParseOutput[] = [];
  const diagnostics: Diagnostic[] = [];
  const drain = () => {
    for (const item of out) {
      if (item.type === 'event') engine.apply(item.event);
      else if (item.type === 'diagnostic') diagnostics.push(item.diagnostic);
    }
    out.length = 0;
  };
  let lineNo = 0;
  for (const line of lines) {
    reader.push(line, ++lineNo, out);
    drain();
  }
  reader.end(out);
  drain();
  engine.finish();
  return { findings: engine.findings(), diagnostics, engine, lines: lineNo };
}

/** The same, but the bytes go through the real line source in the given chunks. */
async function runChunks(chunks: Buffer[]): Promise<ReturnType<typeof runLines>> {
  const source = streamSource('trace.txt', () => Readable.from(chunks, { objectMode: false }));
  const lines: string[] = [];
  await source.each((text) => lines.push(text));
  return runLines(lines);
}

function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  if (from < bytes.length) chunks.push(bytes.subarray(from));
  return chunks;
}

// ---- real lines to mutate -------------------------------------------------------

const TRACES = join(import.meta.dirname, '..', 'traces');
const realLines = (() => {
  const lines: string[] = [];
  for (const name of ['f-o-ttt-T-y', 'f-o-tt-yy-Y', 'f-stderr-tt', 'relative-r', 'fixed']) {
    try {
      const text = readFileSync(join(TRACES, name, 'trace.txt'), 'latin1');
      // Every line about files, plus a sample of the rest.
      text.split('\n').forEach((line, index) => {
        if (/openat|mmap|munmap|ftruncate|rename|unlink|close|clone|resumed|unfinished|\+\+\+|execve/.test(line) || index % 7 === 0) lines.push(line);
      });
    } catch {
      // A trace that is not there yet is not this file's concern.
    }
  }
  if (lines.length === 0) lines.push('5959 1795606335.394864 mmap(NULL, 24, PROT_READ|PROT_WRITE, MAP_SHARED, 4</d/0.index>, 0) = 0x7f99c6a29000 <0.000062>');
  return lines;
})();

/** A real line, then maybe cut, spliced, retagged, or sprinkled with junk. */
const mutatedLine = fc
  .record({
    base: fc.constantFrom(...realLines),
    other: fc.constantFrom(...realLines),
    op: fc.integer({ min: 0, max: 7 }),
    at: fc.nat(),
    junk: fc.string({ unit: 'binary', maxLength: 12 }),
    tid: fc.constantFrom('1', '11020', '11021', '99999999', '[pid 11021]', ''),
  })
  .map(({ base, other, op, at, junk, tid }) => {
    const p = at % (base.length + 1);
    switch (op) {
      case 0:
        return base;
      case 1:
        return base.slice(0, p);
      case 2:
        return base.slice(0, p) + other.slice(p % (other.length + 1));
      case 3:
        return base.slice(0, p) + junk + base.slice(p);
      case 4:
        return base.replace(/^\d+/, tid);
      case 5:
        return base.replace(/\) = .*$/, ' <unfinished ...>');
      case 6:
        return base.replace(/^(\S+ \S+ )(\w+)\(/, '$1<... $2 resumed>');
      default:
        return junk;
    }
  });

describe('any input never crashes the reader or the engine', () => {
  it('survives arbitrary strings, one per line', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { maxLength: 40 }), (lines) => {
        const result = runLines(lines);
        result.engine.stats();
      }),
      runs(300),
    );
  });

  it('survives mutated real lines: cut, spliced, retagged, unfinished without resume', () => {
    fc.assert(
      fc.property(fc.array(mutatedLine, { maxLength: 60 }), (lines) => {
        const result = runLines(lines);
        result.engine.stats();
        for (const finding of result.findings) result.engine.evidenceOf(finding);
      }),
      runs(400),
    );
  });

  it('survives arbitrary bytes through the line source: read, or refused as binary (NotATraceError), nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 8 }), async (bytes, at) => {
        await runChunks(cut(Buffer.from(bytes), at)).catch((error: unknown) => {
          if (!(error instanceof NotATraceError)) throw error;
        });
      }),
      runs(150),
    );
  });
});

// ---- chunking -----------------------------------------------------------------

/** What must not depend on chunk boundaries: every finding field and every diagnostic. */
function outcome(result: ReturnType<typeof runLines>): unknown {
  return { lines: result.lines, findings: JSON.parse(JSON.stringify(result.findings)), diagnostics: result.diagnostics };
}

describe('splitting the input into chunks anywhere gives identical results', () => {
  // A small realistic trace (Kafka-like, many threads, interleaved unfinished/resumed)
  // with a few nasty lines: a UTF-8 character in a path, CRLF, a bad line,
  // and an end in the middle of a line.
  let text = '';
  generate({ bytes: 48 * 1024, seed: 11, leakRate: 0.9, gcRate: 0.3, write: (chunk) => (text += chunk) });
  const nasty = [
    '24310 1795606340.000001 openat(AT_FDCWD</opt/kafka>, "/var/lib/kafka/data/café-0/00000000000000000000.index", O_RDWR|O_CREAT, 0666) = 900</var/lib/kafka/data/café-0/00000000000000000000.index> <0.000010>',
    '24310 1795606340.000002 ftruncate(900</var/lib/kafka/data/café-0/00000000000000000000.index>, 10485760) = 0 <0.000010>\r',
    '24310 1795606340.000003 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 900</var/lib/kafka/data/café-0/00000000000000000000.index>, 0) = 0x10000000 <0.000010>\r',
    '24310 1795606340.000004 ftruncate(900</var/lib/kafka/data/café-0/00000000000000000000.index>, 4096) = 0 <0.000010>',
    '24310 1795606340.000005 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 900</var/lib/kafka/data/café-0/00000000000000000000.index>, 0) = 0x20000000 <0.000010>',
    'garbage ✗ line with a 4-byte 🦀 character',
    '24310 1795606340.000006 unlink("/var/lib/kafka/data/café-0/00000000000000000000.index") = 0 <0.000010>',
    '24310 1795606340.000007 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0',
  ];
  const input = Buffer.from(`${text}${nasty.join('\n')}`);
  const baseline = outcome(runLines(input.toString('utf8').split('\n')));

  it('the baseline sees the nasty lines (sanity)', () => {
    const result = baseline as { findings: Finding[]; diagnostics: Diagnostic[] };
    expect(result.findings.some((finding) => finding.path.includes('café'))).toBe(true);
    expect(result.diagnostics.some((diagnostic) => diagnostic.text.includes('🦀'))).toBe(true);
  });

  it('one chunk, or cut anywhere, through the line source', async () => {
    expect(outcome(await runChunks([input]))).toEqual(baseline);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: input.length }), { minLength: 1, maxLength: 30 }), async (at) => {
        expect(outcome(await runChunks(cut(input, at)))).toEqual(baseline);
      }),
      runs(60),
    );
  });

  it('a multi-byte character split between two chunks', async () => {
    for (const marker of ['é', '🦀', '✗']) {
      const start = input.indexOf(Buffer.from(marker));
      for (let inside = 1; inside < Buffer.byteLength(marker); inside++) {
        expect(outcome(await runChunks(cut(input, [start + inside])))).toEqual(baseline);
      }
    }
  });

  it('CRLF split between \\r and \\n', async () => {
    const crlf = input.indexOf('\r\n');
    expect(outcome(await runChunks(cut(input, [crlf + 1])))).toEqual(baseline);
  });

  it('one byte per chunk around the end, which stops mid-line', async () => {
    const tail = input.length - 300;
    const points = Array.from({ length: 300 }, (_, k) => tail + k);
    expect(outcome(await runChunks(cut(input, points)))).toEqual(baseline);
  });
});

// ---- independent processes ------------------------------------------------------

interface ProcessPlan {
  pid: number;
  segments: { leaky: boolean; deleted: boolean; cut: boolean }[];
}

/**
 * The lines of one process (a leader and one worker thread) that maps index
 * files under its own directory, optionally leaking the pre-resize mapping.
 * Its lines only ever touch its own files, fds and addresses.
 */
function processLines(plan: ProcessPlan): string[] {
  const { pid } = plan;
  const worker = pid + 1;
  const lines: string[] = [];
  let clock = 1795606335_000000;
  const at = (tid: number, body: string) => {
    clock += 17;
    lines.push(`${tid} ${Math.floor(clock / 1e6)}.${String(clock % 1e6).padStart(6, '0')} ${body}`);
  };
  at(
    pid,
    `clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f0000001000, parent_tid=0x7f0000001000, exit_signal=0, stack=0x7f0000000000, stack_size=0xfffc0, tls=0x7f0000000f00} => {parent_tid=[${worker}]}, 88) = ${worker} <0.000020>`,
  );
  let address = 0x7f1000000000 + (pid % 1000) * 0x100000000;
  plan.segments.forEach((segment, k) => {
    const path = `/data/p${pid}/${String(k).padStart(20, '0')}.index`;
    const fd = 10 + k;
    const first = (address += 0x1000000);
    const second = (address += 0x1000000);
    const tid = k % 2 === 0 ? pid : worker;
    if (segment.cut) {
      at(tid, `openat(AT_FDCWD</data>, "${path}", O_RDWR|O_CREAT, 0666 <unfinished ...>`);
      at(tid, `<... openat resumed>) = ${fd}<${path}> <0.000050>`);
    } else at(tid, `openat(AT_FDCWD</data>, "${path}", O_RDWR|O_CREAT, 0666) = ${fd}<${path}> <0.000050>`);
    at(tid, `ftruncate(${fd}<${path}>, 10485760) = 0 <0.000010>`);
    at(tid, `mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, ${fd}<${path}>, 0) = 0x${first.toString(16)} <0.000010>`);
    if (!segment.leaky) at(tid, `munmap(0x${first.toString(16)}, 10485760) = 0 <0.000010>`);
    at(tid, `ftruncate(${fd}<${path}>, 4096) = 0 <0.000010>`);
    if (segment.cut) {
      at(tid, `mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, ${fd}<${path}>, 0 <unfinished ...>`);
      at(tid, `<... mmap resumed>) = 0x${second.toString(16)} <0.000010>`);
    } else at(tid, `mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, ${fd}<${path}>, 0) = 0x${second.toString(16)} <0.000010>`);
    at(tid, `close(${fd}<${path}>) = 0 <0.000010>`);
    if (segment.deleted) {
      at(tid, `rename("${path}", "${path}.deleted") = 0 <0.000010>`);
      at(tid, `munmap(0x${second.toString(16)}, 4096) = 0 <0.000010>`);
      at(tid, `unlink("${path}.deleted") = 0 <0.000010>`);
    }
  });
  return lines;
}

/** What a finding says about its process, without line numbers or ids (reordering moves lines). */
function comparable(findings: readonly Finding[], pid: number): unknown[] {
  return findings
    .filter((finding) => finding.pid === pid)
    .map((finding) => ({
      kind: finding.kind,
      path: finding.path,
      names: finding.names,
      address: finding.address,
      length: finding.length,
      resolution: finding.resolution,
      newAddress: finding.newAddress,
      delayMs: finding.delayMs,
      mappedAt: finding.mappedAt?.time,
      unlinkedAt: finding.unlinkedAt?.time,
      remappedAt: finding.remappedAt?.time,
      evidence: finding.evidence.map((line) => line.text),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('reordering independent processes does not change their findings', () => {
  const segment = fc.record({ leaky: fc.boolean(), deleted: fc.boolean(), cut: fc.boolean() });
  it('any interleaving of two forked children, each in its own order', () => {
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
        (left, right, choices) => {
          const a = processLines({ pid: 3100, segments: left });
          const b = processLines({ pid: 4200, segments: right });
          // The root forks both children first, then their lines interleave.
          const root = [
            '3000 1795606334.000001 execve("/usr/bin/broker", ["broker"], 0x7ffd00000000 /* 5 vars */) = 0 <0.000100>',
            '3000 1795606334.000002 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00000000a0) = 3100 <0.000100>',
            '3000 1795606334.000003 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00000000a0) = 4200 <0.000100>',
          ];
          const sequential = runLines([...root, ...a, ...b]).findings;
          const merged: string[] = [...root];
          let i = 0;
          let j = 0;
          let k = 0;
          while (i < a.length || j < b.length) {
            const takeA = j >= b.length || (i < a.length && (choices[k++ % choices.length] ?? true));
            merged.push(takeA ? a[i++]! : b[j++]!);
          }
          const interleaved = runLines(merged).findings;
          for (const pid of [3100, 4200]) expect(comparable(interleaved, pid)).toEqual(comparable(sequential, pid));
          // And the expected counts, so the property is not vacuous.
          const leaks = (plan: typeof left) => plan.filter((s) => s.leaky).length;
          expect(interleaved.filter((f) => f.kind === 'remapped-without-unmap').length).toBe(leaks(left) + leaks(right));
          const orphans = (plan: typeof left) => plan.filter((s) => s.leaky && s.deleted).length;
          expect(interleaved.filter((f) => f.kind === 'unlinked-while-mapped').length).toBe(orphans(left) + orphans(right));
        },
      ),
      runs(150),
    );
  });
});

// Nasty real-shaped lines (test/fixtures/nasty/): each unreadable line is
// counted exactly once and reported with its file and line number; what the
// readable lines prove is still found. Plus huge lines, every cut of real
// lines, empty and missing inputs, through analyze() and the real CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { analyze, MAX_SAMPLES } from '../src/ingest/analyze.js';
import { nameBytes } from '../src/parse/byte-names.js';
import { StraceReader, type ParseOutput } from '../src/parse/strace.js';

const HERE = import.meta.dirname;
const NASTY = join(HERE, 'fixtures', 'nasty', 'nasty.txt');
const CLI = join(HERE, '..', 'dist', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-nasty-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function temp(name: string, content: string | Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

interface Expected {
  lines: number;
  unparsed: { line: number; reason: string }[];
  findings: { kind: string; path: string; address: string }[];
}

describe('the nasty corpus', () => {
  const expected = JSON.parse(readFileSync(join(HERE, 'fixtures', 'nasty', 'nasty.expected.json'), 'utf8')) as Expected;

  it('counts every unreadable line once and names its file, line and reason', async () => {
    const analysis = await analyze([NASTY]);
    expect(analysis.lines).toBe(expected.lines);
    expect(analysis.unparsedLines).toBe(expected.unparsed.length);
    expect(analysis.unparsedSamples.map((d) => ({ file: d.place.file, line: d.place.line, reason: d.reason }))).toEqual(
      expected.unparsed.map((d) => ({ file: NASTY, line: d.line, reason: d.reason })),
    );
    // The sample text is the line itself: its bytes, a byte that is no part of UTF-8 kept as itself (review 27, F5).
    const bytes = readFileSync(NASTY);
    const lines: Buffer[] = [];
    for (let from = 0; from <= bytes.length; ) {
      const newline = bytes.indexOf(10, from);
      lines.push(bytes.subarray(from, newline < 0 ? bytes.length : newline));
      from = newline < 0 ? bytes.length + 1 : newline + 1;
    }
    for (const sample of analysis.unparsedSamples) expect(nameBytes(sample.text).toString('hex')).toBe(lines[sample.place.line - 1]!.toString('hex'));
  });

  it('still finds what the readable lines prove', async () => {
    const analysis = await analyze([NASTY]);
    const findings = analysis.engine.findings().map((f) => ({ kind: f.kind, path: f.path, address: f.address }));
    expect(findings).toEqual(expected.findings.map(({ kind, path, address }) => ({ kind, path, address })));
  });

  it('ignores unknown syscalls without a diagnostic', async () => {
    const analysis = await analyze([NASTY]);
    expect(analysis.unparsedSamples.some((d) => d.text.includes('syscall_0x1c3'))).toBe(false);
  });
});

// ---- every cut of real lines ------------------------------------------------------------

const REAL = [
  '11020 1795606335.190872 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 4</data/t-0/a \\"q\\" caf\\303\\251.index>, 0) = 0x7feb46000000 <0.000027>',
  '11051 1795606335.453565 rename("/tmp/x/00000000000000000000.index", "/tmp/x/00000000000000000000.index.deleted") = 0 <0.000051>',
  '11050 1795606335.395620 openat(AT_FDCWD</w>, "/tmp/x/0.index", O_RDWR|O_CREAT|O_EXCL, 0666) = 4</tmp/x/0.index> <0.000117>',
  '11051 1795606335.454141 unlink("/tmp/x/00000000000000000000.index.deleted") = 0 <0.000031>',
  '11050 1795606335.397969 ftruncate(4</tmp/x/0.index>, 10485760) = 0 <0.000022>',
  '11051 1795606335.453895 munmap(0x7febcc628000, 24) = 0 <0.000025>',
];

function outcomes(lines: string[]): { events: number; diagnostics: number } {
  const reader = new StraceReader('t');
  const out: ParseOutput[] = [];
  lines.forEach((line, index) => {
    reader.push(line, index + 1, out);
  });
  reader.end(out);
  return { events: out.filter((o) => o.type === 'event').length, diagnostics: out.filter((o) => o.type === 'diagnostic').length };
}

describe('a real line cut at every position', () => {
  it.each(REAL)('is an event or exactly one diagnostic, never nothing: %s', (line) => {
    for (let at = 1; at <= line.length; at++) {
      const { events, diagnostics } = outcomes([line.slice(0, at)]);
      expect({ at, total: events + diagnostics }).toEqual({ at, total: 1 });
    }
  });

  it('a resumed line cut anywhere reports itself and the call it leaves open', () => {
    const start = '11051 1795606335.395800 openat(AT_FDCWD</w>, "/tmp/x/1.index", O_RDWR|O_CREAT, 0666 <unfinished ...>';
    const resumed = '11051 1795606335.395823 <... openat resumed>) = 5</tmp/x/1.index> <0.000851>';
    expect(outcomes([start, resumed])).toEqual({ events: 1, diagnostics: 0 });
    for (let at = 1; at < resumed.indexOf(')'); at++) {
      expect({ at, ...outcomes([start, resumed.slice(0, at)]) }).toEqual({ at, events: 0, diagnostics: 2 });
    }
  });
});

// ---- huge lines ----------------------------------------------------------------------------

describe('huge lines', () => {
  // Lines over MAX_LINE_CHARS (1 MiB): test/input-bounded.test.ts.
  it('reads a 512 KiB data line and reports a 512 KiB junk line once, with a short sample', async () => {
    const big = 512 * 1024;
    const data = `11020 1795606335.190900 write(9<socket:[1234]>, "${'A'.repeat(big)}", ${big}) = ${big} <0.000100>`;
    const junk = `#${'x\\"('.repeat(big / 4)}`;
    const path = temp(
      'huge.txt',
      [
        '11020 1795606335.190800 openat(AT_FDCWD</w>, "/d/0.index", O_RDWR|O_CREAT, 0666) = 4</d/0.index> <0.000010>',
        '11020 1795606335.190801 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4</d/0.index>, 0) = 0x7feb46000000 <0.000010>',
        data,
        junk,
        '11020 1795606335.190902 unlink("/d/0.index") = 0 <0.000010>',
        '',
      ].join('\n'),
    );
    const analysis = await analyze([path]);
    expect(analysis.lines).toBe(5);
    expect(analysis.unparsedLines).toBe(1);
    expect(analysis.unparsedSamples[0]!.place).toEqual({ file: path, line: 4 });
    expect(analysis.unparsedSamples[0]!.text.length).toBeLessThan(1000);
    expect(analysis.engine.findings().map((f) => f.kind)).toEqual(['unlinked-while-mapped']);
  });
});

// ---- counts and samples ------------------------------------------------------------------------

describe('unparsed lines are counted exactly', () => {
  it('counts all of them and keeps the first samples in line order', async () => {
    const good = '11020 1795606335.190801 close(3) = 0 <0.000010>';
    const lines: string[] = [];
    const bad: number[] = [];
    for (let k = 1; k <= 200; k++) {
      if (k % 7 === 0) {
        lines.push(`junk line ${k}`);
        bad.push(k);
      } else lines.push(good);
    }
    const analysis = await analyze([temp('counted.txt', `${lines.join('\n')}\n`)]);
    expect(analysis.lines).toBe(200);
    expect(analysis.unparsedLines).toBe(bad.length);
    expect(analysis.unparsedSamples.map((d) => d.place.line)).toEqual(bad.slice(0, MAX_SAMPLES));
  });

  it('CRLF line ends are not a reason to reject a line', async () => {
    const analysis = await analyze([temp('crlf.txt', '11020 1795606335.190801 close(3) = 0 <0.000010>\r\n11020 1795606335.190802 munmap(0x7feb46000000, 4096) = 0 <0.000010>\r\n')]);
    expect(analysis.unparsedLines).toBe(0);
    expect(analysis.events).toBe(2);
  });
});

// ---- empty and missing inputs --------------------------------------------------------------------

describe('empty and missing inputs', () => {
  it('an empty file is analyzed: no lines, no findings, a warning', async () => {
    const path = temp('empty.txt', '');
    const analysis = await analyze([path]);
    expect(analysis.lines).toBe(0);
    expect(analysis.unparsedLines).toBe(0);
    expect(analysis.engine.findings()).toEqual([]);
    expect(analysis.warnings.join('\n')).toContain(path);
  });

  it('a missing file rejects with an InputError naming the file', async () => {
    const path = join(scratch, 'no-such-trace.txt');
    const failure = await analyze([path]).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as InputError).code).toBe('input');
    expect((failure as InputError).file).toBe(path);
    expect((failure as InputError).exitCode).toBe(2);
  });

  it('the CLI exits 2 on a missing file and names it; 0 on an empty one', () => {
    const path = join(scratch, 'no-such-trace.txt');
    const missing = spawnSync(process.execPath, [CLI, 'analyze', path, '--format', 'json'], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(path);
    expect(missing.stdout).toBe('');
    const empty = spawnSync(process.execPath, [CLI, 'analyze', temp('empty-cli.txt', ''), '--format', 'json'], { encoding: 'utf8' });
    expect(empty.status).toBe(0);
    expect(JSON.parse(empty.stdout).summary.lines).toBe(0);
  });

  it('the CLI reports unparsed lines with file and line number in json', () => {
    const result = spawnSync(process.execPath, [CLI, 'analyze', NASTY, '--format', 'json'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { summary: { unparsedLines: number }; unparsedSamples: { file: string; line: number }[] };
    expect(report.summary.unparsedLines).toBe(10);
    expect(report.unparsedSamples.map((s) => s.line)).toEqual([8, 11, 12, 15, 16, 17, 21, 22, 26, 28]);
    expect(new Set(report.unparsedSamples.map((s) => s.file))).toEqual(new Set([NASTY]));
  });
});

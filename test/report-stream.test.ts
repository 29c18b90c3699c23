// Reports streamed a finding at a time (issue #14, goal 3): the same bytes as
// the report written whole, evidence built only when a finding is read, and
// text written in slices without cutting a character in two.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openReportOutput } from '../src/commands/output.js';
import { analyze } from '../src/ingest/analyze.js';
import { safeJson, writeSafeJson } from '../src/report/json.js';
import { buildReport } from '../src/report/report.js';

const TRACES = join(import.meta.dirname, '..', 'traces');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-stream-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function streamed(document: object): string {
  let text = '';
  writeSafeJson(document, (piece) => {
    text += piece;
  });
  return text;
}

describe('writeSafeJson', () => {
  it('writes a real report byte for byte as safeJson does, a finding at a time', async () => {
    const analysis = await analyze([join(TRACES, 'f-o-ttt-T-y', 'trace.txt')]);
    const report = buildReport(analysis);
    expect(report.findings.length).toBeGreaterThan(1);
    const pieces: string[] = [];
    writeSafeJson(report, (piece) => pieces.push(piece));
    expect(pieces.join('')).toBe(`${safeJson(report, 2)}\n`);
    expect(pieces.length).toBeGreaterThan(report.findings.length);
  });

  it('leaves out what JSON.stringify leaves out, and escapes what safeJson escapes', () => {
    const odd = {
      skipped: undefined,
      fn: () => 1,
      empty: [],
      nested: [{ deep: [1, { x: [] }] }],
      holes: [undefined, () => 2, null, 'gpj.exe\u202e', 'line\nbreak'],
      object: {},
      text: '\u009b[31m',
    };
    expect(streamed(odd)).toBe(`${safeJson(odd, 2)}\n`);
    expect(streamed({})).toBe('{}\n');
    expect(streamed({ only: [] })).toBe(`${safeJson({ only: [] }, 2)}\n`);
  });
});

describe('a finding builds its evidence when read', () => {
  it('carries the same lines as evidenceOf when spread or stringified, and takes a value assigned to it', async () => {
    const analysis = await analyze([join(TRACES, 'f-o-ttt-T-y', 'trace.txt')]);
    const [finding] = analysis.engine.findings();
    expect(finding).toBeDefined();
    const lines = analysis.engine.evidenceOf(finding!);
    expect(lines.length).toBeGreaterThan(0);
    expect({ ...finding! }.evidence).toEqual(lines);
    expect(JSON.parse(JSON.stringify(finding)).evidence).toEqual(lines);
    const copy = { ...finding! };
    copy.evidence = [];
    expect(copy.evidence).toEqual([]);
    expect(finding!.evidence).toEqual(lines);
  });
});

describe('report output', () => {
  it('writes a text of several slices whole, a surrogate pair at a slice boundary included', async () => {
    // 1 MiB slices: put an astral character (two UTF-16 units) across the first boundary.
    const text = `${'a'.repeat((1 << 20) - 1)}😀${'b'.repeat(1 << 20)}é\n`;
    const path = join(scratch, 'report.txt');
    const output = openReportOutput(path);
    output.write(text);
    output.write('');
    output.write('end\n');
    await output.close();
    expect(readFileSync(path, 'utf8')).toBe(`${text}end\n`);
  });
});

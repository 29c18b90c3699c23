// `analyze --format json --redact` redacts each finding as it is written
// (report.ts's writeReportJson), not the whole report before writing it: the
// bytes must be those of the report redacted whole, on hostile names too, and
// the findings redacted one at a time, each written before the next is made.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { analyze } from '../src/ingest/analyze.js';
import { safeJson, writeSafeJson } from '../src/report/json.js';
import { NO_REDACTION, redaction, type Redaction } from '../src/report/redact.js';
import { buildReport, writeReportJson } from '../src/report/report.js';
import { REPO } from './support/tools.js';
import { HOSTILE_NAMES, resizeLeakTrace } from './support/trace-text.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-redact-stream-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function streamed(write: (sink: (text: string) => void) => void): string {
  let text = '';
  write((piece) => {
    text += piece;
  });
  return text;
}

describe('the JSON report redacted a finding at a time', () => {
  const hostile = join(scratch, 'hostile.txt');
  writeFileSync(hostile, resizeLeakTrace(HOSTILE_NAMES, { lineAfter: (name) => `not a line strace writes about /data/${name}` }));
  const cases: [string, string[], string[]][] = [
    // The input also named bare, as on a command line run in its directory: replaced wherever it stands as a word.
    ['hostile names', [hostile], [hostile, 'hostile.txt']],
    ['a real strace trace', [join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt')], []],
    ['a capture bundle (environment, maps lines)', [join(REPO, 'traces', 'launched-late-snapshot', 'bundle')], []],
  ];

  for (const [what, inputs, named] of cases) {
    it(`writes the bytes of the report redacted whole: ${what}`, async () => {
      const analysis = await analyze(inputs);
      expect(analysis.engine.findings().length).toBeGreaterThan(0);
      for (const redact of [redaction(true, named.length > 0 ? named : inputs), NO_REDACTION]) {
        const whole = buildReport(analysis, {}, redact);
        const expected = `${safeJson(whole, 2)}\n`;
        expect(streamed((write) => writeSafeJson(whole, write))).toBe(expected);
        expect(streamed((write) => writeReportJson(buildReport(analysis), redact, write))).toBe(expected);
      }
    });
  }

  it('has the hostile names hashed and escaped, none of them left as it was', async () => {
    const analysis = await analyze([hostile]);
    const text = streamed((write) => writeReportJson(buildReport(analysis), redaction(true, [hostile, 'hostile.txt']), write));
    expect(text).not.toMatch(/[\u007f-\u009f\u202e\u2028\ufeff]/);
    for (const word of ['orders', 'données', 'gpj', 'hostile', 'kafka-logs', 'csi']) expect(text).not.toContain(word);
    expect(JSON.parse(text).findings.length).toBe(analysis.engine.findings().length);
  });

  it('redacts each finding only once the one before it is written', async () => {
    const analysis = await analyze([hostile]);
    const report = buildReport(analysis);
    const real = redaction(true, [hostile]);
    const events: string[] = [];
    const counting: Redaction = {
      ...real,
      finding: (finding: Finding) => {
        events.push(`redact ${finding.id}`);
        return real.finding(finding);
      },
    };
    writeReportJson(report, counting, (text) => {
      const id = /"id": "(F\d+)"/.exec(text)?.[1];
      if (id !== undefined) events.push(`write ${id}`);
    });
    const ids = report.findings.map((finding) => finding.id);
    expect(ids.length).toBeGreaterThan(3);
    expect(events).toEqual(ids.flatMap((id) => [`redact ${id}`, `write ${id}`]));
  });
});

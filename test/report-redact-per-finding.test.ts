// With --redact, every view draws the report unredacted but for its small
// parts (redactAllButFindings), and redacts each finding only as it draws it:
// the text, Markdown, Jira and JSON reports and every file of the evidence
// directory must be the bytes of the report redacted whole and then drawn, on
// hostile names, resize signatures, bundles and several inputs; and no view
// may redact (so hold) every finding at once.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { traceLineGroups, writeTraceLines, type EvidenceFile } from '../src/evidence/files.js';
import { evidenceFiles, type EvidenceInputs } from '../src/evidence/write.js';
import { analyze } from '../src/ingest/analyze.js';
import { formatReport } from '../src/report/formats.js';
import { NO_REDACTION, redaction, type Redaction } from '../src/report/redact.js';
import { buildReport, redactAllButFindings } from '../src/report/report.js';
import { MAX_FINDING_SECTIONS } from '../src/report/ticket.js';
import { REPO } from './support/tools.js';
import { HOSTILE_NAMES, resizeLeakTrace } from './support/trace-text.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-redact-per-finding-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hostileDirs = join(scratch, 'hostile-dirs.txt');
writeFileSync(hostileDirs, resizeLeakTrace(HOSTILE_NAMES, { dirOf: (name) => `/data/${name}-dir`, unmapSecond: true }));
const hostileLines = join(scratch, 'hostile.txt');
writeFileSync(hostileLines, resizeLeakTrace(HOSTILE_NAMES, { lineAfter: (name) => `not a line strace writes about /data/${name}` }));
// More findings than the ticket draws: most are only counted.
const many = join(scratch, 'many.txt');
writeFileSync(many, resizeLeakTrace(Array.from({ length: 40 }, (_, i) => `topic-${i}`)));

// A bundle with maps-end.txt: its finding is still mapped, and its maps line is shown (as cli-redact.test.ts makes it).
const bundle = join(scratch, 'still-mapped');
{
  const from = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
  mkdirSync(bundle);
  for (const name of ['meta.json', 'maps-start.txt']) copyFileSync(join(from, name), join(bundle, name));
  copyFileSync(join(from, 'maps-start.txt'), join(bundle, 'maps-end.txt'));
  const trace = readFileSync(join(from, 'trace.txt'), 'utf8').split('\n');
  const munmap = trace.findIndex((line) => line.includes('munmap(0x7f38d5233000,'));
  writeFileSync(join(bundle, 'trace.txt'), `${trace.slice(0, munmap).join('\n')}\n`);
}

const CASES: [string, string[], string[]][] = [
  ['hostile names in directories', [hostileDirs], []],
  // The input also named bare, as on a command line run in its directory: replaced wherever it stands as a word.
  ['hostile names in lines, the input named bare', [hostileLines], [hostileLines, 'hostile.txt']],
  ['two inputs (places drawn with their file)', [hostileDirs, hostileLines], []],
  ['more findings than the ticket draws', [many], []],
  ['a real strace trace', [join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt')], []],
  ['a capture bundle (environment, maps lines, maps-end.txt)', [bundle], []],
  ['a capture bundle of the repository', [join(REPO, 'traces', 'launched-late-snapshot', 'bundle')], []],
];

const COMMAND = 'orphanmap report /data/orders-3/trace.txt --redact --out /data/orders-3/evidence';

/** The way every report was redacted before: the whole report at once, then drawn by views that redact nothing more of it. */
function redactedWhole(redact: Redaction): Redaction {
  return { ...redact, finding: (finding) => finding, path: (path) => path };
}

function contentOf(file: EvidenceFile): string {
  if (typeof file.content === 'string') return file.content;
  let text = '';
  file.content((piece) => {
    text += piece;
  });
  return text;
}

async function evidenceInputs(inputs: string[], redact: Redaction): Promise<EvidenceInputs> {
  const analysis = await analyze(inputs);
  return { span: analysis.span, mapsEnd: analysis.bundle?.mapsEnd ?? null, redaction: redact, command: COMMAND, version: '0.0.0-test' };
}

describe('each finding redacted as it is drawn, the bytes of the report redacted whole', () => {
  for (const [what, inputs, named] of CASES) {
    it(`every format and every evidence file: ${what}`, async () => {
      const analysis = await analyze(inputs);
      expect(analysis.engine.findings().length).toBeGreaterThan(0);
      for (const redact of [redaction(true, named.length > 0 ? named : inputs), NO_REDACTION]) {
        const whole = buildReport(analysis, {}, redact);
        const shown = redactAllButFindings(buildReport(analysis), redact);
        const command = redact.text(COMMAND);
        for (const format of ['text', 'markdown', 'jira', 'json'] as const) {
          expect(formatReport(shown, format, { command, redaction: redact }), `${format}${redact.on ? ' --redact' : ''}`).toBe(formatReport(whole, format, { command }));
        }
        const base = await evidenceInputs(inputs, redact);
        const before = evidenceFiles(whole, { ...base, redaction: redactedWhole(redact) });
        const after = evidenceFiles(shown, base);
        expect(after.map((file) => file.name)).toEqual(before.map((file) => file.name));
        if (inputs[0] === bundle) expect(after.map((file) => file.name)).toContain('maps-end.txt');
        for (const [i, file] of after.entries()) expect(contentOf(file), `${file.name}${redact.on ? ' --redact' : ''}`).toBe(contentOf(before[i]!));
      }
    });
  }

  it('has the hostile names hashed in every format, none of them left as it was', async () => {
    const inputs = [hostileDirs, hostileLines];
    const redact = redaction(true, inputs);
    const shown = redactAllButFindings(buildReport(await analyze(inputs)), redact);
    for (const format of ['text', 'markdown', 'jira', 'json'] as const) {
      const text = formatReport(shown, format, { command: redact.text(COMMAND), redaction: redact });
      // ('heading' is left: in an unreadable line, `/data/h2. heading` is a path and a word after a space.)
      for (const word of ['orders', 'données', 'gpj', 'kafka-logs', 'csi', 'noformat}x', 'quote']) expect(text, format).not.toContain(word);
    }
  });
});

/** A redaction that notes each finding it redacts. */
function counting(real: Redaction, events: string[]): Redaction {
  return {
    ...real,
    finding: (finding: Finding) => {
      events.push(`redact ${finding.id}`);
      return real.finding(finding);
    },
  };
}

describe('no view holds a redacted copy of every finding', () => {
  it('the ticket redacts only the findings it draws, however many there are', async () => {
    const report = buildReport(await analyze([many]));
    // Each file's resize, and an unlink for each of its two mappings.
    expect(report.findings.length).toBe(120);
    for (const format of ['markdown', 'jira'] as const) {
      const events: string[] = [];
      const redact = counting(redaction(true, [many]), events);
      formatReport(redactAllButFindings(report, redact), format, { command: COMMAND, redaction: redact });
      // A section each, the resize it folds in, and the diagnosis' example.
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThanOrEqual(2 * MAX_FINDING_SECTIONS + 2);
    }
  });

  it('trace-lines.txt redacts the findings of a file only once the file before it is written', async () => {
    const report = buildReport(await analyze([many]));
    const events: string[] = [];
    const redact = counting(redaction(true, [many]), events);
    writeTraceLines(
      redactAllButFindings(report, redact),
      (text) => {
        const ids = [...text.matchAll(/^## (.*), pid /gm)].flatMap((match) => match[1]!.match(/F\d+/g) ?? []);
        if (ids.length > 0) events.push(`write ${ids.join(' ')}`);
      },
      redact,
    );
    // Each file's resize and unlinks: redacted, written, then the next file's.
    const expected: string[] = [];
    for (let i = 0; i < report.findings.length; i += 3) {
      const ids = report.findings.slice(i, i + 3).map((finding) => finding.id);
      expected.push(...ids.map((id) => `redact ${id}`), `write ${ids.join(' ')}`);
    }
    expect(events).toEqual(expected);
  });
});

describe("trace-lines.txt's groups", () => {
  /** The grouping every finding's lines were read for: by pid and FILE:LINE positions. */
  function byPositions(findings: readonly Finding[]): number[][] {
    const groups = new Map<string, number[]>();
    findings.forEach((finding, index) => {
      if (finding.evidence.length === 0) return;
      const key = `${finding.pid} ${finding.evidence.map((line) => `${line.file}:${line.line}`).join(' ')}`;
      groups.set(key, [...(groups.get(key) ?? []), index]);
    });
    return [...groups.values()];
  }

  const inputs = [
    [hostileDirs],
    [many],
    [hostileDirs, hostileLines],
    [join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt')],
    [join(REPO, 'traces', 'partial-munmap', 'trace.txt')],
    [join(REPO, 'traces', 'launched-late-snapshot', 'bundle')],
  ];
  for (const input of inputs) {
    it(`are the findings with the same lines, in order, told without reading them: ${input.map((path) => path.slice(REPO.length)).join(' ')}`, async () => {
      const findings = (await analyze(input)).engine.findings();
      expect(traceLineGroups(findings)).toEqual(byPositions(findings));
    });
  }

  it('merges findings of other files, and copies, whose lines are the same', async () => {
    const findings = [...(await analyze([many])).engine.findings()];
    // Copies (their own lines, as a plain value) of findings of other files given the lines of F1's file,
    // between and after the engine's findings: one group with F1, F2 and F3, in report order.
    const lines = findings[0]!.evidence;
    const copies = [
      { ...findings[5]!, id: 'C1', evidence: lines },
      { ...findings[9]!, id: 'C2', evidence: lines },
      { ...findings[0]!, id: 'C3', evidence: [] },
      { ...findings[1]!, id: 'C4', pid: 7 },
    ];
    const mixed = [...findings.slice(0, 4), copies[0]!, ...findings.slice(4, 8), copies[1]!, copies[2]!, copies[3]!, ...findings.slice(8)];
    const groups = traceLineGroups(mixed);
    expect(groups).toEqual(byPositions(mixed));
    expect(groups[0]!.map((index) => mixed[index]!.id)).toEqual(['F1', 'F2', 'F3', 'C1', 'C2']);
  });

  it("groups an engine finding given its own lines by them, not by its file's", async () => {
    const findings = (await analyze([many])).engine.findings();
    // F2 (an unlink of F1's file) shown with the lines of the next file (F4's).
    findings[1]!.evidence = findings[3]!.evidence;
    const groups = traceLineGroups(findings);
    expect(groups).toEqual(byPositions(findings));
    expect(groups.slice(0, 2).map((group) => group.map((index) => findings[index]!.id))).toEqual([
      ['F1', 'F3'],
      ['F2', 'F4', 'F5', 'F6'],
    ]);
  });
});

// Every JSON report the CLI writes for the traces in traces/ (and for the
// bpftrace and broken-line fixtures) is validated against
// docs/report.schema.json, with and without --redact, and so is every line
// of --format ndjson. A report broken on purpose shows the schema can fail.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'cli.js');
const SCHEMA = JSON.parse(readFileSync(join(REPO, 'docs', 'report.schema.json'), 'utf8')) as { $id: string };

// strict: an unknown or misspelt keyword in the schema is an error, not ignored.
// strictTypes is off: the if/then branches constrain properties of objects
// whose type the enclosing schema already states.
const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
ajv.addSchema(SCHEMA);
const validateReport = ajv.getSchema(SCHEMA.$id) as ValidateFunction;
const validateFinding = ajv.getSchema(`${SCHEMA.$id}#/$defs/finding`) as ValidateFunction;

function problems(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`).join('\n');
}

/** Each directory of traces/ as analyze takes it: a bundle, a trace.txt, or a set of strace -ff files. */
function traceInputs(): string[] {
  return readdirSync(join(REPO, 'traces'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = join('traces', entry.name);
      if (existsSync(join(REPO, dir, 'bundle', 'meta.json'))) return join(dir, 'bundle');
      if (existsSync(join(REPO, dir, 'trace.txt'))) return join(dir, 'trace.txt');
      if (readdirSync(join(REPO, dir)).some((name) => /^trace\.\d+$/.test(name))) return dir;
      throw new Error(`${dir} holds no trace.txt, bundle/ or trace.<tid> files: say here how to analyze it`);
    });
}

/**
 * A bundle whose capture ended while the leaked mapping was still live: the
 * launched-late-snapshot capture's trace cut before the program's munmap, and
 * its maps-start.txt (which holds the real `(deleted)` line of that mapping)
 * as maps-end.txt. The only input here with confirmedByMaps and mapsLines.
 */
function stillMappedBundle(): string {
  const from = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-schema-'));
  copyFileSync(join(from, 'meta.json'), join(dir, 'meta.json'));
  copyFileSync(join(from, 'maps-start.txt'), join(dir, 'maps-start.txt'));
  copyFileSync(join(from, 'maps-start.txt'), join(dir, 'maps-end.txt'));
  const trace = readFileSync(join(from, 'trace.txt'), 'utf8').split('\n');
  const munmap = trace.findIndex((line) => line.includes('munmap(0x7f38d5233000,'));
  if (munmap < 0) throw new Error('the launched-late-snapshot trace no longer has the munmap this test cuts before');
  writeFileSync(join(dir, 'trace.txt'), `${trace.slice(0, munmap).join('\n')}\n`);
  return dir;
}

const FIXTURES = [
  ...readdirSync(join(REPO, 'test', 'fixtures', 'bpftrace'))
    .filter((name) => name.endsWith('.txt'))
    .map((name) => join('test', 'fixtures', 'bpftrace', name)),
  join('test', 'fixtures', 'nasty', 'nasty.txt'),
  // Its last window of a deleted file was mapped after the name went (mappedAfterUnlink).
  join('test', 'fixtures', 'review20-apache-windows', 'bundle'),
];

const run = promisify(execFile);

interface Outputs {
  json: string;
  jsonRedacted: string;
  ndjson: string;
  ndjsonRedacted: string;
}

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function outputsOf(input: string): Promise<Outputs> {
  const [json, jsonRedacted, ndjson, ndjsonRedacted] = await Promise.all([
    cli(['analyze', input, '--format', 'json']),
    cli(['analyze', input, '--format', 'json', '--redact']),
    cli(['analyze', input, '--format', 'ndjson']),
    cli(['analyze', input, '--format', 'ndjson', '--redact']),
  ]);
  return { json, jsonRedacted, ndjson, ndjsonRedacted };
}

type Json = Record<string, unknown>;
type Finding = Json & { id: string; kind: string; severity: string; resolution: string | null; evidence: unknown[] };
type Report = Json & { findings: Finding[]; summary: { findings: Record<string, number> }; mapsLines: Record<string, string> };

const inputs = [...traceInputs(), ...FIXTURES];
const outputs = new Map<string, Outputs>();
let derivedBundle = '';

beforeAll(async () => {
  derivedBundle = stillMappedBundle();
  const all = [...inputs, derivedBundle];
  // Two inputs at a time (four CLI runs each): the suite shares two cores with other test files.
  for (let i = 0; i < all.length; i += 2) {
    const batch = all.slice(i, i + 2);
    const results = await Promise.all(batch.map(outputsOf));
    batch.forEach((input, k) => {
      outputs.set(input, results[k]!);
    });
  }
  // About 70 CLI runs: 40 s on an idle two-core machine, more while other files test.
}, 300_000);

function ndjsonLines(text: string): Finding[] {
  expect(text === '' || text.endsWith('\n'), 'every NDJSON line ends with a newline').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Finding);
}

function expectValidReport(text: string, label: string): Report {
  const report = JSON.parse(text) as Report;
  expect(validateReport(report), `${label}:\n${problems(validateReport.errors)}`).toBe(true);
  // What a schema cannot say: the summary counts the findings, and mapsLines names findings of this report.
  const ids = report.findings.map((finding) => finding.id);
  expect(new Set(ids).size, `${label}: finding ids are unique`).toBe(ids.length);
  for (const [kind, count] of Object.entries(report.summary.findings)) {
    expect(report.findings.filter((finding) => finding.kind === kind).length, `${label}: summary.findings.${kind}`).toBe(count);
  }
  for (const id of Object.keys(report.mapsLines)) expect(ids, `${label}: mapsLines.${id}`).toContain(id);
  return report;
}

function expectValidLines(text: string, label: string): Finding[] {
  const lines = ndjsonLines(text);
  lines.forEach((line, index) => {
    expect(validateFinding(line), `${label} line ${index + 1}:\n${problems(validateFinding.errors)}`).toBe(true);
  });
  return lines;
}

describe('docs/report.schema.json', () => {
  it('is a valid draft 2020-12 schema that ajv compiles in strict mode', () => {
    expect(typeof validateReport).toBe('function');
    expect(typeof validateFinding).toBe('function');
  });

  it('covers every directory of traces/', () => {
    const dirs = readdirSync(join(REPO, 'traces'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(dirs.length).toBeGreaterThanOrEqual(12);
    for (const dir of dirs) expect(inputs.some((input) => input.startsWith(join('traces', dir.name)))).toBe(true);
  });
});

describe.each(inputs)('analyze %s', (input) => {
  it('writes a JSON report the schema accepts, with and without --redact', () => {
    const { json, jsonRedacted } = outputs.get(input)!;
    expectValidReport(json, input);
    expectValidReport(jsonRedacted, `${input} --redact`);
  });

  it("writes NDJSON lines the schema accepts, and the last line per id is the report's finding", () => {
    const { json, ndjson, ndjsonRedacted } = outputs.get(input)!;
    const report = JSON.parse(json) as Report;
    const lines = expectValidLines(ndjson, `${input} ndjson`);
    expectValidLines(ndjsonRedacted, `${input} ndjson --redact`);
    const last = new Map(lines.map((line) => [line.id, line]));
    expect([...last.keys()].sort()).toEqual(report.findings.map((finding) => finding.id).sort());
    for (const finding of report.findings) {
      const { evidence, ...facts } = last.get(finding.id)!;
      const { evidence: finalEvidence, ...finalFacts } = finding;
      expect(facts, finding.id).toEqual(finalFacts);
      // A finding's evidence ends where it was resolved: what its file did after is not its story (docs/report.md).
      expect(evidence, `${finding.id} evidence`).toEqual(finalEvidence);
    }
  });
});

describe('a bundle whose mapping is still live at the end', () => {
  it('reports it still-mapped, confirmed by maps-end.txt, with its maps line, and the schema accepts it', () => {
    const { json, jsonRedacted, ndjson } = outputs.get(derivedBundle)!;
    const report = expectValidReport(json, 'derived bundle');
    expectValidReport(jsonRedacted, 'derived bundle --redact');
    expectValidLines(ndjson, 'derived bundle ndjson');
    expect(report.findings.map((finding) => [finding.resolution, finding.confirmedByMaps, finding.resolvedAt, finding.delayMs])).toEqual([['still-mapped', true, null, null]]);
    expect(Object.values(report.mapsLines)).toEqual([expect.stringMatching(/ \/tmp\/ls\/w\/seg\.index \(deleted\)$/)]);
  });
});

describe('the reports validated above', () => {
  it('exercise every branch of the schema', () => {
    const reports = [...outputs.values()].map((output) => JSON.parse(output.json) as Report);
    const findings = reports.flatMap((report) => report.findings);
    const lines = [...outputs.values()].flatMap((output) => ndjsonLines(output.ndjson));
    expect(new Set(findings.map((finding) => finding.kind))).toEqual(new Set(['unlinked-while-mapped', 'remapped-without-unmap']));
    expect(new Set(findings.map((finding) => finding.severity))).toEqual(new Set(['error', 'warning', 'info']));
    expect(new Set(findings.map((finding) => finding.resolution))).toEqual(new Set(['unmapped', 'process-exited', 'still-mapped']));
    expect(lines.some((line) => line.resolution === null)).toBe(true);
    expect(findings.some((finding) => finding.ranges !== undefined && finding.mapped !== undefined)).toBe(true);
    expect(findings.some((finding) => finding.confirmedByMaps === true)).toBe(true);
    expect(findings.some((finding) => typeof finding.note === 'string' && finding.severity !== 'info')).toBe(true);
    expect(findings.some((finding) => (finding.mappedAt as Json | null)?.comm !== undefined)).toBe(true);
    expect(new Set(reports.flatMap((report) => (report.inputs as Json[]).map((info) => info.format)))).toEqual(new Set(['strace', 'bpftrace']));
    expect(reports.some((report) => (report.unparsedSamples as unknown[]).length > 0)).toBe(true);
    expect(reports.some((report) => (report.warnings as unknown[]).length > 0)).toBe(true);
    expect(reports.some((report) => report.environment !== null)).toBe(true);
    expect(reports.some((report) => Object.keys(report.mapsLines).length > 0)).toBe(true);
    // Every way a trace writes time: -ttt, -tt, -r, bpftrace seconds since the begin line.
    const times = findings.map((finding) => (finding.mappedAt as Json | null)?.time).filter((time): time is string => typeof time === 'string');
    expect(times.some((time) => /^\d{10}\.\d{6}$/.test(time))).toBe(true);
    expect(times.some((time) => /^\d\d:\d\d:\d\d\.\d{6}$/.test(time))).toBe(true);
    expect(times.some((time) => time.startsWith('+'))).toBe(true);
  });
});

describe('a report broken on purpose', () => {
  const leaky = (): Report => JSON.parse(outputs.get(join('traces', 'f-o-ttt-T-y', 'trace.txt'))!.json) as Report;
  const firstOf = (report: Report, kind: string): Finding => report.findings.find((finding) => finding.kind === kind)!;

  const breakages: [string, (report: Report) => void, string][] = [
    [
      'a renamed field',
      (r) => {
        const finding = firstOf(r, 'unlinked-while-mapped');
        finding.delay_ms = finding.delayMs;
        delete finding.delayMs;
      },
      '/findings/',
    ],
    [
      'a length written as a string',
      (r) => {
        firstOf(r, 'unlinked-while-mapped').length = '10485760';
      },
      '/length',
    ],
    [
      'an address in upper case',
      (r) => {
        firstOf(r, 'unlinked-while-mapped').address = '0x7FEB45600000';
      },
      '/address',
    ],
    [
      'an unknown severity',
      (r) => {
        firstOf(r, 'unlinked-while-mapped').severity = 'critical';
      },
      '/severity',
    ],
    [
      'an unresolved finding in a finished report',
      (r) => {
        firstOf(r, 'unlinked-while-mapped').resolution = null;
      },
      '/resolution',
    ],
    [
      'a resize finding without its new mapping',
      (r) => {
        firstOf(r, 'remapped-without-unmap').newAddress = null;
      },
      '/newAddress',
    ],
    [
      'a benign finding that does not say why',
      (r) => {
        const benign = r.findings.find((finding) => finding.severity === 'info')!;
        benign.note = null;
      },
      '/note',
    ],
    [
      'a field the schema does not know',
      (r) => {
        r.generatedAt = '2026-01-01';
      },
      '',
    ],
    [
      'a summary count under another name',
      (r) => {
        r.summary.findings.unlinked_while_mapped = r.summary.findings['unlinked-while-mapped']!;
        delete r.summary.findings['unlinked-while-mapped'];
      },
      '/summary/findings',
    ],
    [
      'a place whose time was dropped but not its seconds',
      (r) => {
        (firstOf(r, 'unlinked-while-mapped').mappedAt as Json).time = null;
      },
      '/mappedAt/seconds',
    ],
  ];

  it('validates unbroken', () => {
    expect(validateReport(leaky()), problems(validateReport.errors)).toBe(true);
  });

  it.each(breakages)('fails on %s, naming the place', (_name, breakIt, where) => {
    const report = leaky();
    breakIt(report);
    expect(validateReport(report)).toBe(false);
    expect(problems(validateReport.errors)).toContain(where);
  });

  it('fails on an NDJSON line with a mistyped field', () => {
    const line = ndjsonLines(outputs.get(join('traces', 'f-o-ttt-T-y', 'trace.txt'))!.ndjson)[0]!;
    expect(validateFinding(line), problems(validateFinding.errors)).toBe(true);
    line.pid = String(line.pid);
    expect(validateFinding(line)).toBe(false);
    expect(problems(validateFinding.errors)).toContain('/pid');
  });
});

// --redact through the built CLI (issue #12): redaction is applied once, when
// the report is built, so a path component hashes the same in text, JSON,
// NDJSON, Markdown and Jira, in `diff`, in `report`'s files and in a TUI
// export, and no raw name is left anywhere. Expected hashes are computed here
// with node:crypto (the first 8 hex digits of the component's SHA-256), not by
// the code under test. Without --redact every format shows the real path.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { buildReport } from '../src/report/report.js';
import { redaction } from '../src/report/redact.js';
import { exportTarget } from '../src/tui/export.js';
import { CLI, REPO } from './support/tools.js';

const h = (component: string): string => createHash('sha256').update(component).digest('hex').slice(0, 8);

const LEAKY = 'traces/f-o-ttt-T-y/trace.txt';
const FIXED = 'traces/fixed/trace.txt';
const FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const;

/** The orphaned index file of the leaky trace, as the trace names it and as --redact must show it. */
const RAW_PATH = '/tmp/orphanmap-repro/f-o-ttt-T-y/topic-1/00000000000000000000.index';
const REDACTED_PATH = `/tmp/${h('orphanmap-repro')}/${h('f-o-ttt-T-y')}/${h('topic')}-1/00000000000000000000.index`;
const REDACTED_HSPERF = `hsperfdata_${h('root')}`;
const REDACTED_INPUT = `${h('traces')}/${h('f-o-ttt-T-y')}/${h('trace')}.txt`;
/** Names that must not survive --redact, and the hash of a hash the old double redaction printed. */
const SECRETS = ['orphanmap-repro', 'f-o-ttt-T-y', 'topic-', 'hsperfdata_root', REPO, 'traces/'];
const DOUBLE_HASH = h(h('orphanmap-repro'));

/**
 * The CLI's output with Markdown's and Jira's backslash escapes taken out
 * (`kafka\-broker`, `hsperfdata\_root`), so a raw name is found whatever
 * markup escaped it. Hashes are hex digits: no markup escapes them.
 */
function orphanmap(args: string[], cwd = REPO): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const shown = args.includes('markdown') || args.includes('jira') ? unescapeMarkup : (text: string) => text;
  return { status: result.status ?? -1, stdout: shown(result.stdout), stderr: result.stderr };
}

function unescapeMarkup(text: string): string {
  return text.replace(/\\([^A-Za-z0-9\s])/g, '$1');
}

const schema = JSON.parse(readFileSync(join(REPO, 'docs', 'report.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
ajv.addSchema(schema);
const validateFinding = ajv.getSchema(`${schema.$id}#/$defs/finding`) as ValidateFunction;

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-redact-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(FORMATS)('analyze --format %s', (format) => {
  let plain: ReturnType<typeof orphanmap>;
  let redacted: ReturnType<typeof orphanmap>;
  beforeAll(() => {
    plain = orphanmap(['analyze', LEAKY, '--format', format]);
    redacted = orphanmap(['analyze', LEAKY, '--format', format, '--redact']);
  });

  it('without --redact shows the real path and no hash of it', () => {
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(RAW_PATH);
    expect(plain.stdout).toContain('hsperfdata_root');
    expect(plain.stdout).not.toContain(h('orphanmap-repro'));
  });

  it('with --redact hashes each component once, the same as every other format, and leaves no raw name', () => {
    expect(redacted.status, redacted.stderr).toBe(0);
    const all = redacted.stdout + redacted.stderr;
    expect(all).toContain(REDACTED_PATH);
    expect(all).toContain(REDACTED_HSPERF);
    for (const secret of SECRETS) expect(all.includes(secret), `"${secret}" in --format ${format} --redact`).toBe(false);
    expect(all).not.toContain(DOUBLE_HASH);
  });

  // Text names no input; the other formats do (a registered test per format that has one, not a skipped one).
  if (format !== 'text') {
    it('with --redact names the input by its hashed components', () => {
      expect(redacted.stdout).toContain(REDACTED_INPUT);
    });
  }

  if (format === 'ndjson') {
    it("writes lines the schema's finding accepts, redacted or not", () => {
      for (const output of [plain, redacted]) {
        const lines = output.stdout.split('\n').filter((line) => line !== '');
        expect(lines.length).toBeGreaterThan(17);
        for (const line of lines) expect(validateFinding(JSON.parse(line)), JSON.stringify(validateFinding.errors)).toBe(true);
      }
    });
  }
});

describe('--format ndjson --redact and --format json --redact', () => {
  it("agree: the last line per id is the JSON report's finding, facts for facts", () => {
    const json = JSON.parse(orphanmap(['analyze', LEAKY, '--format', 'json', '--redact']).stdout) as { findings: { id: string; evidence: unknown[] }[] };
    const lines = orphanmap(['analyze', LEAKY, '--format', 'ndjson', '--redact'])
      .stdout.split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { id: string; evidence: unknown[] });
    const last = new Map(lines.map((line) => [line.id, line]));
    expect(json.findings.length).toBe(17);
    for (const finding of json.findings) {
      const { evidence: _streamed, ...facts } = last.get(finding.id)!;
      const { evidence: _final, ...finalFacts } = finding;
      expect(facts, finding.id).toEqual(finalFacts);
    }
  });
});

describe('an input named without a slash', () => {
  // No -t: every format warns "kafka-broker-7.strace: no -t/-tt/-ttt: …", naming the input.
  const dir = join(scratch, 'bare');
  const NAME = 'kafka-broker-7.strace';
  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(
      join(dir, NAME),
      [
        'openat(AT_FDCWD, "/data/orders-3/00000000000000000000.index", O_RDWR|O_CREAT, 0666) = 3',
        'mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000000000',
        'unlink("/data/orders-3/00000000000000000000.index") = 0',
        '',
      ].join('\n'),
    );
  });

  it.each(FORMATS)('is redacted wherever it stands, in --format %s', (format) => {
    const plain = orphanmap(['analyze', NAME, '--format', format], dir);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout + plain.stderr).toContain(`${NAME}: no -t`);
    const result = orphanmap(['analyze', NAME, '--format', format, '--redact'], dir);
    expect(result.status, result.stderr).toBe(0);
    const all = result.stdout + result.stderr;
    expect(all).toContain(`${h('kafka-broker')}-7.strace: no -t`);
    expect(all).toContain(`/${h('data')}/${h('orders')}-3/00000000000000000000.index`);
    for (const secret of ['kafka-broker', 'orders-3', '/data/']) expect(all.includes(secret), `"${secret}" in --format ${format}`).toBe(false);
  });
});

describe('--format ndjson escapes characters unsafe to display, as the JSON report does', () => {
  it('writes U+202E and U+009B in a name as \\u escapes that parse back to the name', () => {
    const path = join(scratch, 'bidi.txt');
    // strace prints the UTF-8 bytes of U+202E (RIGHT-TO-LEFT OVERRIDE) and U+009B (CSI) in octal.
    writeFileSync(
      path,
      [
        String.raw`100 10:00:00.000001 openat(AT_FDCWD, "/data/rtl\342\200\256exe/csi\302\233x.index", O_RDWR|O_CREAT, 0666) = 3`,
        '100 10:00:00.000002 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000000000',
        String.raw`100 10:00:00.000003 unlink("/data/rtl\342\200\256exe/csi\302\233x.index") = 0`,
        '',
      ].join('\n'),
    );
    const result = orphanmap(['analyze', path, '--format', 'ndjson']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
    expect(result.stdout).toContain(String.raw`rtl\u202eexe/csi\u009bx.index`);
    const lines = result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { path: string });
    expect(lines.at(-1)!.path).toBe('/data/rtl\u202eexe/csi\u009bx.index');
  });
});

describe('diff --redact', () => {
  it.each(['text', 'json', 'markdown', 'jira'])('hashes both sides with the same hashes as analyze, in --format %s', (format) => {
    const plain = orphanmap(['diff', LEAKY, FIXED, '--format', format]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('hsperfdata_root/*');
    const result = orphanmap(['diff', LEAKY, FIXED, '--format', format, '--redact']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${REDACTED_HSPERF}/*`);
    expect(result.stdout).toContain(REDACTED_INPUT);
    expect(result.stdout).toContain(`${h('traces')}/${h('fixed')}/${h('trace')}.txt`);
    for (const secret of [...SECRETS, 'fixed/']) expect(result.stdout.includes(secret), `"${secret}" in diff --format ${format}`).toBe(false);
    expect(result.stdout).not.toContain(DOUBLE_HASH);
  });
});

describe('report --redact', () => {
  it('writes the same redacted findings as analyze --format json --redact, and the same hashes in every file', () => {
    const out = join(scratch, 'evidence');
    const result = orphanmap(['report', LEAKY, '--out', out, '--redact']);
    expect(result.status, result.stderr).toBe(0);
    const analyzed = JSON.parse(orphanmap(['analyze', LEAKY, '--format', 'json', '--redact']).stdout) as { findings: unknown[] };
    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { findings: unknown[] };
    expect(written.findings).toEqual(analyzed.findings);
    for (const name of ['report.md', 'report.jira', 'report.json', 'trace-lines.txt']) {
      const text = readFileSync(join(out, name), 'utf8');
      expect(text, name).toContain(REDACTED_PATH);
      expect(text, name).not.toContain(DOUBLE_HASH);
    }
    for (const name of readdirSync(out)) {
      const text = unescapeMarkup(readFileSync(join(out, name), 'utf8'));
      for (const secret of SECRETS) expect(text.includes(secret), `"${secret}" in ${name}`).toBe(false);
    }
  });
});

describe('report --redact on a bundle whose mapping is still live at the end', () => {
  it("keeps the finding's maps line in maps-end.txt, redacted as report.json's mapsLines", () => {
    // The launched-late-snapshot capture cut before the program's munmap, with
    // its maps-start.txt (which holds the real `(deleted)` line) as maps-end.txt.
    const from = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
    const bundle = join(scratch, 'still-mapped');
    mkdirSync(bundle);
    for (const name of ['meta.json', 'maps-start.txt']) copyFileSync(join(from, name), join(bundle, name));
    copyFileSync(join(from, 'maps-start.txt'), join(bundle, 'maps-end.txt'));
    const trace = readFileSync(join(from, 'trace.txt'), 'utf8').split('\n');
    const munmap = trace.findIndex((line) => line.includes('munmap(0x7f38d5233000,'));
    expect(munmap).toBeGreaterThan(0);
    writeFileSync(join(bundle, 'trace.txt'), `${trace.slice(0, munmap).join('\n')}\n`);

    const out = join(scratch, 'still-mapped-evidence');
    const result = orphanmap(['report', bundle, '--out', out, '--redact']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { mapsLines: Record<string, string> };
    const lines = Object.values(report.mapsLines);
    // /tmp/ls/w/seg.index in the trace: `ls` and `w` hashed, `seg.index` keeps its suffix.
    expect(lines).toEqual([expect.stringMatching(new RegExp(` /tmp/${h('ls')}/${h('w')}/${h('seg')}\\.index \\(deleted\\)$`))]);
    const mapsEnd = readFileSync(join(out, 'maps-end.txt'), 'utf8');
    expect(mapsEnd.split('\n')).toContain(lines[0]);
    expect(mapsEnd).not.toContain('/tmp/ls/');
  });
});

describe('a TUI export with --redact', () => {
  it('writes Markdown and Jira with the hashes of analyze --redact, and no raw name', async () => {
    const cwd = process.cwd();
    process.chdir(REPO);
    let analysis: Awaited<ReturnType<typeof analyze>>;
    try {
      analysis = await analyze([LEAKY]);
    } finally {
      process.chdir(cwd);
    }
    const report = buildReport(analysis);
    const finding = report.findings.find((item) => item.id === 'F8')!;
    expect(finding.path).toBe(`${RAW_PATH}.deleted`);
    const redact = redaction(true, [LEAKY]);
    const target = exportTarget(join(scratch, 'exports'), { command: redact.text(`orphanmap analyze --redact ${LEAKY}`), redaction: redact, report: () => report });
    const written = await target.write(finding);
    expect(written.files).toHaveLength(2);
    const markdown = orphanmap(['analyze', LEAKY, '--format', 'markdown', '--redact']).stdout;
    for (const file of written.files) {
      const text = unescapeMarkup(readFileSync(file, 'utf8'));
      expect(text, file).toContain(`${REDACTED_PATH}.deleted`);
      expect(text, file).toContain(REDACTED_INPUT);
      for (const secret of SECRETS) expect(text.includes(secret), `"${secret}" in ${file}`).toBe(false);
      expect(text).not.toContain(DOUBLE_HASH);
    }
    // The export's timeline lines are the command line's, hash for hash.
    const exported = unescapeMarkup(readFileSync(written.files[0]!, 'utf8'));
    const line = exported.split('\n').find((text) => text.includes('unlink(') && text.includes(`${REDACTED_PATH}.deleted`))!;
    expect(line).toBeDefined();
    expect(markdown).toContain(line);
  });
});

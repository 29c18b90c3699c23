// Review 4, item 1: meta.json fields that no check looked at (jvmVersion,
// endTime, exitReason, complete, canDetach, noDetachReason) went straight
// into a report, and an object in jvmVersion was drawn as a real link in
// Markdown and Jira. Now the loader refuses a bundle whose meta.json holds a
// value of the wrong type, naming the file and the field; and a table cell is
// made of text whatever the environment holds. Checked with the real parsers:
// marked, and Atlassian's wiki-markup transformer.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked, type Token, type Tokens } from 'marked';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { formatReport } from '../src/report/formats.js';
import { redaction } from '../src/report/redact.js';
import { buildReport, type Report } from '../src/report/report.js';
import { parseJira, type AdfNode } from './support/jira.js';
import { REPO, runCli } from './support/tools.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'review4');
/** The review's two meta.json files: b1 has a link object in jvmVersion, b2 an array with a link and bold text. */
const B1 = JSON.parse(readFileSync(join(FIXTURES, 'b1-meta.json'), 'utf8')) as Record<string, unknown>;
const B2 = JSON.parse(readFileSync(join(FIXTURES, 'b2-meta.json'), 'utf8')) as Record<string, unknown>;

function bundleWith(change: (meta: Record<string, unknown>) => Record<string, unknown> | undefined): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-review4-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(change(meta) ?? meta));
  return dir;
}

describe('a meta.json field of the wrong type', () => {
  const cases: [string, (meta: Record<string, unknown>) => Record<string, unknown> | undefined, string][] = [
    ["the review's b1 meta.json", () => B1, 'jvmVersion'],
    ["the review's b2 meta.json", () => B2, 'jvmVersion'],
    ['jvmVersion: a link object', (meta) => void (meta.jvmVersion = B1.jvmVersion), 'jvmVersion'],
    ['jvmVersion: an array of inline nodes', (meta) => void (meta.jvmVersion = B2.jvmVersion), 'jvmVersion'],
    ['endTime: an object', (meta) => void (meta.endTime = { type: 'x' }), 'endTime'],
    ['endTime: 12345', (meta) => void (meta.endTime = 12345), 'endTime'],
    ['complete: "yes"', (meta) => void (meta.complete = 'yes'), 'complete'],
    ['exitReason: an array', (meta) => void (meta.exitReason = B1.exitReason), 'exitReason'],
    ['exitReason: a reason no capture writes', (meta) => void (meta.exitReason = 'done [x](http://e)'), 'exitReason'],
    ['canDetach: a string', (meta) => void (meta.canDetach = B1.canDetach), 'canDetach'],
    ['noDetachReason: 5', (meta) => void (meta.noDetachReason = 5), 'noDetachReason'],
    ['backend: "ltrace"', (meta) => void (meta.backend = 'ltrace'), 'backend'],
    ['schema: {}', (meta) => void (meta.schema = {}), 'schema'],
    ['threads[0].comm: an object', (meta) => void (meta.threads = [{ tid: 2129, tgid: 2129, comm: { type: 'link' } }]), 'threads[0].comm'],
  ];

  it.each(cases)('%s: exit 2 naming meta.json and the field, in analyze (each format) and report', (_, change, field) => {
    const dir = bundleWith(change);
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-review4-out-')), 'ev');
    for (const args of [
      ['analyze', dir, '--format', 'markdown'],
      ['analyze', dir, '--format', 'jira', '--redact'],
      ['analyze', dir, '--format', 'json'],
      ['report', dir, '--out', out],
    ]) {
      const run = runCli(args);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(join(dir, 'meta.json'));
      expect(run.stderr).toContain(`bundle metadata field "${field}" must be`);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toMatch(/internal error|CLICK ME|javascript:/);
    }
  });

  it('accepts every exitReason the capture scripts write, and canDetach false with its reason', () => {
    // The reasons as scripts/bundle-lib.sh assigns them: OM_STOP_REASON=…, om_finish …, om_on_signal …, OM_EXIT_REASON=….
    const script = readFileSync(join(REPO, 'scripts', 'bundle-lib.sh'), 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    const reasons = new Set([...script.matchAll(/(?:OM_STOP_REASON|OM_EXIT_REASON)=([a-z-]+)|om_(?:finish|on_signal) ([a-z-]+)/g)].map((match) => match[1] ?? match[2]!));
    expect([...reasons].sort()).toEqual([
      'attach-timeout',
      'detached',
      'disk-full',
      'duration',
      'interrupted',
      'parent-died',
      'target-exited',
      'target-exited-before-attach',
      'tracer-died',
      'tracer-failed',
      'write-failed',
    ]);
    for (const reason of [...reasons, null]) {
      const dir = bundleWith((meta) => ({ ...meta, exitReason: reason, canDetach: false, noDetachReason: 'strace 6.6 ends its command (--kill-on-exit)', complete: reason !== null }));
      const run = runCli(['analyze', dir, '--format', 'json']);
      expect(run.status, `${reason}: ${run.stderr}`).toBe(0);
      expect((JSON.parse(run.stdout) as Report).environment?.exitReason).toBe(reason);
    }
  });
});

/** orphanmap's own links: the upstream Kafka tickets. */
const OWN = /^https:\/\/issues\.apache\.org\/jira\/browse\/KAFKA-\d+$/;

/** Links in an ADF document, as Jira would draw them, but orphanmap's own. */
function jiraLinks(node: AdfNode): string[] {
  const here = (node.marks ?? []).filter((mark) => mark.type === 'link').map((mark) => mark.attrs?.href ?? '');
  return [...here.filter((href) => !OWN.test(href)), ...(node.content ?? []).flatMap(jiraLinks)];
}

/** Links (but orphanmap's own) and raw HTML in marked's tokens. */
function markdownLinks(tokens: readonly Token[]): string[] {
  const found: string[] = [];
  const walk = (token: Token) => {
    if (token.type === 'link' && !OWN.test((token as Tokens.Link).href)) found.push((token as Tokens.Link).href);
    if (token.type === 'html') found.push(`html: ${token.raw}`);
    if (token.type === 'table') {
      const table = token as Tokens.Table;
      for (const cell of [...table.header, ...table.rows.flat()]) cell.tokens.forEach(walk);
    }
    const children = (token as { tokens?: Token[] }).tokens;
    if (children !== undefined) children.forEach(walk);
  };
  tokens.forEach(walk);
  return found;
}

describe('an environment that holds objects, however it got there', () => {
  // checkMeta refuses such a bundle; a report built another way (a test, a future input) must still draw text.
  let report: Report;
  beforeAll(async () => {
    report = buildReport(await analyze([REAL]));
    expect(report.environment).not.toBeNull();
    report = { ...report, environment: { ...report.environment, jvmVersion: B1.jvmVersion, endTime: B2.jvmVersion, kernel: { type: 'strong', text: 'x' } } as unknown as Report['environment'] };
  });

  for (const redact of [false, true]) {
    it(`draws no link and no extra cell in Markdown or Jira${redact ? ' (redacted)' : ''}`, () => {
      const shown = redaction(redact).report(report);
      const markdown = formatReport(shown, 'markdown', { command: 'orphanmap analyze bundle' });
      const tokens = marked.lexer(markdown);
      expect(markdownLinks(tokens)).toEqual([]);
      const tables = tokens.filter((token): token is Tokens.Table => token.type === 'table');
      const environment = tables.find((table) => table.rows.some((row) => row[0]?.text === 'host name'));
      expect(environment?.rows.every((row) => row.length === 2)).toBe(true);
      expect(environment?.rows.map((row) => row[0]!.text)).not.toContain('JVM');
      expect(markdown).not.toMatch(/CLICK ME|javascript:|\[object Object\]/);

      const jira = formatReport(shown, 'jira', { command: 'orphanmap analyze bundle' });
      const adf = parseJira(jira);
      expect(jiraLinks(adf)).toEqual([]);
      expect(jira).not.toMatch(/CLICK ME|javascript:|\[object Object\]/);
      const table = (adf.content ?? []).find((node) => node.type === 'table' && JSON.stringify(node).includes('host name'));
      for (const row of table?.content ?? []) expect(row.content).toHaveLength(2);
    });
  }

  it('is left out of a redacted report where a field holds what its type never is', () => {
    const environment = redaction(true).report(report).environment as unknown as Record<string, unknown>;
    expect(environment.jvmVersion).toBeUndefined();
    expect(environment.endTime).toBeUndefined();
    expect(environment.kernel).toBeUndefined();
    expect(environment.pid).toBe(report.environment?.pid);
  });
});

describe('--redact on a thread of meta.json', () => {
  it('shows its tid, tgid and comm only: a key orphanmap does not know may hold a path', () => {
    const dir = bundleWith((meta) => void (meta.threads = [{ tid: 2129, tgid: 2129, comm: 'python3', cwd: '/data/acme corp/brokers' }]));
    const plain = runCli(['analyze', dir, '--format', 'json']);
    expect(plain.stdout).toContain('/data/acme corp/brokers');
    const run = runCli(['analyze', dir, '--format', 'json', '--redact']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/acme|brokers/);
    expect((JSON.parse(run.stdout) as Report).environment?.threads).toEqual([{ tid: 2129, tgid: 2129, comm: 'python3' }]);
  });
});

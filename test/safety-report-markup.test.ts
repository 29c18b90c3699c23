// Issue #11, item 9: file names that open Jira macros, and characters that
// reorder or drive a display, must not change a report's structure or reach a
// JSON consumer raw. Jira is checked with Atlassian's own wiki-markup parser.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked, type Tokens } from 'marked';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { diffReports, formatDiff } from '../src/report/diff.js';
import type { Block, Inline } from '../src/report/document.js';
import { formatReport } from '../src/report/formats.js';
import { redaction } from '../src/report/redact.js';
import { defuseNoformat } from '../src/report/jira.js';
import { safeJson } from '../src/report/json.js';
import { buildReport, type Report } from '../src/report/report.js';
import { escapeControl } from '../src/report/sanitize.js';
import { formatText } from '../src/report/text.js';
import { reportDocument } from '../src/report/ticket.js';
import { parseJira, type AdfNode } from './support/jira.js';
import { resizeLeakTrace } from './support/trace-text.js';

// Directory names as strace prints them inside "…": a newline as \n, other
// bytes of a UTF-8 character in octal (U+202E RIGHT-TO-LEFT OVERRIDE is
// \342\200\256, U+009B CSI is \302\233). Ten of them: a ticket draws ten findings.
const NAMES = [
  '{noformat:title=x}',
  '{noformat:title=y}z{noformat}',
  '{NOFORMAT}up{NoFormat:title=a}',
  '{code}c{code:java}j{code}{color:red}r{color}',
  '{quote}q{panel:title=p}p{panel}',
  '{{mono}}a|b[c]d*e*',
  '[x|http://example.com]',
  String.raw`new\nline{noformat}`,
  String.raw`rtl\342\200\256exe.txt`,
  String.raw`csi\302\2332Jclear`,
];
const DECODED = ['rtl\u202eexe.txt', 'csi\u009b2Jclear', 'new\nline{noformat}'];

const COMMAND = 'orphanmap analyze --format jira "{noformat:title=x}|[y]"';

let report: Report;
let blocks: Block[];
let tracePath: string;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-markup-'));
  tracePath = join(dir, 'trace{noformat:title=t}.txt');
  writeFileSync(tracePath, resizeLeakTrace(NAMES, { unmapSecond: true }));
  report = buildReport(await analyze([tracePath]));
  blocks = reportDocument(report, { command: COMMAND });
});

const tablesOf = (list: readonly Block[]) => list.filter((block): block is Extract<Block, { type: 'table' }> => block.type === 'table');
const preOf = (list: readonly Block[]) => list.filter((block): block is Extract<Block, { type: 'preformatted' }> => block.type === 'preformatted');

describe('a trace of file names that open Jira macros', () => {
  it('is read whole, with the names decoded', () => {
    expect(report.unparsedSamples).toEqual([]);
    expect(report.summary.findings['unlinked-while-mapped']).toBe(NAMES.length);
    for (const name of DECODED) expect(report.findings.some((f) => f.path.includes(name))).toBe(true);
  });

  for (const redact of [false, true]) {
    it(`renders to Jira markup that Atlassian's parser reads back as the same rows and blocks${redact ? ' (redacted)' : ''}`, () => {
      const shown = formatReport(redaction(redact).report(report), 'jira', { command: redaction(redact).text(COMMAND) });
      expect(shown).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
      const top = parseJira(shown).content ?? [];
      // Only what the document holds: no quote, panel, or block title made by a name.
      expect(top.map((node) => node.type).filter((type) => !['heading', 'paragraph', 'table', 'codeBlock', 'bulletList'].includes(type))).toEqual([]);
      expect(top.filter((node) => node.type === 'heading')).toHaveLength(blocks.filter((block) => block.type === 'heading').length);

      const tables = top.filter((node) => node.type === 'table');
      const expected = tablesOf(blocks);
      expect(tables).toHaveLength(expected.length);
      tables.forEach((table, i) => {
        const rows = table.content ?? [];
        expect(rows).toHaveLength(expected[i]!.rows.length + 1);
        for (const row of rows) {
          expect(row.content).toHaveLength(expected[i]!.header.length);
          for (const cell of row.content ?? []) expect((cell.content ?? []).map((node) => node.type)).toEqual(['paragraph']);
        }
        if (redact) return;
        // Look-alikes Jira needs in a table cell: ¦ for |, ⧵ for a \ before markup, ❴ for a { that opens a macro.
        const cells = rows.slice(1).map((row) => (row.content ?? []).map((cell) => textOf(cell).replaceAll('\u00a6', '|').replaceAll('\u29f5', '\\').replaceAll('\u2774', '{')));
        expect(cells).toEqual(expected[i]!.rows.map((row) => row.map(cellText)));
      });

      // Every timeline and command is one code block, whole: no block cut or added by a name.
      const codes = top.filter((node) => node.type === 'codeBlock');
      const pre = preOf(blocks);
      expect(codes).toHaveLength(pre.length);
      if (!redact)
        codes.forEach((node, i) => {
          expect(textOf(node)).toBe(pre[i]!.lines.map(defuseNoformat).join('\n'));
        });
      // Raw trace lines keep strace's own escapes.
      if (!redact) for (const name of ['{noformat:title=x}', '\u2774noformat}', String.raw`rtl\342\200\256exe`]) expect(codes.some((node) => textOf(node).includes(name))).toBe(true);

      // The caveats, whose warnings name the trace file, stay one list with one item per warning.
      const lists = top.filter((node) => node.type === 'bulletList');
      const expectedLists = blocks.filter((block): block is Extract<Block, { type: 'list' }> => block.type === 'list');
      expect(lists.map((list) => list.content?.length)).toEqual(expectedLists.map((list) => list.items.length));
      if (!redact) expect(lists.flatMap((list) => (list.content ?? []).map((item) => textOf(item).replaceAll('\u2774', '{')))).toEqual(expectedLists.flatMap((list) => list.items.map(cellText)));
    });
  }

  it('renders to Markdown that marked reads back as the same tables and code blocks', () => {
    const tokens = marked.lexer(formatReport(report, 'markdown', { command: COMMAND }));
    const tables = tokens.filter((token): token is Tokens.Table => token.type === 'table');
    expect(tables.map((table) => [table.header.length, table.rows.length])).toEqual(tablesOf(blocks).map((table) => [table.header.length, table.rows.length]));
    expect(tokens.filter((token) => token.type === 'code').map((token) => (token as Tokens.Code).text)).toEqual(preOf(blocks).map((block) => block.lines.map(escapeControl).join('\n')));
  });

  it('shows bidi overrides and C1 controls as escapes in Jira, Markdown and text', () => {
    const shown = [...(['jira', 'markdown'] as const).map((format) => formatReport(report, format, { command: COMMAND })), formatText(report)];
    for (const output of shown) {
      expect(output).toContain('rtl\\u202eexe.txt');
      expect(output).toContain('csi\\x9b2Jclear');
      expect(output).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    }
  });
});

describe('JSON of a report with such names', () => {
  const RAW = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

  it('escapes C1 controls and bidi characters and parses back to the same report', () => {
    const shown = formatReport(report, 'json', { command: COMMAND });
    expect(shown).not.toMatch(RAW);
    expect(shown).toContain('rtl\\u202eexe.txt');
    expect(shown).toContain('csi\\u009b2Jclear');
    expect(JSON.parse(shown)).toEqual(JSON.parse(JSON.stringify(report)));
    expect((JSON.parse(shown) as Report).findings.map((f) => f.path)).toEqual(report.findings.map((f) => f.path));
  });

  it('escapes them in a diff too', () => {
    const diff = diffReports(report, report);
    const shown = formatDiff(diff, 'json');
    expect(shown).not.toMatch(RAW);
    expect(JSON.parse(shown)).toEqual(JSON.parse(JSON.stringify(diff)));
  });

  it('safeJson round-trips every character that needs it, next to backslashes and quotes', () => {
    const value = { s: 'a\\\u202e"\u009b\u007f\u2028\u2029\u200f\ufeff\u061c\u2066\u0000\n\u{1f600}', k: ['\u202e'] };
    const text = safeJson(value, 2);
    expect(text).not.toMatch(RAW);
    expect(JSON.parse(text)).toEqual(value);
    expect(safeJson({ a: 1 })).toBe(JSON.stringify({ a: 1 }));
  });
});

function cellText(cell: Inline[]): string {
  return cell.map((inline) => escapeControl(inline.text)).join('');
}

function textOf(node: AdfNode): string {
  return node.text ?? (node.content ?? []).map(textOf).join('');
}

// File names made of every markup character and control characters must not
// break a report's structure: rendered with real parsers (marked for Markdown,
// Atlassian's wiki-markup transformer for Jira), the tables keep their rows and
// cells and the raw-line blocks keep their lines.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked, type Token, type Tokens } from 'marked';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import type { Block, Inline } from '../src/report/document.js';
import { defuseNoformat } from '../src/report/jira.js';
import { formatReport } from '../src/report/formats.js';
import { redaction } from '../src/report/redact.js';
import { buildReport, type Report } from '../src/report/report.js';
import { escapeControl } from '../src/report/sanitize.js';
import { reportDocument } from '../src/report/ticket.js';
import { parseJira, type AdfNode } from './support/jira.js';
import { resizeLeakTrace } from './support/trace-text.js';

// As strace prints them inside "…": \" and \\ escaped, control characters as \n, \t, \33.
const HOSTILE_NAMES = [
  String.raw`a|b{c}[d]*e_f\`g\`<h>#i!j~k&l(m)n+o^p?q@r-s=t\\u`,
  String.raw`{noformat}x{code}y\`\`\`z\`\`\`\`{{mono}}`,
  String.raw`ctl\nnew\tline\33[31mred\33[0m\177`,
  'h2. heading',
  'bq. quote|| x ||',
  '1. list',
  String.raw`- dash <script>alert(1)</script> &amp; \"q\"`,
  String.raw`\\|pipe after backslash\\`,
];

const COMMAND = 'orphanmap analyze --format markdown "x|{noformat}`y`"';

let report: Report;
let blocks: Block[];
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-hostile-'));
  const path = join(dir, 'trace|{code}`*.txt');
  writeFileSync(path, resizeLeakTrace(HOSTILE_NAMES, { dirOf: (name) => `/data/${name}-dir`, unmapSecond: true }));
  report = buildReport(await analyze([path]));
  blocks = reportDocument(report, { command: COMMAND });
});

const tablesOf = (list: readonly Block[]) => list.filter((block): block is Extract<Block, { type: 'table' }> => block.type === 'table');
const preOf = (list: readonly Block[]) => list.filter((block): block is Extract<Block, { type: 'preformatted' }> => block.type === 'preformatted');

describe('a trace of hostile file names', () => {
  it('is read whole: every file is found orphaned with its resize signature', () => {
    expect(report.unparsedSamples.map((s) => `${s.line} ${s.reason}: ${s.text.slice(0, 90)}`)).toEqual([]);
    expect(report.summary.findings['unlinked-while-mapped']).toBe(HOSTILE_NAMES.length);
    expect(report.summary.findings['remapped-without-unmap']).toBe(HOSTILE_NAMES.length);
    expect(report.findings.some((f) => f.path.includes('\x1b[31m'))).toBe(true);
  });

  for (const redact of [false, true]) {
    it(`renders to Markdown whose tables and code blocks survive marked${redact ? ' (redacted)' : ''}`, () => {
      const shown = formatReport(redaction(redact).report(report), 'markdown', { command: redaction(redact).text(COMMAND) });
      expect(shown).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      const tokens = marked.lexer(shown).filter((token) => token.type !== 'space');
      const tables = tokens.filter((token): token is Tokens.Table => token.type === 'table');
      const expected = tablesOf(blocks);
      expect(tables).toHaveLength(expected.length);
      tables.forEach((table, i) => {
        expect(table.header).toHaveLength(expected[i]!.header.length);
        expect(table.rows).toHaveLength(expected[i]!.rows.length);
        for (const row of table.rows) expect(row).toHaveLength(expected[i]!.header.length);
        // Extra cells would be dropped silently by GFM: compare what each cell says.
        if (!redact) expect(table.rows.map((row) => row.map((cell) => markdownText(cell.tokens)))).toEqual(expected[i]!.rows.map((row) => row.map(cellText)));
      });
      const codes = tokens.filter((token): token is Tokens.Code => token.type === 'code');
      const pre = preOf(blocks);
      expect(codes).toHaveLength(pre.length);
      if (!redact)
        codes.forEach((token, i) => {
          expect(token.text).toBe(pre[i]!.lines.map(escapeControl).join('\n'));
        });
      expect(tokens.filter((token) => token.type === 'heading')).toHaveLength(blocks.filter((block) => block.type === 'heading').length);
      expect(tokens.some((token: Token) => token.type === 'html')).toBe(false);
      expect(tokens.filter((token) => token.type === 'list')).toHaveLength(blocks.filter((block) => block.type === 'list').length);
    });

    it(`renders to Jira markup whose tables and blocks survive Atlassian's parser${redact ? ' (redacted)' : ''}`, () => {
      const shown = formatReport(redaction(redact).report(report), 'jira', { command: redaction(redact).text(COMMAND) });
      expect(shown).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      const doc = parseJira(shown);
      const top = doc.content ?? [];
      const tables = top.filter((node) => node.type === 'table');
      const expected = tablesOf(blocks);
      expect(tables).toHaveLength(expected.length);
      tables.forEach((table, i) => {
        const rows = table.content ?? [];
        expect(rows).toHaveLength(expected[i]!.rows.length + 1);
        for (const row of rows) {
          expect(row.content).toHaveLength(expected[i]!.header.length);
          // A cell holds one paragraph: no heading, quote, code block or list leaked in.
          for (const cell of row.content ?? []) expect((cell.content ?? []).map((node) => node.type)).toEqual(['paragraph']);
        }
        // Jira cannot escape | in a cell, a \ before markup or a { before a macro name in a cell: they are drawn as ¦, ⧵ and ❴.
        const cells = rows.slice(1).map((row) => (row.content ?? []).map((cell) => textOf(cell).replaceAll('\u00a6', '|').replaceAll('\u29f5', '\\').replaceAll('\u2774', '{')));
        if (!redact) expect(cells).toEqual(expected[i]!.rows.map((row) => row.map(cellText)));
      });
      const codes = top.filter((node) => node.type === 'codeBlock');
      const pre = preOf(blocks);
      expect(codes).toHaveLength(pre.length);
      if (!redact)
        codes.forEach((node, i) => {
          expect(textOf(node)).toBe(pre[i]!.lines.map(defuseNoformat).join('\n'));
        });
      expect(top.filter((node) => node.type === 'heading')).toHaveLength(blocks.filter((block) => block.type === 'heading').length);
      expect(top.map((node) => node.type).filter((type) => !['heading', 'paragraph', 'table', 'codeBlock', 'bulletList'].includes(type))).toEqual([]);
    });
  }
});

function cellText(cell: Inline[]): string {
  return cell.map((inline) => escapeControl(inline.text)).join('');
}

function markdownText(tokens: readonly Token[]): string {
  return tokens
    .map((token) => {
      if ('tokens' in token && token.tokens !== undefined && token.type !== 'codespan') return markdownText(token.tokens);
      return 'text' in token ? String(token.text) : '';
    })
    .join('');
}

function textOf(node: AdfNode): string {
  return node.text ?? (node.content ?? []).map(textOf).join('');
}

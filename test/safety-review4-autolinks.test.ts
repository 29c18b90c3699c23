// Review 4, item 7b: text from a trace (a process name, a file name, a
// meta.json string) that reads like a URL became a clickable link: a GFM
// autolink in Markdown (http://, https://, www., an e-mail address) and a
// bare URL in Jira. Judged by the real parsers (marked; Atlassian's
// wiki-markup transformer): no link but orphanmap's own, and the text still
// reads as the trace has it.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked, type Token, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';
import { LOOKALIKE } from '../src/report/jira.js';
import { parseJira, type AdfNode } from './support/jira.js';
import { REPO, runCli } from './support/tools.js';

/** The review's trace: a process named https://evil.example/login maps a file and unlinks it. */
const COMMLINK = readFileSync(join(import.meta.dirname, 'fixtures', 'review4', 'commlink.txt'), 'utf8');
const B1 = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'review4', 'b1-meta.json'), 'utf8')) as Record<string, string>;
const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');

/** orphanmap's own links: the upstream Kafka tickets. */
const OWN = /^https:\/\/issues\.apache\.org\/jira\/browse\/KAFKA-\d+$/;

const NAMES = ['https://evil.example/login', 'HTTP://EVIL.EXAMPLE/X', 'ftp://evil.example/a', 'irc://evil.example', 'www.evil.example', '_www.evil.example', 'x@evil.example', 'mailto:x@evil.example'];

function markdownLinks(markdown: string): string[] {
  const found: string[] = [];
  const walk = (token: Token) => {
    if (token.type === 'link' && !OWN.test((token as Tokens.Link).href)) found.push((token as Tokens.Link).href);
    if (token.type === 'html') found.push(`html: ${token.raw}`);
    if (token.type === 'table') for (const cell of [...(token as Tokens.Table).header, ...(token as Tokens.Table).rows.flat()]) cell.tokens.forEach(walk);
    (token as { tokens?: Token[] }).tokens?.forEach(walk);
    (token as { items?: Token[] }).items?.forEach(walk);
  };
  marked.lexer(markdown).forEach(walk);
  return found;
}

function jiraLinks(node: AdfNode): string[] {
  const here = (node.marks ?? []).filter((mark) => mark.type === 'link' && !OWN.test(mark.attrs?.href ?? '')).map((mark) => mark.attrs?.href ?? '');
  return [...here, ...(node.content ?? []).flatMap(jiraLinks)];
}

function jiraText(node: AdfNode): string {
  return (node.text ?? (node.content ?? []).map(jiraText).join('\n')).replaceAll(LOOKALIKE.colon, ':');
}

describe.each(NAMES)('a process named %s', (name) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-review4-links-')), 'www.evil.example');
  mkdirSync(dir);
  const trace = join(dir, 'trace.txt');
  writeFileSync(trace, COMMLINK.replaceAll('https://evil.example/login', name));

  it.each([false, true])('is no link in Markdown (redact %s), and reads as it is', (redact) => {
    const run = runCli(['analyze', trace, '--format', 'markdown', ...(redact ? ['--redact'] : [])]);
    expect(run.status, run.stderr).toBe(0);
    expect(markdownLinks(run.stdout)).toEqual([]);
    const html = marked.parse(run.stdout, { async: false });
    expect(html).toContain(`tid 100 (${name})`);
  });

  it.each([false, true])('is no link in Jira (redact %s), and reads as it is', (redact) => {
    const run = runCli(['analyze', trace, '--format', 'jira', ...(redact ? ['--redact'] : [])]);
    expect(run.status, run.stderr).toBe(0);
    const adf = parseJira(run.stdout);
    expect(jiraLinks(adf)).toEqual([]);
    expect(jiraText(adf)).toContain(`tid 100 (${name})`);
  });
});

describe("a bundle whose meta.json strings are the review's b1 strings", () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-review4-links-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  // Strings with [x](http://e), |, `, {noformat}, an override, a newline and <b>: the types a capture writes.
  for (const field of ['kernel', 'hostname', 'comm', 'tracerVersion', 'startTime', 'command']) meta[field] = B1[field];
  meta.jvmVersion = `${B1.kernel} see https://evil.example/x or www.evil.example, mail x@evil.example`;
  meta.endTime = 'mailto:x@evil.example';
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));

  it.each([false, true])('draws its environment table with two cells a row and no link, in Markdown and Jira (redact %s)', (redact) => {
    const markdown = runCli(['analyze', dir, '--format', 'markdown', ...(redact ? ['--redact'] : [])]);
    expect(markdown.status, markdown.stderr).toBe(0);
    expect(markdownLinks(markdown.stdout)).toEqual([]);
    const tables = marked.lexer(markdown.stdout).filter((token): token is Tokens.Table => token.type === 'table');
    const environment = tables.find((table) => table.rows.some((row) => row[0]?.text === 'host kernel'));
    expect(environment?.rows.map((row) => row.length)).toEqual(environment?.rows.map(() => 2));
    expect(environment?.rows.map((row) => row[0]?.text)).toContain('JVM');

    const jira = runCli(['analyze', dir, '--format', 'jira', ...(redact ? ['--redact'] : [])]);
    const adf = parseJira(jira.stdout);
    expect(jiraLinks(adf)).toEqual([]);
    const table = (adf.content ?? []).find((node) => node.type === 'table' && jiraText(node).includes('host kernel'));
    expect(table?.content?.map((row) => row.content?.length)).toEqual(table?.content?.map(() => 2));
    if (!redact) expect(jiraText(adf)).toContain('see https://evil.example/x or www.evil.example, mail x@evil.example');
  });
});

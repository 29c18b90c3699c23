// Upstream tickets are links where the markup has them (issue #15): Jira and
// Markdown readers must see KAFKA-19390 as the key people search for, linked
// to its page, while everything from the trace stays escaped. Checked with the
// real parsers: Atlassian's wiki-markup transformer and marked.
import { join } from 'node:path';
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { link } from '../src/report/document.js';
import { parseJira, type AdfNode } from './support/jira.js';
import { REPO, runCli } from './tools.js';

const LEAKY = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');

function linksIn(node: AdfNode): { text: string; href: string }[] {
  const here = (node.marks ?? []).filter((mark) => mark.type === 'link').map((mark) => ({ text: node.text ?? '', href: mark.attrs?.href ?? '' }));
  return [...here, ...(node.content ?? []).flatMap(linksIn)];
}

const EXPECTED = [
  { text: 'KAFKA-7442', href: 'https://issues.apache.org/jira/browse/KAFKA-7442' },
  { text: 'KAFKA-19390', href: 'https://issues.apache.org/jira/browse/KAFKA-19390' },
];

describe('upstream tickets in a report on Kafka index files', () => {
  it('are Jira links that show the key', () => {
    const jira = runCli(['analyze', LEAKY, '--format', 'jira']).stdout;
    expect(jira).toContain('[KAFKA-19390|https://issues.apache.org/jira/browse/KAFKA-19390]');
    expect(linksIn(parseJira(jira))).toEqual(expect.arrayContaining(EXPECTED));
  });

  it('are Markdown links that show the key', () => {
    const markdown = runCli(['analyze', LEAKY, '--format', 'markdown']).stdout;
    const html = marked.parse(markdown, { async: false });
    for (const { text, href } of EXPECTED) expect(html).toContain(`<a href="${href}">${text}</a>`);
  });

  it('a link is built only from plain text and an https address', () => {
    expect(() => link('KAFKA-1|x', 'https://issues.apache.org/jira/browse/KAFKA-1')).toThrow();
    expect(() => link('KAFKA-1', 'javascript:alert(1)')).toThrow();
    expect(() => link('KAFKA-1', 'https://issues.apache.org/jira/browse/KAFKA-1]')).toThrow();
  });
});

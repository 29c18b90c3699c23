// Review 4, item 7a: a timeline's carets are placed under the line as the
// document holds it, and Jira then defused a {noformat} in the line with an
// inserted backslash, so the carets sat one column left of the address. The
// truth is the trace: each caret run must stand under an address the trace's
// mmap calls returned, in the code blocks Atlassian's parser (and marked)
// read back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { marked, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';
import { parseJira, type AdfNode } from './support/jira.js';
import { runCli } from './support/tools.js';

/** Ten processes with hostile names (comm), one with {noformat} in it, each mapping a file it unlinks. */
const TRACE = join(import.meta.dirname, 'fixtures', 'review4', 'comm.txt');
const ADDRESSES = new Set([...readFileSync(TRACE, 'utf8').matchAll(/ mmap\(.*\) = (0x[0-9a-f]+)$/gm)].map((match) => match[1]!));

function codeBlocks(node: AdfNode): string[] {
  const text = (n: AdfNode): string => n.text ?? (n.content ?? []).map(text).join('');
  return node.type === 'codeBlock' ? [text(node)] : (node.content ?? []).flatMap(codeBlocks);
}

/** Each caret run of each timeline, with what stands above it. */
function underCarets(blocks: readonly string[]): { above: string; line: string }[] {
  const found: { above: string; line: string }[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    lines.forEach((line, i) => {
      if (!line.endsWith(' orphaned mapping')) return;
      for (const run of line.matchAll(/\^+/g)) found.push({ above: lines[i - 1]!.slice(run.index, run.index + run[0].length), line: lines[i - 1]! });
    });
  }
  return found;
}

describe('timelines of a trace whose process names hold markup', () => {
  it('the trace has what the test needs: ten mappings, one of a process named with {noformat}', () => {
    expect(ADDRESSES.size).toBe(10);
    expect(readFileSync(TRACE, 'utf8')).toContain('<{noformat}x{nof>');
  });

  it.each([false, true])('in Jira (redact %s), every caret run stands under an address the trace mapped', (redact) => {
    const jira = runCli(['analyze', TRACE, '--format', 'jira', ...(redact ? ['--redact'] : [])]).stdout;
    const runs = underCarets(codeBlocks(parseJira(jira)));
    expect(runs).toHaveLength(10);
    for (const { above, line } of runs) expect(ADDRESSES.has(above), `"${above}" under the carets of ${line}`).toBe(true);
    // The {noformat} line is among them, defused.
    expect(runs.some(({ line }) => /noformat/i.test(line))).toBe(true);
  });

  it('in Markdown too', () => {
    const markdown = runCli(['analyze', TRACE, '--format', 'markdown']).stdout;
    const blocks = marked
      .lexer(markdown)
      .filter((token): token is Tokens.Code => token.type === 'code')
      .map((token) => token.text);
    const runs = underCarets(blocks);
    expect(runs).toHaveLength(10);
    for (const { above, line } of runs) expect(ADDRESSES.has(above), `"${above}" under the carets of ${line}`).toBe(true);
  });
});

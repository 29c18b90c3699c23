// Jira wiki markup (h2., ||heading|| tables, {noformat} blocks). Jira's
// parsers cannot escape everything: `\|` still splits a table cell, and `\\`
// is a line break. So text from a trace is escaped where markup allows it, a
// pipe inside a table and a backslash that would escape something are drawn
// as look-alikes (¦, ⧵), and a literal {noformat} inside a block is defused.
import { assertNever, type Block, type Inline } from './document.js';
import type { Report } from './report.js';
import { escapeControl } from './sanitize.js';
import { reportDocument, type TicketOptions } from './ticket.js';

export function formatJira(report: Report, options: TicketOptions): string {
  return renderJira(reportDocument(report, options));
}

export function renderJira(blocks: readonly Block[]): string {
  return `${blocks.map(renderBlock).join('\n\n')}\n`;
}

function renderBlock(block: Block): string {
  switch (block.type) {
    case 'heading':
      return `h${block.level}. ${escapeJira(block.text, false)}`;
    case 'paragraph':
      return guardBlockStart(block.content, false);
    case 'list':
      return block.items.map((item) => `* ${guardBlockStart(item, false)}`).join('\n');
    case 'table': {
      const header = `||${block.header.map((cell) => (cell === '' ? ' ' : escapeJira(cell, true))).join('||')}||`;
      const rows = block.rows.map((cells) => `|${cells.map((cell) => guardBlockStart(cell, true) || ' ').join('|')}|`);
      return [header, ...rows].join('\n');
    }
    case 'preformatted':
      return ['{noformat}', ...block.lines.map(defuseNoformat), '{noformat}'].join('\n');
    default:
      return assertNever(block);
  }
}

/** `h2.` or `bq.` at the start of a paragraph or cell would make a heading or a quote: show such text monospace. */
function guardBlockStart(content: readonly Inline[], inTable: boolean): string {
  const first = content[0];
  if (first !== undefined && first.type === 'text' && /^\s*(h[1-6]|bq)\./i.test(first.text)) {
    return [{ type: 'code', text: first.text } as const, ...content.slice(1)].map((inline) => renderInline(inline, inTable)).join('');
  }
  return content.map((inline) => renderInline(inline, inTable)).join('');
}

function renderInline(inline: Inline, inTable: boolean): string {
  switch (inline.type) {
    case 'text':
      return escapeJira(inline.text, inTable);
    case 'strong': {
      // `*bold *` is not bold: keep surrounding spaces outside the markers.
      const [, lead = '', body = '', trail = ''] = /^(\s*)([^]*?)(\s*)$/.exec(inline.text) ?? [];
      return body === '' ? inline.text : `${lead}*${escapeJira(body, inTable)}*${trail}`;
    }
    case 'code':
      return inline.text === '' ? '' : `{{${escapeJira(inline.text, inTable)}}}`;
    default:
      return assertNever(inline);
  }
}

// Characters that start Jira markup (effects, links, macros, lists, emoticons,
// mentions) and that a backslash turns back into themselves.
const JIRA_SPECIAL = new Set(['{', '}', '[', ']', '*', '_', '-', '+', '^', '~', '!', '?', '#', '(', ')', '@', '|']);

export function escapeJira(value: string, inTable: boolean): string {
  const safe = escapeControl(value);
  let out = '';
  for (let i = 0; i < safe.length; i++) {
    const char = safe[i]!;
    if (char === '\\') {
      // `\n`, `\x1b` from escapeControl stay literal; `\\` or `\*` would not.
      out += /[A-Za-z0-9 ]/.test(safe[i + 1] ?? '') ? '\\' : '\u29f5';
    } else if (char === '|' && inTable) out += '\u00a6';
    else if (JIRA_SPECIAL.has(char)) out += `\\${char}`;
    else out += char;
  }
  return out;
}

/** Inside {noformat} nothing is markup except the closing {noformat} itself. */
export function defuseNoformat(line: string): string {
  return escapeControl(line).replaceAll('{noformat}', '{noformat\\}');
}

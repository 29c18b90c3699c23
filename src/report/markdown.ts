// GitHub-flavoured Markdown for a ticket or an issue. Everything from a trace
// is escaped: prose and table cells backslash-escape Markdown punctuation (a
// pipe cannot end a cell) and what would start an autolink (https\://,
// www\., \@), code spans and fenced blocks use a fence longer than any
// backtick run inside, and control characters are shown as escapes.
import { assertNever, type Block, type Inline } from './document.js';
import { escapeControl } from './sanitize.js';

export function renderMarkdown(blocks: readonly Block[]): string {
  return `${blocks.map(renderBlock).join('\n\n')}\n`;
}

function renderBlock(block: Block): string {
  switch (block.type) {
    case 'heading':
      return `${'#'.repeat(block.level)} ${escapeMarkdown(block.text)}`;
    case 'paragraph':
      return guardLineStart(block.content.map((inline) => renderInline(inline, false)).join(''));
    case 'list':
      return block.items.map((item) => `- ${guardLineStart(item.map((inline) => renderInline(inline, false)).join(''))}`).join('\n');
    case 'table': {
      const row = (cells: string[]) => `| ${cells.map((cell) => (cell === '' ? ' ' : cell)).join(' | ')} |`;
      const lines = [row(block.header.map(escapeMarkdown)), row(block.header.map(() => '---'))];
      for (const cells of block.rows) lines.push(row(cells.map((cell) => cell.map((inline) => renderInline(inline, true)).join(''))));
      return lines.join('\n');
    }
    case 'preformatted': {
      const lines = block.lines.map(escapeControl);
      const fence = '`'.repeat(Math.max(3, longestRun(lines.join('\n'), '`') + 1));
      return [`${fence}text`, ...lines, fence].join('\n');
    }
    default:
      return assertNever(block);
  }
}

function renderInline(inline: Inline, inTable: boolean): string {
  switch (inline.type) {
    case 'text':
      return escapeMarkdown(inline.text);
    case 'strong': {
      // Emphasis cannot end in a space: keep surrounding spaces outside the markers.
      const [, lead = '', body = '', trail = ''] = /^(\s*)([\s\S]*?)(\s*)$/.exec(inline.text) ?? [];
      return body === '' ? inline.text : `${lead}**${escapeMarkdown(body)}**${trail}`;
    }
    case 'code':
      return codeSpan(escapeControl(inline.text), inTable);
    case 'link':
      return `[${escapeMarkdown(inline.text)}](${inline.url})`;
    default:
      return assertNever(inline);
  }
}

/**
 * A code span whose fence outruns the backticks inside. In a GFM table a pipe
 * must be escaped even inside a code span, and a backslash before it cannot be
 * (code spans are literal): such text is shown as escaped prose instead.
 */
export function codeSpan(value: string, inTable: boolean): string {
  if (value === '') return '';
  if (inTable && value.includes('|')) return escapeMarkdown(value);
  const fence = '`'.repeat(longestRun(value, '`') + 1);
  const pad = value.startsWith('`') || value.endsWith('`') || value.startsWith(' ') || value.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

// CommonMark lets any ASCII punctuation be backslash-escaped; these are the
// ones that can start markup (emphasis, links, HTML, entities, tables, code),
// and @, which would make an e-mail address a link (a GFM autolink).
const MARKDOWN_SPECIAL = /[\\`*_[\]<>|#!~&{}@]/g;

/**
 * GFM makes a link of text that starts `scheme://` or `www.` too: the colon
 * and that dot are escaped, which draws them as they are and links nothing
 * (`https\://evil.example` reads https://evil.example, as text).
 */
const AUTOLINK_START = /:(?=\/\/)|(?<=www)\./gi;

export function escapeMarkdown(value: string): string {
  return escapeControl(value).replace(MARKDOWN_SPECIAL, '\\$&').replace(AUTOLINK_START, '\\$&');
}

/** Text that starts a block cannot start a list item ("1. ", "- ", "+ "). */
function guardLineStart(line: string): string {
  return line.replace(/^(\d+)([.)])/, '$1\\$2').replace(/^([-+])(\s|$)/, '\\$1$2');
}

function longestRun(value: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of value) {
    run = c === char ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

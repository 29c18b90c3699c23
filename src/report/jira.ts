// Jira wiki markup (h2., ||heading|| tables, {noformat} blocks). Jira's
// parsers cannot escape everything: `\|` still splits a table cell, `\\` is a
// line break, and a table row is cut into cells before escapes are read, so
// `\{noformat:title=x\}` in a cell still opens a block that swallows the rest
// of the report (Atlassian's parser: a macro's parameters may end in `\`); a
// list item is cut the same way. So text from a trace is escaped where markup
// allows it; a backslash that would escape something, a pipe in a table cell,
// a `{` before a letter (a macro name) in a cell or list item, and the colon
// of a URL Jira would link (https://, mailto:) are drawn as look-alikes (⧵, ¦,
// ❴, ꞉); and a literal {noformat} inside a block is drawn ❴noformat}.
import { assertNever, type Block, type Inline } from './document.js';
import { escapeControl } from './sanitize.js';

export function renderJira(blocks: readonly Block[]): string {
  return `${blocks.map(renderBlock).join('\n\n')}\n`;
}

function renderBlock(block: Block): string {
  switch (block.type) {
    case 'heading':
      return `h${block.level}. ${escapeJira(block.text, 'prose')}`;
    case 'paragraph':
      return guardBlockStart(block.content, 'prose');
    case 'list':
      return block.items.map((item) => `* ${guardBlockStart(item, 'list')}`).join('\n');
    case 'table': {
      const header = `||${block.header.map((cell) => (cell === '' ? ' ' : escapeJira(cell, 'table'))).join('||')}||`;
      const rows = block.rows.map((cells) => `|${cells.map((cell) => guardBlockStart(cell, 'table') || ' ').join('|')}|`);
      return [header, ...rows].join('\n');
    }
    case 'preformatted':
      return ['{noformat}', ...block.lines.map(defuseNoformat), '{noformat}'].join('\n');
    default:
      return assertNever(block);
  }
}

/** `h2.` or `bq.` at the start of a paragraph or cell would make a heading or a quote: show such text monospace. */
function guardBlockStart(content: readonly Inline[], where: Where): string {
  const first = content[0];
  if (first !== undefined && first.type === 'text' && /^\s*(h[1-6]|bq)\./i.test(first.text)) {
    return [{ type: 'code', text: first.text } as const, ...content.slice(1)].map((inline) => renderInline(inline, where)).join('');
  }
  return content.map((inline) => renderInline(inline, where)).join('');
}

function renderInline(inline: Inline, where: Where): string {
  switch (inline.type) {
    case 'text':
      return escapeJira(inline.text, where);
    case 'strong': {
      // `*bold *` is not bold: keep surrounding spaces outside the markers.
      const [, lead = '', body = '', trail = ''] = /^(\s*)([\s\S]*?)(\s*)$/.exec(inline.text) ?? [];
      return body === '' ? inline.text : `${lead}*${escapeJira(body, where)}*${trail}`;
    }
    case 'code':
      return inline.text === '' ? '' : `{{${escapeJira(inline.text, where)}}}`;
    case 'link':
      // Text and address are plain by construction (document.ts `link`): Jira shows and links the key as is.
      return `[${inline.text}|${inline.url}]`;
    default:
      return assertNever(inline);
  }
}

// Characters that start Jira markup (effects, links, macros, lists, emoticons,
// mentions) and that a backslash turns back into themselves.
const JIRA_SPECIAL = new Set(['{', '}', '[', ']', '*', '_', '-', '+', '^', '~', '!', '?', '#', '(', ')', '@', '|']);

/**
 * Where text goes. Atlassian's parser cuts a table row into cells and a list
 * into items before it reads escapes, and opens a macro it meets on the way.
 */
export type Where = 'prose' | 'list' | 'table';

/** Look-alikes for what no escape protects: a backslash before markup anywhere, a pipe in a table cell, a macro's `{` in a cell or list item, the colon of a link's scheme. */
export const LOOKALIKE = { pipe: '\u00a6', backslash: '\u29f5', macroBrace: '\u2774', colon: '\ua789' } as const;

/**
 * The colon of what Jira makes a link of by itself: `scheme://…` (http, https,
 * ftp, irc, file…) and mailto:, news:, nntp:, which no backslash escapes (Jira
 * escapes only its markup characters): drawn as the look-alike ꞉, the text
 * reads the same and links nothing.
 */
const AUTOLINK_COLON = /:(?=\/\/)|(?<=\b(?:mailto|news|nntp|file|jamfselfservice)):/gi;

export function escapeJira(value: string, where: Where): string {
  const safe = escapeControl(value).replace(AUTOLINK_COLON, LOOKALIKE.colon);
  let out = '';
  for (let i = 0; i < safe.length; i++) {
    const char = safe[i]!;
    const next = safe[i + 1] ?? '';
    if (char === '\\') {
      // `\n`, `\x1b` from escapeControl stay literal; `\\` or `\*` would not.
      out += /[A-Za-z0-9 ]/.test(next) ? '\\' : LOOKALIKE.backslash;
    } else if (char === '|' && where === 'table') out += LOOKALIKE.pipe;
    else if (char === '{' && where !== 'prose' && /[A-Za-z]/.test(next)) out += LOOKALIKE.macroBrace;
    else if (JIRA_SPECIAL.has(char)) out += `\\${char}`;
    else out += char;
  }
  return out;
}

/**
 * Inside {noformat} nothing is markup except the closing {noformat} itself
 * (in any case: Atlassian's parser closes on the opening's spelling, and a
 * renderer that ignores case must not be able to close it either). Its brace
 * is drawn as the look-alike ❴, one character for one: a timeline's carets,
 * placed under the line as it stands, stay under the address (an inserted
 * backslash moved every column after it).
 */
export function defuseNoformat(line: string): string {
  return escapeControl(line).replace(/\{(noformat)\}/gi, `${LOOKALIKE.macroBrace}$1}`);
}

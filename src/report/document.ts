// A tiny document model shared by the Markdown and Jira renderers: the content
// of a ticket-ready report is decided once, here and in ticket.ts, and each
// markup only decides how to escape and draw it. Every string in it is
// untrusted (it may come from a trace) unless a node type says otherwise;
// renderers escape all of them.

/**
 * Inline content: plain prose, a literal shown monospace (paths, addresses),
 * emphasis, or a link. A link's text and address are orphanmap's own (an
 * upstream ticket), never from a trace: `link` accepts only such text.
 */
export type Inline = { type: 'text'; text: string } | { type: 'code'; text: string } | { type: 'strong'; text: string } | { type: 'link'; text: string; url: string };

export type Block =
  | { type: 'heading'; level: 1 | 2 | 3; text: string }
  | { type: 'paragraph'; content: Inline[] }
  | { type: 'list'; items: Inline[][] }
  | { type: 'table'; header: string[]; rows: Inline[][][] }
  /** Raw lines shown verbatim (trace lines, maps lines, a command). */
  | { type: 'preformatted'; lines: string[] };

export const text = (value: string): Inline => ({ type: 'text', text: value });
export const code = (value: string): Inline => ({ type: 'code', text: value });
export const strong = (value: string): Inline => ({ type: 'strong', text: value });

const LINK_TEXT = /^[A-Za-z0-9][A-Za-z0-9 .-]*$/;
const LINK_URL = /^https:\/\/[A-Za-z0-9.-]+\/[A-Za-z0-9/._-]*$/;

/** A link to an upstream reference; anything that could carry markup is refused. */
export function link(value: string, url: string): Inline {
  if (!LINK_TEXT.test(value) || !LINK_URL.test(url)) throw new Error(`not a plain link: ${value} ${url}`);
  return { type: 'link', text: value, url };
}

/** An Apache Jira issue, e.g. KAFKA-19390, as a link to its page. */
export const apacheIssue = (key: string): Inline => link(key, `https://issues.apache.org/jira/browse/${key}`);

export const heading = (level: 1 | 2 | 3, value: string): Block => ({ type: 'heading', level, text: value });
export const paragraph = (...content: Inline[]): Block => ({ type: 'paragraph', content });

/** A table cell from a plain string (prose) or inline content. */
export type Cell = string | Inline | Inline[];

export function table(header: string[], rows: Cell[][]): Block {
  return { type: 'table', header, rows: rows.map((row) => row.map(cellContent)) };
}

function cellContent(cell: Cell): Inline[] {
  if (typeof cell === 'string') return [text(cell)];
  return Array.isArray(cell) ? cell : [cell];
}

export function assertNever(value: never): never {
  throw new Error(`unexpected document node: ${JSON.stringify(value)}`);
}

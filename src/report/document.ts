// A tiny document model shared by the Markdown and Jira renderers: the content
// of a ticket-ready report is decided once, here and in ticket.ts, and each
// markup only decides how to escape and draw it. Every string in it is
// untrusted (it may come from a trace) unless a node type says otherwise;
// renderers escape all of them.

/** Inline content: plain prose, a literal shown monospace (paths, addresses), or emphasis. */
export type Inline = { type: 'text'; text: string } | { type: 'code'; text: string } | { type: 'strong'; text: string };

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

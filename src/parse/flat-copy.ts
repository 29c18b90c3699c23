// One place for the copy that keeps a string from pinning its source: parse,
// ingest and the engine all keep strings cut from trace lines.

/**
 * A flat copy of a string: a slice of a trace line would keep the whole line
 * (and the input chunk the line is a slice of) alive. V8 copies a slice under
 * 13 characters, and makes a longer one a view into its source (so did the
 * `(' ' + text).slice(1)` copy this replaces: a view of 32 bytes on its own
 * copy); the join of two parts is one new flat string.
 */
export function flatCopy(text: string): string {
  return text.length < 13 ? text : [text.slice(0, 1), text.slice(1)].join('');
}

// --path GLOB: `*` and `?` within a path component, `**` across components.
// A pattern without a slash matches the file's base name, like .gitignore.
// Everything else, `[`, `\` and `{` included, is a literal character.
//
// The pattern comes from the user and the name from a trace, and either can be
// thousands of characters long: matching must not backtrack. A regex like
// ^[^/]*-[^/]*-[^/]*\.deleted$ tries every split of the name among the stars
// (14 s for three stars against a 4,000-character name, issue #11 item 12).
// Instead the pattern is run as an NFA, one set of live positions per
// character of the name: O(name × pattern) time and O(pattern) memory, whatever
// the input.

export type GlobToken =
  | { kind: 'literal'; char: string }
  /** `?`: one character other than `/`. */
  | { kind: 'one' }
  /** `*`: any run of characters other than `/`; `**`: any run at all. */
  | { kind: 'star'; crossesSlash: boolean };

/** The pattern as tokens; a run of stars is one star (a run holding `**` crosses slashes). */
export function globTokens(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  const chars = Array.from(pattern); // `?` is one character, not one UTF-16 unit
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '*') {
      const crossesSlash = chars[i + 1] === '*';
      if (crossesSlash) i++;
      const last = tokens[tokens.length - 1];
      if (last?.kind === 'star') last.crossesSlash ||= crossesSlash;
      else tokens.push({ kind: 'star', crossesSlash });
    } else if (char === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'literal', char });
  }
  return tokens;
}

/** Whether `name` matches the whole of `tokens`. */
export function matchTokens(tokens: readonly GlobToken[], name: string): boolean {
  const m = tokens.length;
  // live[i]: the first i tokens can match what has been read so far.
  let live = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  live[0] = 1;
  closeOverStars(tokens, live);
  for (const char of name) {
    next.fill(0);
    let any = false;
    for (let i = 0; i < m; i++) {
      if (live[i] === 0) continue;
      const token = tokens[i]!;
      // A star stays on its own position; a literal or `?` moves past itself.
      const to = token.kind === 'star' ? i : i + 1;
      if (accepts(token, char)) {
        next[to] = 1;
        any = true;
      }
    }
    if (!any) return false;
    closeOverStars(tokens, next);
    [live, next] = [next, live];
  }
  return live[m] === 1;
}

function accepts(token: GlobToken, char: string): boolean {
  switch (token.kind) {
    case 'star':
      return token.crossesSlash || char !== '/';
    case 'one':
      return char !== '/';
    case 'literal':
      return char === token.char;
    default: {
      const unexpected: never = token;
      throw new Error(`unexpected glob token ${JSON.stringify(unexpected)}`);
    }
  }
}

/** A star may match nothing: a live position before a star makes the one after it live. */
function closeOverStars(tokens: readonly GlobToken[], live: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) {
    if (live[i] === 1 && tokens[i]!.kind === 'star') live[i + 1] = 1;
  }
}

export function globMatcher(pattern: string): (path: string) => boolean {
  const tokens = globTokens(pattern);
  const baseOnly = !pattern.includes('/');
  return (path) => matchTokens(tokens, baseOnly ? path.slice(path.lastIndexOf('/') + 1) : path);
}

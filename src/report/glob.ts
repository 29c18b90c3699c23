// --path GLOB: `*` and `?` within a path component, `**` across components.
// A pattern without a slash matches the file's base name, like .gitignore.

export function globMatcher(pattern: string): (path: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') {
      if (pattern[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`);
  const baseOnly = !pattern.includes('/');
  return (path) => regex.test(baseOnly ? path.slice(path.lastIndexOf('/') + 1) : path);
}

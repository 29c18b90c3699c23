// A `-e trace=` list that leaves out a call the engine reads makes traces
// that lack it: review 31 found memfd_create decoded but missing from every
// list we recommend, so a memfd's mapping was "of an fd no traced call made"
// unless -y named it. The lists a user copies (README, docs/trace-formats.md),
// the one `capture --backend strace` runs (scripts/capture-strace.sh) and the
// one the tests trace with must each hold every call the parser decodes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOLLOWED_SYSCALLS } from '../src/parse/strace-decode.js';
import { REPO, STRACE_FILTER } from './support/tools.js';

/**
 * Not needed in a list: the 32-bit spellings strace prints only on 32-bit
 * ABIs (an x86-64 strace refuses most of them by name), and set_tid_address,
 * read only from an unfiltered trace to stderr for its first pid.
 */
const NOT_NEEDED = new Set(['fcntl64', 'mmap2', 'ftruncate64', 'truncate64', 'set_tid_address']);

function listIn(file: string, pattern: RegExp): string[] {
  const text = readFileSync(join(REPO, file), 'utf8');
  const found = pattern.exec(text);
  if (found === null) throw new Error(`${file} has no line matching ${pattern}`);
  // strace's "?name": trace the call where this kernel has it.
  return found[1]!.split(',').map((name) => name.replace(/^\?/, ''));
}

const LISTS: Record<string, string[]> = {
  'README.md': listIn('README.md', /-e trace=([a-z0-9_,]+) \\/),
  'docs/trace-formats.md': listIn('docs/trace-formats.md', /-e trace=([a-z0-9_,]+) \\/),
  'scripts/capture-strace.sh': listIn('scripts/capture-strace.sh', /^OM_STRACE_SYSCALLS='([?a-z0-9_,]+)'$/m),
  'test/support/tools.ts': STRACE_FILTER.split(','),
};

describe('the -e trace= lists', () => {
  const needed = [...FOLLOWED_SYSCALLS].filter((name) => !NOT_NEEDED.has(name));

  it.each(Object.keys(LISTS))('%s holds every call the parser decodes', (file) => {
    expect(needed.filter((name) => !LISTS[file]!.includes(name))).toEqual([]);
  });

  it('name nothing the parser skips, but exit (harmless) and the 32-bit mmap2 (captures on such hosts)', () => {
    for (const [file, names] of Object.entries(LISTS)) {
      const unread = names.filter((name) => !FOLLOWED_SYSCALLS.has(name) && name !== 'exit');
      expect({ file, unread }).toEqual({ file, unread: [] });
    }
  });
});

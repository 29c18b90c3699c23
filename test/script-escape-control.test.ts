// The capture scripts print messages that name paths others may choose (a
// bundle renamed mid-capture, a target's command). bundle-lib.sh's
// om_escape_ctl must show every character the CLI escapes (escapeControl)
// escaped too: a C1 CSI (U+009B) or a bidi override let through raw drives
// or disguises the terminal all the same (found by review: C1 and bidi passed).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { escapeControl } from '../src/report/sanitize.js';
import { REPO } from './support/tools.js';

const LIB = join(REPO, 'scripts', 'bundle-lib.sh');

/** om_escape_ctl of each text, run by bash under `locale`. */
function shellEscaped(texts: string[], locale: string): string[] {
  const script = `. "$1"; shift; for t in "$@"; do om_escape_ctl m "$t"; printf '%s\\0' "$m"; done`;
  const run = spawnSync('bash', ['-c', script, 'bash', LIB, ...texts], { encoding: 'utf8', env: { ...process.env, LC_ALL: locale } });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\0').slice(0, -1);
}

const CHARS = [
  ...Array.from({ length: 31 }, (_, i) => i + 1),
  0x7f,
  ...Array.from({ length: 32 }, (_, i) => 0x80 + i),
  0x61c,
  ...[0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e],
  ...[0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff],
].map((code) => String.fromCodePoint(code));

it.each(['C.UTF-8', 'C'])('escapes every character the CLI escapes, as the CLI writes it, under LC_ALL=%s', (locale) => {
  const texts = CHARS.map((char) => `/data/a${char}b.index`);
  expect(shellEscaped(texts, locale)).toEqual(texts.map(escapeControl));
});

it('escapes every code point the CLI escapes (found by review 4: format and default-ignorable characters, the tag block), under LC_ALL=C.UTF-8', () => {
  const escaped: string[] = [];
  for (let code = 1; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const char = String.fromCodePoint(code);
    if (escapeControl(char) !== char) escaped.push(char);
  }
  // The CLI's own list, not one written here: the tag block alone is 4,096.
  expect(escaped.length).toBeGreaterThan(4096);
  const texts: string[] = [];
  for (let i = 0; i < escaped.length; i += 64) texts.push(`/data/${escaped.slice(i, i + 64).join('x')}.index`);
  expect(shellEscaped(texts, 'C.UTF-8')).toEqual(texts.map(escapeControl));
}, 60_000);

it('shows a tag-block lead that is no UTF-8 as its bytes, and keeps what follows it (final review: it swallowed an escaped newline)', () => {
  const run = spawnSync('bash', ['-c', `. "$1"; om_escape_ctl m $'a\\xf3\\xa0\\nb\\xf3\\xa0'; printf '%s' "$m"`, 'bash', LIB], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toBe('a\\xf3\\xa0\\nb\\xf3\\xa0');
});

it('leaves text without such characters as it is, backslashes and other non-ASCII included', () => {
  const texts = ['/data/plain\\path', '/données/ü é/日本.index', 'a b\tc'.replace('\t', ' ')];
  expect(shellEscaped(texts, 'C.UTF-8')).toEqual(texts);
});

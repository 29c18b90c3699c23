// A record's fields (src/parse/bpftrace-fields.ts), found in place instead of
// split into a map: whatever the text, the same values as a map made by
// splitting it (the reading every record had before), or the same refusal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFields } from '../src/parse/bpftrace-fields.js';

/** The reference: split at blanks, each token at its first `=`, the last of a key kept. */
function splitFields(text: string): Map<string, string> | null {
  const fields = new Map<string, string>();
  for (const token of text.split(' ')) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq <= 0) return null;
    fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return fields;
}

/** Keys asked of a record: those it has, and some it has not. */
const ASKED = ['ret', 'fd', 'ens', 'len', 'path', 'r', 're', 'rett', '', '=', 'a=b', 'x'];

function expectSame(text: string): void {
  const fields = parseFields(text);
  const reference = splitFields(text);
  expect(fields === null, JSON.stringify(text)).toBe(reference === null);
  if (fields === null || reference === null) return;
  for (const key of [...reference.keys(), ...ASKED]) {
    expect(fields.get(key), `${JSON.stringify(text)}: ${key}`).toBe(reference.get(key));
    expect(fields.has(key), `${JSON.stringify(text)}: ${key}`).toBe(reference.has(key));
  }
}

describe('bpftrace record fields', () => {
  it('reads as a split does: blanks anywhere, = in a value, a key twice, an empty value', () => {
    for (const text of [
      '',
      ' ',
      'ret=0',
      'ret=0 fd=3 ens=123',
      '  ret=0   fd=3  ',
      'ret=0 ret=-9',
      'name=a=b=c ret=',
      'ret=0 re=1 rett=2 r=3',
      'sys=openat ret=4 dfd=-100 flags=0x80000 ino=6275090 dev=266338304 dir=0xfa8d45f8aa32a05',
    ])
      expectSame(text);
  });

  it('refuses a field without = or without a key, as a split does', () => {
    for (const text of ['ret', 'ret=0 fd', '=3', 'ret=0 =3', 'ret=0 x y=1']) {
      expect(parseFields(text), text).toBeNull();
      expectSame(text);
    }
  });

  it('reads any text of keys, values, = and blanks as a split does', () => {
    const piece = fc.constantFrom('ret', 'r', 'fd', 'ens', '=', ' ', '  ', '0', '-1', 'x=y', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
        expectSame(pieces.join(''));
      }),
      { numRuns: 2000 },
    );
  });
});

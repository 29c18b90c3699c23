// A record's fields (src/parse/bpftrace-fields.ts), found in place instead of
// split into a map: whatever the text, the same values as a map made by
// splitting it (the reading every record had before), or the same refusal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldReader, parseFields } from '../src/parse/bpftrace-fields.js';

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

/** The reference for a number: the reading FieldReader had before short ones were read in place. */
const NUMBER = /^-?(?:0x[0-9a-f]+|\d+)$/i;
function referenceNumber(value: string | undefined): { int: number; big: bigint } | null {
  if (value === undefined || !NUMBER.test(value)) return null;
  const negative = value.startsWith('-');
  const digits = negative ? value.slice(1) : value;
  return { int: negative ? -Number(digits) : Number(digits), big: negative ? -BigInt(digits) : BigInt(digits) };
}

/** FieldReader's int() and big() of `value` against the reference, and whether it counted the field missing. */
function expectSameNumber(value: string): void {
  const fields = parseFields(`ret=${value}`)!;
  const reader = new FieldReader(fields);
  const reference = referenceNumber(fields.get('ret'));
  const int = reader.int('ret');
  const big = reader.big('ret');
  const label = JSON.stringify(value);
  expect(Object.is(int, reference === null ? 0 : reference.int), `${label}: ${int}`).toBe(true);
  expect(big, label).toBe(reference === null ? 0n : reference.big);
  expect(reader.missing, label).toEqual(reference === null ? ['ret', 'ret'] : []);
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

  it('reads a number as the whole value read by Number() and BigInt() does, short or long', () => {
    for (const value of ['0', '-0', '3', '-9', '0x0', '0x7fc9b8206000', '0XAbC', '-0x10', '0x', '-', '--1', '1x', '0x1g', '', '1.5', '1e3', '+1', '0x7f\x10\x10', '-0X\x19', '0x\x13', '\x13'])
      expectSameNumber(value);
    // Around the longest read digit by digit (15 decimal, 13 hex) and the doubles' 2^53.
    for (const value of [
      '999999999999999',
      '1000000000000000',
      '9007199254740993',
      '18446744073709551615',
      '0x1fffffffffffff',
      '0xfffffffffffff',
      '0x10000000000000',
      '0xfffffffffffff1',
      '0x20000000000001',
      '0xffffffffffffffff',
      '-0xffffffffffffffff',
    ])
      expectSameNumber(value);
  });

  it('reads any number, or anything else, as the whole value read by Number() and BigInt() does', () => {
    // The characters a case fold by | 0x20 could mistake: control bytes 0x10-0x19 (the digits' codes less 0x20), and those next to the letters.
    const digit = fc.oneof(
      fc.constantFrom('0', '1', '7', '9', 'a', 'f', 'F', 'g', 'x', 'X', '-', '.', 'é', '\x10', '\x13', '\x19', '@', '`', 'G', 'A'),
      // Any byte but a blank, which ends the field.
      fc
        .integer({ min: 0, max: 255 })
        .filter((code) => code !== 32)
        .map((code) => String.fromCharCode(code)),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.array(digit, { maxLength: 22 }), (negative, hex, digits) => {
        expectSameNumber(`${negative ? '-' : ''}${hex ? '0x' : ''}${digits.join('')}`);
      }),
      { numRuns: 4000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 66n), max: 1n << 66n }), fc.boolean(), (value, hex) => {
        const text = hex ? `${value < 0n ? '-' : ''}0x${(value < 0n ? -value : value).toString(16)}` : value.toString();
        expectSameNumber(text);
      }),
      { numRuns: 4000 },
    );
  });
});

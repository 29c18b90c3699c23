// Review 27 (exactness), F5: every reader of names decodes bytes one way
// (src/parse/byte-names.ts): valid UTF-8 as itself, each byte that is no part
// of it as U+DC00 plus the byte. The oracle is Python's own
// bytes.decode("utf-8", "surrogateescape"), on random bytes, read whole and
// read as lines in chunks cut anywhere (the line reader keeps the start of a
// character cut by a chunk's end for the next).
//
// Needs /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { LineSplitter } from '../src/ingest/lines.js';
import { byteLength, decodeBytes, nameBytes } from '../src/parse/byte-names.js';
import { decodeCString } from '../src/parse/c-string.js';
import { PYTHON } from './scenarios/harness.js';
import { requireTool } from './support/tools.js';

beforeAll(() => requireTool(PYTHON));

/** Python's decoding of each input (hex), with surrogateescape. */
function pythonDecodes(inputs: readonly Buffer[]): string[] {
  // Each input as "x" and its hex: an empty one is a line too.
  const script = 'import json, sys\nprint(json.dumps([bytes.fromhex(line[1:]).decode("utf-8", "surrogateescape") for line in sys.stdin.read().split()]))';
  const run = spawnSync(PYTHON, ['-c', script], { input: inputs.map((bytes) => `x${bytes.toString('hex')}`).join('\n'), encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as string[];
}

/** Bytes a name may hold: ASCII, pieces of valid UTF-8 of every length, and bytes that start, continue or are never UTF-8. */
const byteArrays = fc.array(
  fc.oneof(
    fc.constantFrom(...[0x2f, 0x2e, 0x61, 0x0a].map((b) => [b])),
    fc.constantFrom([0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xef, 0xbf, 0xbd], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0xaf]),
    fc.integer({ min: 0x80, max: 0xff }).map((b) => [b]),
  ),
  { maxLength: 24 },
);

it("decodes as Python's surrogateescape, and gives the same bytes back", () => {
  const inputs = fc.sample(byteArrays, 400).map((pieces) => Buffer.from(pieces.flat().filter((b) => b !== 0x0a)));
  const expected = pythonDecodes(inputs);
  inputs.forEach((bytes, i) => {
    const text = decodeBytes(bytes);
    expect(text, bytes.toString('hex')).toBe(expected[i]);
    expect(nameBytes(text).toString('hex')).toBe(bytes.toString('hex'));
    expect(byteLength(text)).toBe(bytes.length);
    // strace's escapes of the same bytes (\ooo, as strace writes every byte it does not print) give the same name.
    expect(decodeCString([...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join(''))).toBe(text);
  });
});

it('reads lines as Python decodes them wherever the chunks are cut', () => {
  const cases = fc.sample(fc.tuple(byteArrays, fc.array(fc.nat(), { maxLength: 8 })), 200);
  const inputs = cases.map(([pieces]) => Buffer.from(pieces.flat()));
  const lines = inputs.map((bytes) => {
    const each: Buffer[] = [];
    for (let from = 0; from <= bytes.length; ) {
      const newline = bytes.indexOf(10, from);
      each.push(bytes.subarray(from, newline < 0 ? bytes.length : newline));
      from = newline < 0 ? bytes.length + 1 : newline + 1;
    }
    // The reader gives no line after a last newline.
    if (bytes.length === 0 || bytes.at(-1) === 10) each.pop();
    return each;
  });
  const expected = pythonDecodes(lines.flat());
  let next = 0;
  cases.forEach(([, cuts], i) => {
    const bytes = inputs[i]!;
    const seen: string[] = [];
    const splitter = new LineSplitter({ line: (text) => seen.push(text), longLine: () => undefined }, 'the input');
    let from = 0;
    for (const point of [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)) {
      if (point > from) splitter.write(bytes.subarray(from, point));
      from = Math.max(from, point);
    }
    if (from < bytes.length) splitter.write(bytes.subarray(from));
    splitter.end();
    expect(seen, bytes.toString('hex')).toEqual(expected.slice(next, next + lines[i]!.length));
    next += lines[i]!.length;
  });
});

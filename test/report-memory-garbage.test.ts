// The evidence directory of 31,208 findings (leaky80) peaked at 250 MiB of
// RSS, though what it kept alive was about 50 MiB: the rest was garbage that
// had been made in, or moved to, the old generation, where only a full
// collection frees it (issue #14, goal 3). Each of these made some of it for
// every finding: a RegExp of its addresses, compiled to machine code, to put
// carets under them; a getter of its own for a redacted finding's evidence,
// which gave every redacted finding a hidden class of its own. The carets are
// now found by a scan, checked here against that RegExp, and the getter is one.
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { EvidenceLine, Finding } from '../src/engine/findings.js';
import { redactFinding } from '../src/report/redact.js';
import { addressFinder, timeline } from '../src/report/ticket.js';
import { HOSTILE_NAMES } from './support/trace-text.js';
import { handMadeFinding } from './support/finding.js';

/** What timeline found the addresses with, per finding, before: every match of the RegExp. */
function byRegExp(starts: readonly string[], line: string): { index: number; length: number }[] {
  const address = new RegExp(`(?:${starts.join('|')})(?![0-9a-f])`, 'gi');
  return Array.from(line.matchAll(address), (match) => ({ index: match.index, length: match[0].length }));
}

/** A small deterministic generator (no Math.random: a failure must be reproducible). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

describe('the orphaned addresses of a trace line', () => {
  const starts = [['0x7f606e600000'], ['0x7f00', '0x7f0000'], ['0x7f0000', '0x7f00'], ['0X7F60', '0x1'], ['0x0'], ['0xa', '0xab', '0xabc']];
  const lines = [
    '4871 1764070186.101 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 5</kafka/0.index>, 0) = 0x7f606e600000 <0.000022>',
    'munmap(0x7F606E600000, 4096) = 0 and 0x7f606e6000001 and 0x7f606e600000g 00x7f606e600000',
    '0x7f00 0x7f0000 0x7f00000 0x7f00g 0x7f000x7f00 0x7f0',
    '0x0x0x0 0x00 0x0 0X0 0x0- x0x0',
    '0xa 0xab 0xabc 0xabcd 0xA 0XAB 0xAbC,0xabc)',
    '',
    '0',
    '0x',
    ...HOSTILE_NAMES.map((name) => `mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3<${name}>, 0) = 0x7f00 ${name}0x1`),
  ];

  it('are where the RegExp of the addresses found them, on hand-made lines', () => {
    for (const from of starts) {
      const find = addressFinder(from);
      for (const line of lines) expect(find(line), `${from.join('|')} in ${line}`).toEqual(byRegExp(from, line));
    }
  });

  it('are where the RegExp of the addresses found them, on generated lines', () => {
    const next = random(14);
    const alphabet = ['0', 'x', 'X', '7', 'f', 'F', 'a', 'g', ' ', '(', ',', '\u0130', '\u212a', '0x', '0x7f', '0x7f00'];
    for (let round = 0; round < 2000; round++) {
      const from = Array.from({ length: 1 + Math.floor(next() * 3) }, () => `0x${['7f', '7f00', '7F0', 'a', '0', '7f00a'][Math.floor(next() * 6)]}`);
      const line = Array.from({ length: Math.floor(next() * 40) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      expect(addressFinder(from)(line), `${from.join('|')} in ${JSON.stringify(line)}`).toEqual(byRegExp(from, line));
    }
  });

  it('are found by the RegExp itself when an address is not 0x and hex digits', () => {
    for (const from of [['0x-5'], ['zz'], ['0x7f', 'NaN']]) {
      for (const line of ['0x-5 0x-50 zz NaN 0x7f0 0x7f', 'ZZz', 'nan0x7f']) expect(addressFinder(from)(line)).toEqual(byRegExp(from, line));
    }
  });

  it('are marked without compiling code for each finding', () => {
    const codeSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'code_space')!.space_used_size;
    const finding = (k: number): Finding => {
      const address = `0x7f${(0x1000_0000 + k * 7919).toString(16)}000`;
      const evidence: EvidenceLine[] = Array.from({ length: 12 }, (_, i) => ({
        file: 'trace.txt',
        line: k * 100 + i,
        text: `4242 1764070186.${i} mmap(NULL, 10485760, PROT_READ, MAP_SHARED, 5</kafka/${k}.index>, 0) = ${address} <0.000022>`,
        time: null,
        tid: 4242,
      }));
      return { kind: 'unlinked-while-mapped', address, length: 10_485_760, evidence } as unknown as Finding;
    };
    // Warmed up first: the code timeline itself is compiled to is made once.
    for (let k = 0; k < 300; k++) expect(timeline(finding(k), true)).toHaveLength(24);
    const before = codeSpace();
    for (let k = 300; k < 3300; k++) timeline(finding(k), true);
    // A RegExp a finding was 3.5 MiB of code for these 3,000; the scan, none.
    expect(codeSpace() - before).toBeLessThan(1024 * 1024);
  });
});

describe('a redacted finding', () => {
  it("reads its evidence through one getter, every finding's the same", () => {
    const finding = (id: string, path: string): Finding =>
      handMadeFinding(id, path, { evidence: [{ file: 'trace.txt', line: 1, text: `openat(AT_FDCWD, "${path}", O_RDWR) = 3`, time: null, tid: null }] });
    const a = redactFinding(finding('F1', '/kafka-logs/orders-3/0.index'));
    const b = redactFinding(finding('F2', '/kafka-logs/payments-1/0.index'), ['trace.txt']);
    const getter = (redacted: Finding) => Object.getOwnPropertyDescriptor(redacted, 'evidence')?.get;
    expect(getter(a)).toBeTypeOf('function');
    expect(getter(b)).toBe(getter(a));
    expect(Object.keys(a)).toEqual(Object.keys(finding('F1', '/x')));
    expect(a.evidence).toEqual([{ file: 'eafe895e.txt', line: 1, text: 'openat(AT_FDCWD, "/716b37d0/1c168adb-3/0.index", O_RDWR) = 3', time: null, tid: null }]);
    expect(b.evidence[0]!.file).toBe('eafe895e.txt');
    expect(JSON.parse(JSON.stringify(a)).evidence).toEqual(a.evidence);
    expect({ ...a }.evidence).toEqual(a.evidence);
  });
});

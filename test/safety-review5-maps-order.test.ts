// Review 5, item 2: a maps-end.txt whose lines are out of address order was
// searched line by line for each finding's address (twice: confirmWithMaps,
// then the report's mapsLines), so a 2.6 MB bundle of 50,000 such lines and
// 2,000 findings ran for minutes. Lines out of order are now sorted once and
// searched in logarithmic time, with the answers of the scan they replace.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapsLookup } from '../src/parse/maps.js';
import { runCli } from './support/tools.js';

/** The answer of the scan mapsLookup replaced for lines out of order: the line that starts at the address, else the first that holds it. */
const byScan = <E extends { start: number; end: number }>(entries: readonly E[], address: number) =>
  entries.find((entry) => entry.start === address && address < entry.end) ?? entries.find((entry) => entry.start <= address && address < entry.end);

function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('mapsLookup of lines out of address order', () => {
  it('answers as the scan does, on 3,000 overlapping, nested, repeated and empty lines', () => {
    const random = lcg(5);
    const page = 4096;
    const entries = Array.from({ length: 3000 }, () => {
      const start = Math.floor(random() * 2000) * page;
      // Mostly short, some wide (they hold many others), some empty.
      const pages = random() < 0.05 ? Math.floor(random() * 500) : Math.floor(random() * 4);
      return { start, end: start + pages * page };
    });
    const lineAt = mapsLookup(entries);
    const addresses = [0, -1, 2 ** 64, ...entries.flatMap((entry) => [entry.start - 1, entry.start, entry.start + 1, entry.end - 1, entry.end, entry.end + 1])];
    for (let k = 0; k < addresses.length; k += 7) expect(lineAt(addresses[k]!)).toBe(byScan(entries, addresses[k]!));
  });

  it('reads each line a bounded number of times, however many addresses are asked (the scan read every line per address)', () => {
    let reads = 0;
    const lines = 20_000;
    // In reverse order, as the review's file: line k holds [start, start + 1 page).
    const entries = Array.from({ length: lines }, (_, k) => {
      const start = (lines - k) * 0x2000;
      return {
        get start() {
          reads++;
          return start;
        },
        get end() {
          reads++;
          return start + 0x1000;
        },
      };
    });
    const lineAt = mapsLookup(entries);
    const asked = 5_000;
    for (let k = 0; k < asked; k++) {
      // Half at a line's start, half in no line at all (between two).
      const address = (1 + (k % lines)) * 0x2000 + (k % 2 === 0 ? 0 : 0x1800);
      const found = lineAt(address);
      expect(found === undefined).toBe(k % 2 === 1);
    }
    // The order check, the map of starts and the tree read each line a few times; a scan per address would be 5,000 × 20,000.
    expect(reads).toBeLessThan(10 * lines);
  });
});

describe("the review's bundle, larger: maps-end.txt of 103,000 lines in reverse order, 4,000 still-mapped findings", () => {
  // The review's 50,000 lines and 2,000 findings ran past 110 s. With these sizes the scan ran past the 100 s at which
  // runCli stops a run (status -1: the test failed without the fix); sorted once, about 2 s.
  it('is analysed in seconds, each finding confirmed by its own line or, with none, by no line', () => {
    const findings = 4000;
    const filler = 100_000;
    const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv5-order-')), 'bundle');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'meta.json'),
      JSON.stringify({ schema: 'orphanmap/bundle@1', backend: 'strace', pid: 1, mode: 'launched', traceFiles: ['trace.txt'], startTime: 'x', endTime: 'y', exitReason: 'duration', complete: true }),
    );
    const address = (k: number) => 0x500000000000 + k * 0x2000;
    const trace = [
      '1 1700000000.000000 execve("/bin/x", ["x"], 0x0 /* 0 vars */) = 0',
      '1 1700000000.000001 openat(AT_FDCWD, "/x/f", O_RDWR) = 3',
      ...Array.from({ length: findings }, (_, k) => `1 1700000000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x${address(k).toString(16)}`),
      '1 1700000000.000003 unlink("/x/f") = 0',
    ];
    writeFileSync(join(dir, 'trace.txt'), `${trace.join('\n')}\n`);
    // Anonymous lines first, from the highest address down, then the findings' own lines, also from the highest down.
    const maps: string[] = [];
    for (let k = filler; k > 0; k--) maps.push(`${(0x100000000000 + k * 0x2000).toString(16)}-${(0x100000000000 + k * 0x2000 + 0x1000).toString(16)} r--p 00000000 00:00 0 `);
    // Every fourth finding has no line: the scan read every line twice for it.
    for (let k = findings - 1; k >= 0; k--) if (k % 4 !== 3) maps.push(`${address(k).toString(16)}-${(address(k) + 0x1000).toString(16)} r--s 00000000 08:01 77 /x/f (deleted)`);
    writeFileSync(join(dir, 'maps-end.txt'), `${maps.join('\n')}\n`);

    const run = runCli(['analyze', dir, '--format', 'json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { findings: { id: string; address: string; confirmedByMaps?: boolean }[]; mapsLines: Record<string, string>; warnings: string[] };
    expect(report.findings).toHaveLength(findings);
    for (const finding of report.findings) {
      const hasLine = ((Number(finding.address) - address(0)) / 0x2000) % 4 !== 3;
      expect(finding.confirmedByMaps).toBe(hasLine);
      expect(report.mapsLines[finding.id]).toBe(hasLine ? `${finding.address.slice(2)}-${(Number(finding.address) + 0x1000).toString(16)} r--s 00000000 08:01 77 /x/f (deleted)` : undefined);
    }
    expect(report.warnings.some((warning) => warning.includes('maps-end.txt: its lines are not in address order'))).toBe(true);
  });
});

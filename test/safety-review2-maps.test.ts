// Review 2, finding 9: a maps snapshot is bundle input, and a line the kernel
// could not have printed is an unreadable line, named by file and line, never
// a mapping; and a line that merely holds a finding's address never stands
// for the line of the mapping itself.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapsLookup, parseMaps, readMapsLine } from '../src/parse/maps.js';
import { REPO, runCli } from './support/tools.js';

describe('lines the kernel cannot print', () => {
  it.each([
    ['0-ffffffffffffffff rw-s 00000000 08:01 1 /x/d.index (deleted)', 'an address off a page boundary'],
    ['0-fffffffffffff000 rw-s 00000000 08:01 1 /x/d.index (deleted)', 'an address beyond the user address space'],
    ['ffffffffffffffffffff-0 rw-s 00000000 08:01 1234 /x/a.index (deleted)', 'a number of more than 64 bits'],
    ['7f0000002000-7f0000001000 rw-s 00000000 08:01 1234 /x/b.index (deleted)', 'the range is empty or ends before it starts'],
    ['7f0000001000-7f0000001000 rw-s 00000000 08:01 1234 /x/b.index (deleted)', 'the range is empty or ends before it starts'],
    ['7f0000000000-7f0000001000 rw-s ffffffffffffffffffffff 08:01 9 /x/c.index (deleted)', 'a number of more than 64 bits'],
    ['7f0000000010-7f0000001000 rw-s 00000000 08:01 9 /x/c.index', 'an address off a page boundary'],
  ])('%s: %s', (line, reason) => {
    expect(readMapsLine(line)).toBe(reason);
    expect(parseMaps(`${line}\n`).badLines).toBe(1);
  });

  it('every line of real /proc/PID/maps is read, [vsyscall] above the user address space too', () => {
    const text = readFileSync('/proc/self/maps', 'utf8');
    const parsed = parseMaps(text);
    expect(parsed.badSamples).toEqual([]);
    expect(parsed.entries.length).toBe(text.trimEnd().split('\n').length);
    const vsyscall = 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]';
    expect(readMapsLine(vsyscall)).toMatchObject({ start: 0xffffffffff600000, path: '[vsyscall]' });
  });

  it('overlapping lines: the line starting at the address is found before a wider one that holds it', () => {
    const wide = { start: 0x7f0000000000, end: 0x7fff00000000 };
    const exact = { start: 0x7feb46000000, end: 0x7feb46a00000 };
    expect(mapsLookup([wide, exact])(0x7feb46000000)).toBe(exact);
    expect(mapsLookup([wide, exact])(0x7feb46001000)).toBe(wide);
  });
});

describe('a bundle whose maps-end.txt holds crafted lines before the real one', () => {
  it("the finding's maps line is its own mapping's; the crafted lines are named by file and line", () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv2-maps-')), 'bundle');
    mkdirSync(dir);
    // Up to before the process exits: a finding's maps line at the end is shown only if its mapping is still mapped then.
    const trace = readFileSync(join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt'), 'utf8').split('\n');
    writeFileSync(join(dir, 'trace.txt'), `${trace.slice(0, 675).join('\n')}\n`);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ pid: 11020, mode: 'launched', endTime: '2026-01-01T00:00:00Z', exitReason: 'duration', complete: true }));
    const exact = '7feb46000000-7feb46a00000 rw-s 00000000 08:01 3 /tmp/orphanmap-repro/f-o-ttt-T-y/topic-0/00000000000000000000.index (deleted)';
    const lines = [
      '0-ffffffffffffffff rw-s 00000000 08:01 1 /x/d.index\u001b[2J (deleted)',
      '7f0000000000-7fff00000000 rw-s 00000000 08:01 2 /x/wide (deleted)',
      exact,
      '7feb45600000-7feb46000000 rw-s 00000000 08:01 4 /tmp/orphanmap-repro/f-o-ttt-T-y/topic-1/00000000000000000000.index (deleted)',
    ];
    writeFileSync(join(dir, 'maps-end.txt'), `${lines.join('\n')}\n`);
    const result = runCli(['analyze', dir, '--format', 'json']);
    const report = JSON.parse(result.stdout) as { findings: { id: string; address: string }[]; mapsLines: Record<string, string>; warnings: string[] };
    const f1 = report.findings.find((finding) => finding.address === '0x7feb46000000')!;
    expect(report.mapsLines[f1.id]).toBe(exact);
    expect(Object.values(report.mapsLines)).not.toContain(lines[0]);
    const warnings = report.warnings.join('\n');
    expect(warnings).toContain(`${join(dir, 'maps-end.txt')}:1: unreadable line, not a /proc/PID/maps line: an address off a page boundary`);
    expect(warnings).toContain(`${join(dir, 'maps-end.txt')}: its lines are not in address order, or overlap`);
  });
});

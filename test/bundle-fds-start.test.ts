// A bundle's fds-start.txt (the open fds of the attached process when the
// capture began, "FD<TAB>TARGET" as scripts/bundle-lib.sh writes them) names
// an fd that the trace shows by its number only (bpftrace prints no paths
// with fds). It is input from another host: a bad line is named with its
// line number and skipped, never a crash.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { runCli } from './support/tools.js';

/** mmap of fd 3 opened before the attach, by its number only, then the unlink of prefd.map. */
const TRACE = ['300 1796200000.000001 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000000000', '300 1796200000.000002 unlink("/d/prefd.map") = 0', ''].join('\n');

function bundle(fdsStart: string | Buffer | null, mode: 'attached' | 'launched' = 'attached'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-fds-start-')), 'bundle');
  mkdirSync(dir);
  const meta = { schema: 'orphanmap/bundle@1', backend: 'strace', pid: 300, mode, traceFiles: ['trace.txt'], endTime: '2026-12-02T00:00:00Z', exitReason: 'target-exited', complete: true };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  writeFileSync(join(dir, 'trace.txt'), TRACE);
  writeFileSync(join(dir, 'maps-start.txt'), '');
  if (fdsStart !== null) writeFileSync(join(dir, 'fds-start.txt'), fdsStart);
  return dir;
}

function analyze(dir: string): { findings: Finding[]; warnings: string[] } {
  const result = runCli(['analyze', dir, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
}

describe("a bundle's fds-start.txt", () => {
  it('names an fd opened before the attach: its mapping outlives the unlink', () => {
    const dir = bundle('0\t/dev/null\n3\t/d/prefd.map\n251\tpipe:[6435562]\n');
    const { findings, warnings } = analyze(dir);
    expect(findings.map((finding) => [finding.kind, finding.path, finding.address, finding.length])).toEqual([['unlinked-while-mapped', '/d/prefd.map', '0x7f0000000000', 8192]]);
    expect(findings[0]!.evidence.map((line) => `${line.file.slice(dir.length + 1)}:${line.line}`)).toEqual(['fds-start.txt:2', 'trace.txt:1', 'trace.txt:2']);
    expect(warnings.join('\n')).not.toMatch(/fds-start\.txt|open, close or dup/);
  });

  it('without it, the fd is unknown and nothing is found (what the file fills in)', () => {
    expect(analyze(bundle(null)).findings).toEqual([]);
  });

  it('is not read for a launched command: its fds are all in the trace', () => {
    expect(analyze(bundle('3\t/d/prefd.map\n', 'launched')).findings).toEqual([]);
  });

  it('names each bad line with its line number and counts those past the first three; the good lines count', () => {
    const text = ['x\t/d/a.map', 'no tab here', '3\t/d/prefd.map', '4\t/d/again.map', '5\t', '99999999999\t/d/b.map', '-1\t/d/c.map', '6\tsocket:[1]', '7\t/proc/1/maps', '4\t/d/twice.map'].join('\n');
    const { findings, warnings } = analyze(bundle(`${text}\n`));
    expect(findings.map((finding) => finding.path)).toEqual(['/d/prefd.map']);
    const path = (line: number) => expect.stringMatching(new RegExp(`fds-start\\.txt:${line}: unreadable line, not "FD<TAB>TARGET": `));
    const about = warnings.filter((warning) => warning.includes('fds-start.txt'));
    expect(about).toEqual([path(1), path(2), path(5), expect.stringMatching(/fds-start\.txt: 3 more unreadable lines$/)]);
    expect(about[0]).toMatch(/the fd is not a number/);
    expect(about[1]).toMatch(/no tab$/);
    expect(about[2]).toMatch(/no target$/);
  });

  it('a file of junk is unreadable lines, not a crash', () => {
    const junk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 251;
    const { findings, warnings } = analyze(bundle(junk));
    expect(findings).toEqual([]);
    expect(warnings.some((warning) => /fds-start\.txt: \d+ more unreadable lines$/.test(warning))).toBe(true);
  });

  it('an fd listed twice is used by neither line: a name with a newline, written raw by an older capture, forged the second', () => {
    // The older script wrote readlink's text raw: fd 3 on "/d/x\n4\t/d/aaa" read as fd 3 and a forged fd 4, sorted before the real one.
    const forged = bundle('3\t/d/x\n4\t/d/aaa\n4\t/d/real.map\n');
    // The forged line's file is the one unlinked: taken at its word, fd 4's mapping would be blamed on it.
    const trace = ['300 1796200000.000001 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 4, 0) = 0x7f0000000000', '300 1796200000.000002 unlink("/d/aaa") = 0', ''].join('\n');
    writeFileSync(join(forged, 'trace.txt'), trace);
    const { findings, warnings } = analyze(forged);
    expect(findings).toEqual([]);
    expect(warnings.join('\n')).toMatch(/fds-start\.txt:3: unreadable line, not "FD<TAB>TARGET": fd 4 is listed twice: neither of its lines is used/);
  });

  it('reads a name with a newline or a backslash as the capture escapes it (\\n, \\\\)', () => {
    const trace = ['300 1796200000.000001 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000000000', '300 1796200000.000002 unlink("/d/a\\nb\\\\c.map") = 0', ''].join('\n');
    const dir = bundle('3\t/d/a\\nb\\\\c.map\n');
    writeFileSync(join(dir, 'trace.txt'), trace);
    expect(analyze(dir).findings.map((finding) => finding.path)).toEqual(['/d/a\nb\\c.map']);
  });

  it('an fd of a file deleted before the attach is not the file later created with its name', () => {
    const dir = bundle('3\t/d/prefd.map (deleted)\n');
    // Its mapping is of the file gone before the attach (review 1, finding 4), not of the one the trace unlinks.
    expect(analyze(dir).findings.map((finding) => [finding.address, finding.unlinkedAt])).toEqual([['0x7f0000000000', null]]);
  });
  // Review 6 (RocksDB under capture --pid): fds-start.txt is read once the tracer has attached, 0.3 s
  // after the trace's first line there, and fd 17 had been closed and opened on another table file meanwhile.
  it('an annotation that names another file than fds-start.txt for an fd: said as the snapshot read after the attach, not as a filter', () => {
    const dir = bundle('3\t/d/prefd.map\n');
    writeFileSync(
      join(dir, 'trace.txt'),
      ['300 1796200000.000001 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</d/next.map>, 0) = 0x7f0000000000', '300 1796200000.000002 unlink("/d/next.map") = 0', ''].join('\n'),
    );
    const { findings, warnings } = analyze(dir);
    // The annotation is the kernel's word: the mapping is of next.map.
    expect(findings.map((finding) => [finding.kind, finding.path])).toEqual([['unlinked-while-mapped', '/d/next.map']]);
    const said = warnings.filter((warning) => warning.startsWith('fd 3 of process 300'));
    expect(said).toEqual([expect.stringContaining('was /d/prefd.map by fds-start.txt, but its -y annotation at')]);
    expect(said[0]).toContain('fds-start.txt is read after the tracer attaches');
    expect(said[0]).not.toContain('filtered out');
  });
});

// --redact on /proc/PID/maps lines whose path holds spaces. The kernel prints
// a mapping's path to the end of the line, spaces and all; read as free text,
// `/kafka/secret customer.index` lost only its first word to the hash. The
// lines here are the kernel's own: a Python process maps a file with spaces in
// its name and prints its maps line before and after unlinking the file; and
// does the same with a file whose name holds a newline, which the kernel
// prints as \012 and strace as \n.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactMapsLine, redactPath, redaction, redactReport } from '../src/report/redact.js';
import type { Report } from '../src/report/report.js';

const MAP_AND_UNLINK = `
import mmap, os, sys
path = sys.argv[1]
with open(path, "wb") as f:
    f.write(b"x" * 8192)
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED)
def line():
    with open("/proc/self/maps") as maps:
        # The kernel prints a newline in a name as \\012.
        return next(l.rstrip("\\n") for l in maps if os.path.basename(path).replace("\\n", "\\\\012") in l)
print(line())
os.unlink(path)
print(line())
`;

let dir: string;
let path: string;
let lines: string[];
let newlinePath: string;
let newlineLines: string[];

/** The maps line of `path` printed by a Python process while it is linked, then once unlinked. */
function kernelMapsLines(path: string): string[] {
  const run = spawnSync('python3', ['-c', MAP_AND_UNLINK, path], { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) throw new Error(`python3 could not map a file: ${run.error?.message ?? run.stderr}`);
  return run.stdout.trim().split('\n');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'om-secret dir '));
  path = join(dir, 'secret customer-3.index');
  lines = kernelMapsLines(path);
  newlinePath = join(dir, 'secret\norders-7.index');
  newlineLines = kernelMapsLines(newlinePath);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a maps line redacted', () => {
  it('is the kernel line, live and then deleted', () => {
    expect(lines).toHaveLength(2);
    expect(lines[0]!.endsWith(path)).toBe(true);
    expect(lines[1]!.endsWith(`${path} (deleted)`)).toBe(true);
  });

  it('hashes the whole path, spaces and all, as the finding path is hashed, and keeps the fields and " (deleted)"', () => {
    for (const line of lines) {
      const redacted = redactMapsLine(line);
      expect(redacted).not.toMatch(/secret|customer/);
      const fields = line.slice(0, line.indexOf(path));
      const suffix = line.slice(line.indexOf(path) + path.length);
      expect(redacted).toBe(`${fields}${redactPath(path)}${suffix}`);
      // The suffix the kernel appends, and a Kafka partition's "-3.index", are kept.
      expect(redacted).toMatch(/-3\.index( \(deleted\))?$/);
    }
  });

  it('hashes a name holding a newline, printed \\012 by the kernel, as the finding path that holds the newline', () => {
    expect(newlineLines).toHaveLength(2);
    const printed = newlinePath.replace('\n', '\\012');
    expect(newlineLines[1]!.endsWith(`${printed} (deleted)`)).toBe(true);
    for (const line of newlineLines) {
      const redacted = redactMapsLine(line);
      expect(redacted).not.toMatch(/secret|orders/);
      expect(redacted).toBe(`${line.slice(0, line.indexOf(printed))}${redactPath(newlinePath)}${line.slice(line.indexOf(printed) + printed.length)}`);
    }
  });

  it('is the same in a report and through the run redaction (maps-end.txt and report.json agree)', () => {
    const report = { mapsLines: { F1: lines[1]! }, inputs: [], unparsedSamples: [], findings: [], warnings: [], environment: null } as unknown as Report;
    expect(redactReport(report).mapsLines.F1).toBe(redaction(true).mapsLine(lines[1]!));
  });

  it('treats a line that is not a maps line as free text', () => {
    expect(redactMapsLine('not a maps line /kafka/orders/0.index')).toBe(`not a maps line ${redactPath('/kafka/orders/0.index')}`);
  });

  it('leaves a line of a mapping without a file path as it is', () => {
    const heap = '55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]';
    expect(redactMapsLine(heap)).toBe(heap);
  });
});

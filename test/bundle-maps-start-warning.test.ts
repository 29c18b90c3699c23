// A trace that does not start at an execve (an attach) lacks the mappings made
// before it, and says so: unless it is read from a bundle whose maps-start.txt
// gave them, where the warning would send the reader looking for a file that
// was read. (Found by a review: the warning showed on every attached bundle.)
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/tools.js';

const TRACE = ['300 1796200000.000001 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</d/a.map>, 0) = 0x7f0000000000', '300 1796200000.000002 unlink("/d/a.map") = 0', ''].join('\n');
const MAPS_START = '7f1000000000-7f1000002000 r--s 00000000 fe:00 1234                       /d/old.map\n';
const EXECVE_WARNING = /does not start at an execve/;

function warningsOf(input: string): string[] {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { warnings: string[] }).warnings;
}

function attachedBundle(mapsStart: string | null): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-maps-start-')), 'bundle');
  mkdirSync(dir);
  const meta = { schema: 'orphanmap/bundle@1', backend: 'strace', pid: 300, mode: 'attached', traceFiles: ['trace.txt'], endTime: '2026-12-02T00:00:00Z', exitReason: 'target-exited', complete: true };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  writeFileSync(join(dir, 'trace.txt'), TRACE);
  if (mapsStart !== null) writeFileSync(join(dir, 'maps-start.txt'), mapsStart);
  return dir;
}

describe('the warning that a trace does not start at an execve', () => {
  it('is given for the trace alone, and for a bundle without maps-start.txt', () => {
    const dir = attachedBundle(null);
    expect(warningsOf(join(dir, 'trace.txt')).join('\n')).toMatch(EXECVE_WARNING);
    expect(warningsOf(dir).join('\n')).toMatch(EXECVE_WARNING);
  });

  it("is not given when the bundle's maps-start.txt was read", () => {
    expect(warningsOf(attachedBundle(MAPS_START)).join('\n')).not.toMatch(EXECVE_WARNING);
  });
});

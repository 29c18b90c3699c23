// Review 2, F7: meta.json's traceFiles may name a file twice, and each entry
// is read and analysed: ["trace.txt"] x 500 took 21 s and counted the one
// trace 500 times. A bundle whose traceFiles repeats a name is refused,
// naming meta.json and the entry, before any trace is read.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');

function bundleWithTraceFiles(traceFiles: string[]): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-trace-files-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...meta, traceFiles }));
  return dir;
}

describe('meta.json traceFiles naming one file more than once', () => {
  it('500 copies of trace.txt: refused at once, naming meta.json and the first repeat', () => {
    const dir = bundleWithTraceFiles(Array.from({ length: 500 }, () => 'trace.txt'));
    const started = Date.now();
    const result = runCli(['analyze', dir]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${join(dir, 'meta.json')}: error: bundle metadata field "traceFiles[1]" must be a file not listed before (traceFiles[0] names the same file)`);
    expect(result.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a repeat after other names points at both entries', () => {
    const dir = bundleWithTraceFiles(['trace.txt', 'other.txt', 'trace.txt']);
    writeFileSync(join(dir, 'other.txt'), '');
    const result = runCli(['analyze', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('"traceFiles[2]" must be a file not listed before (traceFiles[0] names the same file)');
  });

  it('the bundle as the capture wrote it (one trace.txt) is still analysed', () => {
    const result = runCli(['analyze', bundleWithTraceFiles(['trace.txt'])]);
    expect(result.status, result.stderr).toBe(0);
  });
});

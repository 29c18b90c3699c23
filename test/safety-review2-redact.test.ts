// Review 2, finding 8: --redact leaves no path of the environment. meta.json's
// jvmVersion is `unknown (/opt/app/bin/java)` when the capture could not ask
// the JVM (scripts/bundle-lib.sh, om_jvm_version), and it reached every format
// and report --redact's environment.json as it was.
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS } from '../src/report/formats.js';
import { REPO, runCli } from './support/tools.js';

function bundleWith(fields: Record<string, unknown>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv2-redact-')), 'bundle');
  cpSync(join(REPO, 'traces', 'launched-late-snapshot', 'bundle'), dir, { recursive: true });
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...meta, ...fields }));
  return dir;
}

const LEAKY = {
  jvmVersion: 'unknown (/opt/SECRETJVM/bin/java)',
  tracerVersion: 'strace -- version 6.1 (/opt/SECRETTRACER/strace)',
  noDetachReason: 'strace /opt/SECRETREASON/strace 6.6 ends its command when it ends',
  addedByHand: { dir: '/opt/SECRETEXTRA' },
};

describe('--redact and the environment', () => {
  it.each(OUTPUT_FORMATS)('%s: no path of meta.json is left', (format) => {
    const dir = bundleWith(LEAKY);
    const result = runCli(['analyze', dir, '--redact', '--format', format]);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stdout + result.stderr).not.toContain('SECRET');
  });

  it('report --redact: environment.json and every other file hold none of them', () => {
    const dir = bundleWith(LEAKY);
    const out = join(dir, '..', 'evidence');
    const result = runCli(['report', dir, '--redact', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).not.toContain('SECRET');
    const capture = (JSON.parse(readFileSync(join(out, 'environment.json'), 'utf8')) as { capture: Record<string, unknown> }).capture;
    // The words are kept, the path components hashed; a field orphanmap does not know is left out.
    expect(capture.jvmVersion).toMatch(/^unknown \(\/opt\/[0-9a-f]{8}\/bin\/[0-9a-f]{8}\)$/);
    expect(capture.tracerVersion).toMatch(/^strace -- version 6\.1 \(\/opt\/[0-9a-f]{8}\/[0-9a-f]{8}\)$/);
    expect(capture).not.toHaveProperty('addedByHand');
    expect(capture.comm).toBe('python3');
  });

  it('without --redact the environment is as meta.json says', () => {
    const dir = bundleWith(LEAKY);
    const report = JSON.parse(runCli(['analyze', dir, '--format', 'json']).stdout) as { environment: Record<string, unknown> };
    expect(report.environment).toMatchObject(LEAKY);
  });
});

// A launched command that ends within milliseconds leaves a bundle with no
// maps-start.txt (the capture reads the command's maps once it runs). Such a
// bundle was warned of "mappings made before the capture are unknown", which
// a launched capture, whose trace begins at the command's execve, never has
// (review 19). A real bundle (test/fixtures/review19-launched-quick/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review19-launched-quick', 'bundle');

it('warns of no mapping made before a launched capture, and still finds the leak its trace shows', () => {
  // The precondition: a launched capture, without maps-start.txt, whose trace begins at the command's execve.
  const meta = JSON.parse(readFileSync(join(BUNDLE, 'meta.json'), 'utf8')) as { mode: string };
  expect(meta.mode).toBe('launched');
  expect(existsSync(join(BUNDLE, 'maps-start.txt'))).toBe(false);
  expect(readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n')[0]).toMatch(/ execve\("\/usr\/bin\/sh", \["sh", "-c", /);
  const result = runCli(['analyze', BUNDLE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string }[]; warnings: string[] };
  expect(report.warnings.filter((warning) => warning.includes('maps-start.txt'))).toEqual([]);
  expect(report.findings.map((finding) => [finding.kind, finding.path])).toEqual([['unlinked-while-mapped', '/tmp/review19x/gdbm/fd.db']]);
});

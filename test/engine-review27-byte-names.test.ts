// Review 27 (exactness), F5: two files whose names differ only in a byte
// that is no part of UTF-8 ("\376.map" and "\377.map", as an archive made
// under a Latin-1 locale leaves them). strace escapes such bytes, and the
// parser decoded each to U+FFFD: one name for both files, so the unlink of
// the one, never mapped, read as a leak of the other, exit 3. Each such byte
// is now a character of its own (U+DC00 plus the byte).
//
// A real program (test/scenarios/byte-names.py) under `orphanmap capture`
// (strace); the truth is its own /proc/self/maps after the unlink, and the
// mapped file still at its name.
//
// Needs strace and /usr/bin/python3.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('capture (strace): the unlink of "\\376.map" is no leak of "\\377.map", mapped', () => {
  const work = realpathSync(workspace('byte-names'));
  const bundle = join(work, 'bundle');
  const capture = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(REPO, 'test', 'scenarios', 'byte-names.py'), join(work, 'w')]);
  expect(capture.status, capture.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'w', 'truth.json'), 'utf8')) as { deleted: SelfMapsDeleted[]; kept: boolean };
  // The program's own word: nothing it maps was deleted, and the mapped file is still at its name.
  expect(truth).toMatchObject({ deleted: [], kept: true });
  // strace's lines: the two names, escaped.
  const trace = readFileSync(join(bundle, 'trace.txt'), 'latin1');
  expect(trace).toContain(`unlink("${join(work, 'w')}/\\376.map") = 0`);
  expect(trace).toMatch(/openat\(AT_FDCWD<[^>]*>, "[^"]*\/\\377\.map", O_RDWR\|O_CREAT\|O_CLOEXEC, 0600\) = \d+</);
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  expect((JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped')).toEqual([]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
});

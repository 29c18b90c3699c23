// Review 50, item 7: a maps-end.txt "(deleted)" line of a mapping the trace
// never made, of a file the trace saw the process unlink while an fd held
// it (H2's writer mapped the removed database again after strace let go).
// Its finding's note said the last name went "by a call the trace does not
// show: another process removed or replaced the file…", sending the reader
// after a process that does not exist. It now names the unlink the trace
// shows. A real bundle (test/fixtures/review50-mapped-after-trace/README.md);
// truth: the kernel's maps-end.txt line, and strace's unlink line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review50-mapped-after-trace', 'bundle');
const DB24 = '/tmp/review50-work/h2/runs/CA/db24.mv.db';

it('a mapping made after the trace of a file the trace saw unlinked is told so, not blamed on another process', () => {
  const trace = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  const unlinkLine = trace.findIndex((line) => line.includes(`unlink("${DB24}") = 0`)) + 1;
  expect(unlinkLine).toBeGreaterThan(0);
  const mapsEnd = readFileSync(join(BUNDLE, 'maps-end.txt'), 'utf8').split('\n');
  const line = mapsEnd.find((text) => text.endsWith(`${DB24} (deleted)`))!;
  const start = `0x${line.split('-')[0]}`;
  // The precondition: no mmap of db24.mv.db in the trace returned that address (other files' mappings had it before).
  expect(trace.some((text) => text.includes(' mmap(') && text.includes(`${DB24}>`) && text.includes(`= ${start} `))).toBe(false);

  const report = JSON.parse(runCli(['analyze', BUNDLE, '--format', 'json']).stdout) as { findings: Finding[] };
  const finding = report.findings.find((f) => f.address === start && f.path === DB24)!;
  expect(finding).toMatchObject({ kind: 'unlinked-while-mapped', path: DB24, resolution: 'still-mapped', unlinkedAt: null });
  expect(finding.note).toContain(`the trace shows a file of that name lose its last name at ${join(BUNDLE, 'trace.txt')}:${unlinkLine} while an fd held it`);
  expect(finding.note).not.toContain('another process removed or replaced the file');
});

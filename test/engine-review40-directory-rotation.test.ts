// Review 40, F2: a data directory rotated (c1 renamed c1.old, its file still
// mapped), a new c1/f written, closed and removed. The engine let the new file
// go at its close, so the removal named nothing it knew, and the check for a
// relative name resolved in a directory the trace did not follow put the
// mapped c1.old/f in doubt: --fail-on error failed a clean run. By absolute
// names one level up, the check for a name spelled through a symlink did the
// same (same last two components), and so did a staging directory's file
// removed once the directory was renamed into place. A name of a file the trace saw and let go
// is remembered: a call by it reached that file.
// Truth: the program's own /proc/self/maps after the rotations (nothing
// deleted) and after it removes the mapped c1.old/f (the one leak)
// (test/scenarios/directory-rotation.py).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, tracePython, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'directory-rotation.py');

interface Truth {
  pid: number;
  mapped: string;
  afterRotations: SelfMapsDeleted[];
  afterRemoval: SelfMapsDeleted[];
}

interface Report {
  findings: Finding[];
  warnings: string[];
  summary: { mappingsInDoubt: number };
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

/** /proc's word, and the report's: the one leak /proc showed, nothing in doubt, no warning of a misplaced or aliased name. */
function expectTheOneLeak(dir: string, input: string): void {
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  expect(truth.afterRotations).toEqual([]);
  expect(truth.afterRemoval).toEqual([{ address: truth.mapped, bytes: 65536, path: join(dir, 'c1.old', 'f') }]);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as Report;
  expect(report.findings.map((finding) => `${finding.kind} ${finding.severity} ${finding.pid} ${finding.address} ${finding.length} ${finding.path}`)).toEqual([
    `unlinked-while-mapped error ${truth.pid} ${truth.mapped} 65536 ${join(dir, 'c1.old', 'f')}`,
  ]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.includes('/c1/f') || warning.includes('/c2/f'))).toEqual([]);
}

describe('a data directory rotated while a file in it is mapped, a new file of the same name written and removed', () => {
  // strace -f -yy by hand, filtered; orphanmap capture --backend bpftrace, launched.
  it.each(['strace', 'capture-bpftrace'] as const)(
    '%s: no doubt from the new file; the mapped file removed later is the one leak',
    (how) => {
      const dir = workspace(`rotation-${how}`);
      expectTheOneLeak(dir, tracePython(dir, how, PROGRAM, [dir]));
    },
    120_000,
  );
});

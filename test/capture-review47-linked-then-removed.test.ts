// Review 47, P4: `capture --pid` of a program that gives its mapped file a
// second name, then removes both (SQLite's database, linked to db.2). One
// mapping outlived its file, still mapped at the end; the report made two
// errors of it. Its finding names the file by the last name removed (db.2),
// and maps-end.txt by the name the mapping was made by (db): the finding read
// as "NOT in /proc/PID/maps at the end", and the maps line, which no finding
// explained, as a second leak whose removal the trace did not show. A
// finding is now matched with a maps line by any name its file had.
// Truth: the program's own /proc/self/maps line, and the bytes it mapped.
//
// Needs root and strace.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const BYTES = 16384;
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('one finding, confirmed by the maps line that names the file as it was mapped', async () => {
  const work = workspace('review47-linked');
  writeFileSync(join(work, 'db'), Buffer.alloc(BYTES, 'd'));
  const { program, pid, output } = await startScenario('linked-then-removed.py', [work], children);

  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', pid, bundle, children, ['--duration', '4'], 'snapshots');
  program.stdin!.write('go\n');
  await waitFor("the program's maps line", () => output().split('\n').length > 2, 10_000);
  // The kernel's word: the mapping lives, its file deleted, shown by the first name.
  const line = output().split('\n')[1]!;
  expect(line).toMatch(new RegExp(` ${join(work, 'db')} \\(deleted\\)$`));
  const address = `0x${line.split('-')[0]!.replace(/^0+/, '')}`;
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  program.stdin!.end();

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; mapsLines: Record<string, string> };
  expect(report.findings.map((finding) => [finding.kind, finding.pid, finding.path, finding.address, finding.length, finding.resolution, finding.confirmedByMaps])).toEqual([
    ['unlinked-while-mapped', pid, join(work, 'db.2'), address, BYTES, 'still-mapped', true],
  ]);
  expect(report.mapsLines[report.findings[0]!.id]).toMatch(new RegExp(`^${line.split(' ')[0]} .* ${join(work, 'db')} \\(deleted\\)$`));
}, 60_000);

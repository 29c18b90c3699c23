// Review 33's code review, 5: a hard link made by a process the trace does
// not follow (`ln a b`), then the mapped name unlinked under the trace.
// Under strace it reads as the file's last name gone: a finding (docs/report.md,
// Known inconsistencies). The capture's count at the end (maps-end.nlink)
// found b keeping the file, and the report called the mapping no leak while
// it listed it as one. Since review 33's exactness 4 was mended (CI of the
// thirty-fourth session), the count takes the finding back: no file gets a
// name back once its last has gone, so a name left after the trace says the
// one the trace saw go was not the last. The finding is benign ("kept by
// another name"), and --fail-on error passes.
//
// A real program (test/scenarios/linked-out-of-sight.py) under the real
// strace; the truth is its own stat of b after the unlink.
//
// Needs root and strace.
import type { spawn } from 'node:child_process';
import { cpSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { linkedOutOfSight } from './support/linked-out-of-sight.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review33-linked-out-of-sight.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it('capture --pid (strace): a finding whose file maps-end.nlink counts a name for is taken back, benign, and said so once', async () => {
  const work = realpathSync(workspace('linked-out-of-sight'));
  const bundle = join(work, 'bundle');
  const a = await linkedOutOfSight(work, bundle, children);
  const { ino: inode, dev } = statSync(join(work, 'b'));
  const counts = readFileSync(join(bundle, 'maps-end.nlink'), 'utf8');
  expect(counts).toMatch(new RegExp(` 1 ${inode} ${dev} \\S+$`, 'm'));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[] };
  const found = report.findings.filter((finding) => finding.path === a);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({ severity: 'info', benign: 'kept by another name', resolution: 'still-mapped', confirmedByMaps: true });
  expect(report.warnings.filter((warning) => warning.includes('so it is no leak') || warning.includes('may be false'))).toEqual([]);
  expect(report.warnings).toContainEqual(
    expect.stringMatching(
      new RegExp(
        `"\\(deleted\\)" and the trace shows losing the name it was mapped by, though another name kept it .*so its finding is no leak \\(info, "kept by another name"\\): ${a} at ${found[0]!.address}$`,
      ),
    ),
  );
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
  // NDJSON: each line of it says something new, and its last is the report's (review 58, F6: written twice alike).
  const lines = runCli(['analyze', bundle, '--format', 'ndjson'])
    .stdout.split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Finding)
    .filter((finding) => finding.id === found[0]!.id);
  for (let k = 1; k < lines.length; k++) expect(lines[k], `line ${k + 1} of ${found[0]!.id}`).not.toEqual(lines[k - 1]);
  expect(lines.at(-1)).toEqual(found[0]);

  // Review 34 attack, F4: the same count of a file with the same inode number on another file system (a target that
  // mapped one at the range while the count ran, as two fresh tmpfs mounts give) is no count of this file.
  const swapped = join(work, 'swapped');
  cpSync(bundle, swapped, { recursive: true });
  const elsewhere = statSync('/proc').dev;
  expect(elsewhere).not.toBe(dev);
  writeFileSync(join(swapped, 'maps-end.nlink'), counts.replace(new RegExp(` 1 ${inode} ${dev} \\S+$`, 'm'), ` 1 ${inode} ${elsewhere} tmpfs`));
  const fooled = JSON.parse(runCli(['analyze', swapped, '--format', 'json']).stdout) as { findings: Finding[] };
  expect(fooled.findings.filter((finding) => finding.path === a).map((finding) => finding.severity)).toEqual(['error']);
}, 120_000);

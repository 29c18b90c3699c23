// Review 22 (exactness, Postfix): `capture --pid MASTER`, while the admin's
// postmap (outside the traced tree) renamed a new virtual.cdb over the one
// the cleanup and trivial-rewrite workers had mapped. The workers exited
// holding their mappings: /proc showed them "(deleted)" for seconds, and the
// report said "no mapping outlived its file", exit 0 with --fail-on error.
//
// The trace holds no call of the removal. bpftrace reports the inode each
// open reached: a later open of the name reaching another inode shows the
// name given to another file out of sight, and the mappings of the old one
// held since the trace last saw that name reach it, and never unmapped, are
// in doubt (summary.mappingsInDoubt, a warning naming each, --fail-on exit
// 2 after the report). A worker that unmapped it first is no doubt.
//
// A real python3 server (test/scenarios/replaced-out-of-sight.py) under
// `orphanmap capture --backend bpftrace --pid`; the rename is this test's,
// outside the trace. The truth: the worker's own /proc/self/maps after the
// rename, showing its mapping deleted.
//
// Needs bpftrace, /usr/bin/python3 and root.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'replaced-out-of-sight.py');

interface Truth {
  pid: number;
  held: number;
  letGo: number;
  reader: number;
  deleted: string[];
}

const children: ChildProcess[] = [];
afterEach(() => killStillRunning(children));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review22-replaced-out-of-sight.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  requireTool(PYTHON);
});

it('bpftrace, attached: a mapped table replaced by a process outside the trace, its worker exiting with it: the mapping is in doubt, and --fail-on exits 2', async () => {
  const work = realpathSync(workspace('replaced-out-of-sight'));
  const table = join(work, 'table.cdb');
  writeFileSync(table, Buffer.alloc(8192, 'a'));
  writeFileSync(join(work, 'table.new'), Buffer.alloc(8192, 'b'));
  const server = spawn(PYTHON, [PROGRAM, work], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(server);
  const serverDone = exited(server);

  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--pid', String(server.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(capture);
  const captured = exited(capture);
  // meta.json is first written once bpftrace has attached.
  await waitFor('bpftrace to attach', () => existsSync(join(bundle, 'meta.json')), 120_000);
  writeFileSync(join(work, 'go'), '');
  await waitFor('the workers to map the table', () => existsSync(join(work, 'mapped')), 30_000);
  // postmap's way: a new table renamed over the old one, by a process the capture does not trace.
  renameSync(join(work, 'table.new'), table);
  writeFileSync(join(work, 'replaced'), '');
  expect((await serverDone).code).toBe(0);
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);

  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
  // The worker's own word: its mapping outlived the file's name.
  expect(truth.deleted).toHaveLength(1);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { summary: { mappingsInDoubt: number }; findings: unknown[]; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  const warning = report.warnings.find((text) => text.startsWith('A name was given to another file where the trace does not show it'));
  expect(warning).toMatch(
    new RegExp(
      `^A name was given to another file where the trace does not show it: the open of ${table.replaceAll('.', '\\.')} at ${bundle.replaceAll('.', '\\.')}/trace\\.txt:\\d+ \\(process ${truth.reader}\\) ` +
        `reached inode \\d+, not inode \\d+, the file the trace knew by that name, which a mapping in process ${truth.held} held since the trace last saw that name reach it, and did not unmap\\. `,
    ),
  );
  // The worker that unmapped the table before the rename is no doubt.
  expect(warning).not.toContain(`process ${truth.letGo} `);

  const text = runCli(['analyze', bundle]);
  expect(text.stdout.split('\n')[0]).toBe(
    'orphanmap: no mapping was seen to outlive its file, but 1 mapping is in doubt (its file may have lost its last name where the trace cannot tell: see the warnings).',
  );
  const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
  expect(verdict.status, verdict.stderr).toBe(2);
  expect(verdict.stderr).toContain(
    "orphanmap: error: 1 mapping is in doubt (its file may have lost its last name where the trace cannot tell; the report's warnings name each), so --fail-on error cannot tell that nothing leaked",
  );
}, 180_000);

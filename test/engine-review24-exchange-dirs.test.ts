// Review 24 (attack), F9: renameat2(RENAME_EXCHANGE) of two directories
// swapped only the two names themselves in the engine, never the names
// under them: the unlink of a mapped file by its directory's new name found
// no file, and a 16 MiB leak read as clean, exit 0 with --fail-on (a plain
// rename of the directory was followed). Now what is under each goes with it.
//
// A real program (test/scenarios/exchange-dirs.py) under real strace, with
// the capture's filter; the truth is its own /proc/self/maps.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('strace: files mapped in two directories swapped by RENAME_EXCHANGE, then unlinked by their new names, are findings as /proc shows them', () => {
  const work = realpathSync(workspace('exchange-dirs'));
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, join(REPO, 'test', 'scenarios', 'exchange-dirs.py'), work], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  // /proc names each by the path it had when it went: its directory's new name.
  expect(truth.deleted.map((d) => d.path).sort()).toEqual([join(work, 'd', 'log.index'), join(work, 'e', 'seg.index')]);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.path} ${f.severity}`).sort()).toEqual(truth.deleted.map((d) => `${truth.pid} ${d.address} ${d.path} error`).sort());
  // Each finding knows the name it was mapped by, and the one the swap gave it.
  expect(findings.find((f) => f.path.endsWith('/e/seg.index'))!.names).toEqual([join(work, 'd', 'seg.index'), join(work, 'e', 'seg.index')]);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
});

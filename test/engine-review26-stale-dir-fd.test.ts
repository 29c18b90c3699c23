// Review 26 (attack), F1 and F5: a mapped file unlinked by a name relative
// to a directory fd, where the engine's own record of that fd named another
// directory than the kernel's. F5: the fd was opened through a symlink, and
// the real directory renamed since; the record kept the symlink's spelling,
// which led nowhere. F1: the fd was marked close-on-exec by ioctl(FIOCLEX),
// which the capture's filter leaves out, so the exec closed it unseen, and a
// directory received over a unix socket took its number; the record kept
// the old directory. Both read as clean, exit 0 with --fail-on, though
// strace's own line named the right directory: unlinkat(20</…/real>, "seg").
// The call's -y annotation now comes first.
//
// A real program (test/scenarios/stale-dir-fd.py) under `orphanmap capture`
// (strace); the truth is its own /proc/self/maps after the unlink.
//
// Needs strace and /usr/bin/python3.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it.each([
  ['renamed', 'a directory fd opened through a symlink, its real directory renamed since', join('c', 'seg')],
  ['exec', 'an fd number the exec closed unseen, then a received directory fd took', join('real', 'seg')],
])('capture (strace): %s — the unlink through %s is the leak /proc shows', (scenario, _how, left) => {
  const work = realpathSync(workspace(`stale-dir-fd-${scenario}`));
  const bundle = join(work, 'bundle');
  const capture = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(REPO, 'test', 'scenarios', 'stale-dir-fd.py'), scenario, join(work, 'w')]);
  expect(capture.status, capture.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'w', 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  // The program's own word: the one mapping it held, of the file the unlink removed.
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(work, 'w', left) }]);
  // And strace's line names that directory, as the kernel resolved it.
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toContain(`<${dirname(join(work, 'w', left))}>, "seg", 0) = 0`);
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.length} ${f.resolution}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} 65536 unmapped`]);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
});

// Review 31 (attack), F3b: a bpftrace capture stopped while bpftrace attached
// its probes holds "Attaching 86 probes..." and bpftrace's end record, but
// no header: `analyze` refused it as "not a syscall trace … not from
// scripts/orphanmap.bt" instead of saying that the capture traced nothing, as
// its meta.json records ("attached": false), and giving no verdict. A real
// bundle (test/fixtures/review31-stopped-attaching/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review31-stopped-attaching', 'bundle');

it('a bpftrace capture stopped while attaching: no verdict, as for any capture that traced nothing; --fail-on exits 2', () => {
  expect(readFileSync(join(BUNDLE, 'trace.txt'), 'utf8')).toMatch(/^Attaching 86 probes\.\.\.\n[0-9a-f]{16} \d+ 0 0 0 end\n/);
  expect(JSON.parse(readFileSync(join(BUNDLE, 'meta.json'), 'utf8'))).toMatchObject({ backend: 'bpftrace', pid: 4927, attached: false, exitReason: 'interrupted' });
  const why = 'the capture was stopped before bpftrace attached to pid 4927: nothing of it was traced';
  const text = runCli(['analyze', BUNDLE]);
  expect(text.status, text.stderr).toBe(0);
  expect(text.stdout.split('\n')[0]).toBe(`orphanmap: no verdict: ${why}.`);
  const verdict = runCli(['analyze', BUNDLE, '--fail-on', 'error']);
  expect(verdict.status).toBe(2);
  expect(verdict.stderr).toBe(`orphanmap: ${BUNDLE}: error: ${why}, so --fail-on error cannot tell that nothing leaked\n`);
});

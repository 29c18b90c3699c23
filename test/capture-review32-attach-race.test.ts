// Review 32 (attack), F3: a target that watches its own TracerPid acts the
// moment `capture --pid` attaches: it unlinks a file it mapped before and
// unmaps it, before the capture reads maps-start.txt. The trace shows both
// calls, but of a mapping no snapshot held: the leak read as clean. The
// capture now reads the maps before it starts the tracer too
// (maps-before.txt): a mapping there and not in maps-start.txt, whose range
// the trace first shows unmapped after its name went, is in doubt. And the
// child it forked the moment it saw the tracer, which the capture listed
// among the children it found once attached, was called untraced, though
// the trace shows it from its fork.
//
// A real program (test/scenarios/attach-race.py) under the real strace; the
// truth is its own /proc/self/maps between the unlink and the munmap.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review32-attach-race.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

it.each([
  ['unmapped', []],
  ['mapped over with MAP_FIXED', ['over']],
])(
  'capture --pid: a file unlinked and %s the moment the tracer attached is not clean',
  async (how, programArgs) => {
    const work = realpathSync(workspace('attach-race'));
    const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'attach-race.py'), work, ...programArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(program);
    const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
    expect(Number((await lines.next()).value)).toBe(program.pid);
    const bundle = join(work, 'bundle');
    const { captured } = await captureAttached('strace', program, bundle, children);
    await waitFor('the program to act on the attach', () => existsSync(join(work, 'truth.json')), 30_000);
    program.stdin!.end('go\n');
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);
    // The program's word: its mapping of seg, live once seg was unlinked.
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; child: number; deleted: SelfMapsDeleted[] };
    expect(truth.deleted.map((mapping) => mapping.path)).toEqual([join(work, 'seg')]);
    const address = truth.deleted[0]!.address;
    // The capture's word: seg's mapping before the attach; the trace's: its munmap, or the mmap over it.
    const start = Number.parseInt(address, 16).toString(16);
    expect(readFileSync(join(bundle, 'maps-before.txt'), 'utf8')).toContain(`${start}-`);
    const ended = how === 'unmapped' ? `munmap\\(${address}, 8192\\) = 0` : `mmap\\(${address}, 8192, PROT_READ, MAP_PRIVATE\\|MAP_FIXED\\|MAP_ANONYMOUS, -1, 0\\) = ${address}`;
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(new RegExp(ended));
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
    // The child forked under the trace, listed among the children the capture found once attached: not called untraced.
    expect((JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { childrenAtAttach: number[] }).childrenAtAttach).toEqual([truth.child]);
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(new RegExp(`^${truth.pid}\\S* \\S+ clone\\(.*\\) = ${truth.child}\\b`, 'm'));
    expect(report.warnings.filter((warning) => warning.includes('when the capture attached'))).toEqual([]);
    const found = report.findings.filter((finding) => finding.pid === truth.pid && finding.kind === 'unlinked-while-mapped');
    const seeded = readFileSync(join(bundle, 'maps-start.txt'), 'utf8')
      .split('\n')
      .some((line) => line.startsWith(`${start}-`) && line.endsWith(join(work, 'seg')));
    if (seeded) {
      // The capture read maps-start.txt before the program's munmap (it always lost the race here so far): the seeded mapping's leak.
      expect(found.map((finding) => [finding.address, finding.path])).toEqual([[address, join(work, 'seg')]]);
    } else {
      // Gone when maps-start.txt was read: in doubt, as the trace showed its name go while it was mapped.
      expect(found).toEqual([]);
      expect(report.summary.mappingsInDoubt).toBe(1);
      expect(report.warnings).toContainEqual(expect.stringContaining(`process ${truth.pid} mapped ${join(work, 'seg')} at ${address} before the capture attached (maps-before.txt)`));
      expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
    }
  },
  120_000,
);

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
// Review 33 (attack): F3, a mapping moved (mremap) in those moments was
// forgotten, where it lives on at its new place; F1, the child the process
// forks then holds a copy of each such mapping, which outlives the name
// when the parent unmaps its own first (or keeps it to its exit): a copy
// tells as the parent's does, and at the child's exit, its copy, live until
// then, is in doubt too.
//
// A real program (test/scenarios/attach-race.py) under the real strace; the
// truth is its own /proc/self/maps between the unlink and the munmap (and
// the child's, of its copy).
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
  ['unmapped', 'unmapped'],
  ['mapped over with MAP_FIXED', 'over'],
  ['moved, then unmapped', 'moved'],
  ['unmapped before the unlink, its fork child keeping a copy,', 'unmapped-first'],
  ['unmapped before the unlink, its child by the fork call keeping a copy,', 'unmapped-first-fork'],
  ['ended by an execve', 'exec'],
  ['unmapped, its directory renamed first,', 'dir-renamed'],
])(
  'capture --pid: a file unlinked and %s the moment the tracer attached is not clean',
  async (_how, how) => {
    const work = realpathSync(workspace('attach-race'));
    const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'attach-race.py'), work, how], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(program);
    const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
    expect(Number((await lines.next()).value)).toBe(program.pid);
    const bundle = join(work, 'bundle');
    const { captured } = await captureAttached('strace', program, bundle, children);
    await waitFor('the program to act on the attach', () => existsSync(join(work, 'truth.json')), 30_000);
    program.stdin!.end('go\n');
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);
    // The program's word: its mapping of seg, live once seg was unlinked (but when it unmapped it first), and its child's copy.
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as {
      pid: number;
      child: number;
      mappedAt: string;
      deleted: SelfMapsDeleted[];
      childDeleted: SelfMapsDeleted[] | null;
      seg: string;
    };
    // Its name when unlinked (DIR/d2/seg once its directory was renamed).
    const seg = truth.seg;
    expect(seg).toBe(join(work, ...(how === 'dir-renamed' ? ['d2', 'seg'] : ['seg'])));
    const parentKept = !how.startsWith('unmapped-first');
    expect(truth.deleted.map((mapping) => mapping.path)).toEqual(parentKept ? [seg] : []);
    if (!parentKept) expect(truth.childDeleted!.map((mapping) => [mapping.path, mapping.address])).toEqual([[seg, truth.mappedAt]]);
    const address = parentKept ? truth.deleted[0]!.address : truth.mappedAt;
    // The capture's word: seg's mapping before the attach; the trace's: how it ended (its return may be on a line of its own,
    // `<... resumed>`, when another process's call came in between: the program's maps say where it went).
    const start = Number.parseInt(truth.mappedAt, 16).toString(16);
    expect(readFileSync(join(bundle, 'maps-before.txt'), 'utf8')).toContain(`${start}-`);
    const ended = {
      unmapped: `^${truth.pid}\\S* \\S+ munmap\\(${address}, 8192\\b`,
      over: `mmap\\(${address}, 8192, PROT_READ, MAP_PRIVATE\\|MAP_FIXED\\|MAP_ANONYMOUS, -1, 0\\b`,
      moved: `mremap\\(${truth.mappedAt}, 8192, 8192, MREMAP_MAYMOVE\\|MREMAP_FIXED, ${address}\\b`,
      'dir-renamed': `^${truth.pid}\\S* \\S+ munmap\\(${address}, 8192\\b`,
      'unmapped-first': `^${truth.child}\\S* \\S+ munmap\\(${address}, 8192\\b`,
      'unmapped-first-fork': `^${truth.child}\\S* \\S+ munmap\\(${address}, 8192\\b`,
      exec: `^${truth.pid}\\S* \\S+ execve\\("/bin/sh", \\["sh", "-c", "read line"\\]`,
    }[how]!;
    const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
    expect(trace).toMatch(new RegExp(ended, 'm'));
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
    // The child forked under the trace, listed among the children the capture found once attached: not called untraced.
    expect((JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { childrenAtAttach: number[] }).childrenAtAttach).toEqual([truth.child]);
    expect(trace).toMatch(new RegExp(`^${truth.pid}\\S* \\S+ (clone\\(|fork\\(|<\\.\\.\\. (clone|fork) resumed>).*\\)\\s+= ${truth.child}\\b`, 'm'));
    expect(report.warnings.filter((warning) => warning.includes('when the capture attached'))).toEqual([]);
    const found = (pid: number) => report.findings.filter((finding) => finding.pid === pid && finding.kind === 'unlinked-while-mapped');
    const seeded = readFileSync(join(bundle, 'maps-start.txt'), 'utf8')
      .split('\n')
      .some((line) => line.includes(` ${work}/`) && line.endsWith('/seg'));
    if (seeded) {
      // The capture read maps-start.txt before the program's move or munmap (it always lost the race here so far): the seeded mapping's leak.
      if (parentKept) expect(found(truth.pid).map((finding) => [finding.address, finding.path])).toEqual([[address, seg]]);
      // The child's copy, made from the seeded mapping: found, or in doubt.
      expect(found(truth.child).length + report.summary.mappingsInDoubt).toBe(1);
    } else {
      // Gone when maps-start.txt was read: in doubt, as the trace showed its name go while it was mapped; and the child's copy.
      expect([found(truth.pid), found(truth.child)]).toEqual([[], []]);
      expect(report.summary.mappingsInDoubt).toBe(parentKept ? 2 : 1);
      const note = parentKept
        ? `process ${truth.pid} mapped ${seg} at ${how === 'moved' ? address : truth.mappedAt} before the capture attached (maps-before.txt)`
        : `process ${truth.child}, forked by process ${truth.pid} at ${join(bundle, 'trace.txt')}:`;
      expect(report.warnings).toContainEqual(expect.stringContaining(note));
      expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
    }
  },
  120_000,
);

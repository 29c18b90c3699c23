// Review 44, H1: `capture --pid --backend bpftrace` of a process (dovecot's
// imap) whose file, mapped before the attach, was replaced by a rename over
// it from outside the trace, then unmapped and closed at logout. strace's
// `-yy` close shows the fd's file "(deleted)": the mapping is in doubt.
// bpftrace's close record said nothing of the file, and the exit look-up
// (maps-start-gone-late.txt, the directory changed within the last second)
// calls a mapping its process released no doubt: clean, where /proc showed
// the mapping "(deleted)" with no name left. Now orphanmap.bt prints the link
// count at the close, as at mmap and ftruncate: 0 there tells the same as
// strace's "(deleted)", whatever came later.
// Truth: the program's own /proc/self/maps lines, read after the renames and
// before it lets either file go: both mapped, both "(deleted)".
//
// Needs root, strace and bpftrace.
import type { ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';

const SIZES = { 'a.db': 8192, 'b.db': 12288 };
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

describe.each(['strace', 'bpftrace'] as const)('capture --pid --backend %s: files replaced out of sight, then released', (backend) => {
  it('the one closed while mapped is a finding at its address; the one unmapped first is in doubt, not clean', async () => {
    const work = workspace(`review44-${backend}`);
    for (const [name, size] of Object.entries(SIZES)) writeFileSync(join(work, name), Buffer.alloc(size, name[0]));
    const { program, pid, output, done } = await startScenario('replaced-then-released.py', [work], children);

    const bundle = join(work, 'bundle');
    const { captured } = await captureAttached(backend, pid, bundle, children, ['--duration', '120'], 'snapshots');
    // Replaced by this process, which the capture does not trace: a new file renamed over each name.
    for (const [name, size] of Object.entries(SIZES)) {
      writeFileSync(join(work, `${name}.new`), Buffer.alloc(size, 'n'));
      renameSync(join(work, `${name}.new`), join(work, name));
    }
    program.stdin!.end('go\n');
    expect((await done).code).toBe(0);
    const [, lineA, lineB, released] = output().split('\n');
    expect(released).toBe('released');
    for (const line of [lineA!, lineB!]) expect(line).toMatch(/ \(deleted\)$/);
    const rangeOf = (line: string) =>
      line
        .split(' ')[0]!
        .split('-')
        .map((hex) => Number.parseInt(hex, 16));
    const [startB, endB] = rangeOf(lineB!);
    const run = await captured;
    expect(run.code, run.stderr).toBe(0);

    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number }; warnings: string[] };
    expect(report.findings.map((finding) => [finding.kind, finding.pid, finding.path, finding.address, finding.length, finding.resolution])).toEqual([
      ['unlinked-while-mapped', pid, join(work, 'b.db'), `0x${startB!.toString(16)}`, endB! - startB!, 'unmapped'],
    ]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    // Named by the warning of the doubt: the close that showed the file nameless, in the tracer's words.
    const shown = backend === 'strace' ? `${join(work, 'a.db')} "(deleted)"` : `${join(work, 'a.db')} with no name left (link count 0)`;
    const told = report.warnings.filter((warning) => warning.includes(join(work, 'a.db')));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^A mapped file lost a name where the trace does not show it: the close at \S+trace\.txt:\d+ \(process \d+\) shows /);
    expect(told[0]).toContain(`(process ${pid}) shows ${shown}, which no call in the trace removed`);
  }, 120_000);
});

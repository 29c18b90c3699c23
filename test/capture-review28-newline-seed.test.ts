// Review 28 (exactness), finding 3: /proc/PID/maps prints a newline in a
// name as the four characters \012, and the trace as a newline. A mapping
// made before `capture --pid` attached, of a file whose name holds one, was
// known by the \012 spelling, so the unlink the trace showed (during the
// capture, the process then exiting: no maps-end.txt) named no file it knew:
// "no mapping outlived its file", exit 0.
//
// A real program (python3, inline): maps DIR/"seg\n1.index" before the
// attach, unlinks it once told, and writes down its own /proc/self/maps
// lines that print " (deleted)" before it exits. The truth is those lines.
//
// Needs root and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
directory, truth = sys.argv[1], sys.argv[2]
path = os.path.join(directory, "seg\\n1.index")
with open(path, "wb") as f:
    f.truncate(1 << 20)
fd = os.open(path, os.O_RDWR)
kept = mmap.mmap(fd, 1 << 20, mmap.MAP_SHARED)
os.close(fd)
print(os.getpid(), flush=True)
sys.stdin.readline()
os.unlink(path)
with open("/proc/self/maps") as maps:
    lines = [line for line in maps if line.rstrip("\\n").endswith(" (deleted)")]
with open(truth, "w") as f:
    f.write("".join(lines))
`;

const children: ChildProcess[] = [];
afterEach(() => killStillRunning(children));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review28-newline-seed.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool(PYTHON);
});

describe('a mapping made before the attach, of a file whose name holds a newline (review 28, exactness 3)', () => {
  it('capture --pid, the process unlinking it and exiting during the capture: the leak /proc showed is found', async () => {
    const work = realpathSync(workspace('newline-seed'));
    const truthFile = join(work, 'truth.txt');
    const program = spawn(PYTHON, ['-c', PROGRAM, join(work, 'w'), truthFile], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(program);
    const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
    expect(Number((await lines.next()).value)).toBe(program.pid);
    const bundle = join(work, 'bundle');
    const { captured } = await captureAttached('strace', program, bundle, children);
    program.stdin!.write('go\n');
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);

    // The program's word: one mapping of 1 MiB, its name printed with \\012.
    const truth = readFileSync(truthFile, 'utf8').trimEnd().split('\n');
    expect(truth).toHaveLength(1);
    expect(truth[0]).toContain(`${join(work, 'w')}/seg\\0121.index (deleted)`);
    const [start, end] = truth[0]!
      .split(' ')[0]!
      .split('-')
      .map((hex) => Number.parseInt(hex, 16)) as [number, number];
    expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(false);

    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
    expect(report.findings.map((finding) => [finding.kind, finding.pid, finding.address, finding.length, finding.path])).toEqual([
      ['unlinked-while-mapped', program.pid, `0x${start.toString(16)}`, end - start, `${join(work, 'w')}/seg\n1.index`],
    ]);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
  }, 120_000);
});

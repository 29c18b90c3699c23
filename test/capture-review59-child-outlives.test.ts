// Review 59, M5: `capture --pid` of a process whose child, started before
// the attach (so never traced), maps a file the traced process then
// removes; the process exits, the capture with it, the child lives on with
// the file "(deleted)" in its maps. The capture read no maps of the child at
// the end (it was no longer a descendant of a process alive), and the report
// said "no mapping outlived its file", `--fail-on error` exit 0, but for a
// generic warning. The children at the attach are read at the end wherever
// they are: the child's mapping of a deleted file is in doubt.
// Truth: the parent's record of its child's /proc/PID/maps after the removal.
//
// Needs root, strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killPids, killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** Starts a child that maps DIR/k.bin (64 KiB) and sleeps; prints "ready CHILD"; once DIR/go exists, removes k.bin, writes the child's "(deleted)" maps lines to DIR/truth.txt, and exits. */
const PROGRAM = `
import os, subprocess, sys, time
work = sys.argv[1]
name = os.path.join(work, "k.bin")
with open(name, "wb") as out:
    out.write(b"k" * 65536)
child = subprocess.Popen([sys.executable, "-c", "import mmap, sys, time; f = open(sys.argv[1], 'r+b'); m = mmap.mmap(f.fileno(), 0); f.close(); print('mapped', flush=True); time.sleep(120)", name], stdout=subprocess.PIPE)
child.stdout.readline()
print("ready", child.pid, flush=True)
while not os.path.exists(os.path.join(work, "go")):
    time.sleep(0.02)
os.unlink(name)
with open("/proc/%d/maps" % child.pid) as maps, open(os.path.join(work, "truth.txt"), "w") as truth:
    truth.writelines(line for line in maps if line.rstrip("\\n").endswith(" (deleted)"))
`;

const started: ChildProcess[] = [];
const children: number[] = [];
afterAll(() => {
  killPids(children);
  killStillRunning(started);
});
beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

it.each(['strace', 'bpftrace'] as const)(
  'capture --backend %s --pid: a child from before the attach, alive at the end, still mapping a file the process removed, is in doubt',
  async (backend) => {
    const work = realpathSync(workspace(`review59-child-outlives-${backend}`));
    const program = spawn(PYTHON, ['-c', PROGRAM, work], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(program);
    const ready = ((await createInterface({ input: program.stdout! })[Symbol.asyncIterator]().next()).value as string).split(' ');
    expect(ready[0]).toBe('ready');
    const child = Number(ready[1]);
    children.push(child);
    const bundle = join(work, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.push(capture);
    const captured = exited(capture);
    await waitFor(`${backend} to attach`, () => existsSync(join(bundle, 'meta.json')), 120_000);
    writeFileSync(join(work, 'go'), '');
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);
    const truth = readFileSync(join(work, 'truth.txt'), 'utf8').split('\n').filter(Boolean);
    expect(truth).toHaveLength(1);
    expect(truth[0]).toMatch(new RegExp(` ${join(work, 'k.bin')} \\(deleted\\)$`));

    // The capture read the child's maps at the end, though the process it was attached to had gone.
    expect(existsSync(join(bundle, `maps-end.${child}.txt`))).toBe(true);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(report.warnings.some((text) => text.includes(`pid ${child} (${join(work, 'k.bin')}`))).toBe(true);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  },
  180_000,
);

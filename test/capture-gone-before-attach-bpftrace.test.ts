// Review 14, M3: `capture --pid --backend bpftrace` of a process that exits
// while bpftrace still compiles its probes (8-40 s on a loaded host) gave a
// bundle marked complete ("target-exited") that held nothing of the process,
// and analyze called it clean ("no mapping outlived its file", --fail-on
// error exit 0). Now the capture stops as soon as the target is gone, says so,
// exits non-zero and marks the bundle incomplete; analyze says it proves
// nothing and refuses a verdict. One real capture, with the real bpftrace, of
// a python process holding a deleted file's mapping that lives 1.5 s after the
// capture starts: far less than bpftrace's attach. That it was gone before
// bpftrace attached is checked from outside: /proc (its exit, reaped by this
// test) first, then bpftrace's own stderr (no attach notice yet) and the
// trace (no `begin` header yet). A target that exits after the attach stays a
// complete "target-exited" bundle with its leak found:
// test/review-exactness.test.ts ("orphanmap capture --backend bpftrace --pid")
// and test/capture-gone-before-attach-strace.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exited, exited, PYTHON, workspace } from './scenarios/harness.js';
import { deletedMappingsIn, processesWith } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** How long the target lives once the capture has started: bpftrace takes 8 s or more to attach here. */
const LIFE_SECONDS = 1.5;

// Maps FILE and unlinks it (a leak), says "ready", waits for GO (written once
// the capture runs), lives LIFE more seconds, and records its exit (BOOTTIME ns, bpftrace's clock).
const TARGET = `
import mmap, os, sys, time
file, go, record, life = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 1 << 20)
kept = mmap.mmap(fd, 1 << 20)
os.close(fd)
os.unlink(file)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
time.sleep(life)
with open(record, "w") as out:
    out.write("exiting %d %d\\n" % (os.getpid(), time.clock_gettime_ns(time.CLOCK_BOOTTIME)))
`;

/** What this file started: a failed run must leave none running (a SIGKILLed capture's watchdog stops its bpftrace). */
const children: ChildProcess[] = [];

describe('review 14, M3: capture --pid --backend bpftrace of a process that exits before bpftrace attaches', () => {
  let dir = '';
  let bundle = '';
  let pid = 0;
  let capture: Exited;
  let captureSeconds = 0;
  /** What the test saw once the target was gone and reaped. */
  let atExit = { tracerStderr: '', trace: '', metaWritten: false };

  beforeAll(async () => {
    requireTool('bpftrace');
    requireTool(PYTHON);
    dir = workspace('gone-bt');
    bundle = join(dir, 'bundle');
    const file = join(dir, 'w', 'short.bin');
    const go = join(dir, 'go');
    const record = join(dir, 'exit-record');
    const target = spawn(PYTHON, ['-c', TARGET, file, go, record, String(LIFE_SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(target);
    const targetDone = exited(target);
    pid = target.pid!;
    let out = '';
    target.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('the target to map and unlink its file', () => out.includes('ready'), 10_000);
    // The leak is there, as /proc shows it: a clean report of this process would be wrong.
    expect(deletedMappingsIn(readFileSync(`/proc/${pid}/maps`, 'utf8'), join(dir, 'w'))).toHaveLength(1);

    const started = Date.now();
    const child = spawn(process.execPath, [CLI, 'capture', '--pid', String(pid), '--backend', 'bpftrace', '--duration', '10', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const captureDone = exited(child);
    // This capture's bpftrace (by its target's pid: other test files run theirs), compiling.
    await waitFor('bpftrace to start', () => processesWith('orphanmap.bt').some((proc) => proc.argv.includes(String(pid))), 10_000);
    writeFileSync(go, '');
    const gone = await targetDone;
    expect(gone.code, gone.stderr).toBe(0);
    // Reaped by this test: no process has its pid until the kernel hands it out again.
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    atExit = {
      tracerStderr: readFileSync(join(bundle, 'tracer.stderr'), 'utf8'),
      trace: readFileSync(join(bundle, 'trace.txt'), 'utf8'),
      metaWritten: existsSync(join(bundle, 'meta.json')),
    };
    expect(readFileSync(record, 'utf8')).toMatch(new RegExp(`^exiting ${pid} \\d+\\n$`));
    capture = await captureDone;
    captureSeconds = (Date.now() - started) / 1000;
  }, 55_000);

  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('was gone before bpftrace attached (the precondition, from /proc and bpftrace itself)', () => {
    expect(atExit.tracerStderr).not.toContain('__BPFTRACE_NOTIFY_PROBES_ATTACHED');
    expect(atExit.trace).not.toMatch(/^(?:[0-9a-f]{16} )?orphanmap-bt \d+ begin /m);
  });

  it('the capture says so, stops at once, exits non-zero and leaves bpftrace running nowhere', () => {
    expect(capture.code, capture.stderr).toBe(2);
    expect(capture.stderr).toContain(`capture with bpftrace failed (exit status 1): pid ${pid} exited before bpftrace attached to it`);
    expect(capture.stderr).toContain('nothing of it was traced, so this bundle proves nothing (meta.json says "complete": false)');
    expect(capture.stderr).not.toMatch(/bpftrace attached after/);
    // Without waiting for bpftrace to finish compiling, nor for --duration.
    expect(captureSeconds).toBeLessThan(LIFE_SECONDS + 15);
    expect(processesWith('orphanmap.bt').filter((proc) => proc.argv.includes(String(pid)))).toEqual([]);
  });

  it('meta.json: target-exited-before-attach, not complete; no snapshots', () => {
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ backend: 'bpftrace', mode: 'attached', pid, exitReason: 'target-exited-before-attach', complete: false, mapCountStart: null, mapCountEnd: null });
    expect(meta.endTime).not.toBeNull();
    expect(existsSync(join(bundle, 'maps-start.txt'))).toBe(false);
    expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(false);
  });

  it('analyze refuses a verdict (exit 2, naming the cause) and never calls the process clean', () => {
    const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
    expect(verdict.status, verdict.stderr).toBe(2);
    expect(verdict.stderr).toBe(`orphanmap: ${bundle}: error: pid ${pid} exited before bpftrace attached to it: nothing of it was traced, so --fail-on error cannot tell that nothing leaked\n`);
    const report = runCli(['analyze', bundle]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout.split('\n')[0]).toBe(`orphanmap: no verdict: pid ${pid} exited before bpftrace attached to it: nothing of it was traced.`);
    expect(report.stdout).not.toContain('no mapping outlived its file');
    expect(report.stdout).toContain(`  - ${bundle}: pid ${pid} exited before bpftrace attached to it: nothing of it was traced, so the bundle proves nothing either way`);
  });
});

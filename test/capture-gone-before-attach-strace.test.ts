// Review 14, M3, with strace: a --pid target that has exited by the time
// strace attaches gives a capture that says so (exit non-zero, meta.json
// "target-exited-before-attach", "complete": false) and a bundle analyze
// refuses a verdict on; a target that exits after the attach is still a
// complete "target-exited" bundle with its leak found. strace attaches in a
// moment, so the exit before it is made certain: the target has exited but
// its parent (sh exec'd into sleep) never reaps it, so /proc still lists it,
// as a zombie, and ptrace cannot attach to it. The target's own record and
// /proc say it was gone before the capture started.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FINDINGS } from '../src/errors.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { procStatus } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

// Maps FILE and unlinks it (a leak), waits for GO, records its exit, exits.
const TARGET = `
import mmap, os, sys, time
file, go, record = sys.argv[1], sys.argv[2], sys.argv[3]
fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 8192)
kept = mmap.mmap(fd, 8192)
os.close(fd)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
os.unlink(file)
with open(record, "w") as out:
    out.write("exiting %d\\n" % os.getpid())
`;

const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function capture(pid: number, bundle: string) {
  const child = spawn(process.execPath, [CLI, 'capture', '--pid', String(pid), '--backend', 'strace', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return exited(child);
}

describe('review 14, M3: capture --pid --backend strace and the target’s exit', () => {
  it('a target that exited before strace attached: said, exit 2, not complete, and analyze refuses a verdict', async () => {
    const dir = workspace('gone-st');
    const record = join(dir, 'exit-record');
    const go = join(dir, 'go');
    writeFileSync(go, '');
    // sh starts the target, prints its pid, and becomes sleep, which never reaps it.
    const parent = spawn('/bin/sh', ['-c', `"$0" -c "$1" "$2" "$3" "$4" >/dev/null & echo $!; exec sleep 60`, PYTHON, TARGET, join(dir, 'w', 'f.bin'), go, record], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(parent);
    let out = '';
    parent.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('the target’s pid', () => /^\d+\n/.test(out), 10_000);
    const pid = Number(out.trim());
    await waitFor('the target to exit', () => existsSync(record) && procStatus(pid)?.state === 'Z', 10_000);
    // Its own record, and /proc: it exited (a zombie), before the capture began.
    expect(readFileSync(record, 'utf8')).toBe(`exiting ${pid}\n`);
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(new RegExp(`^PPid:\\s+${parent.pid}$`, 'm'));

    const bundle = join(dir, 'bundle');
    const captured = await capture(pid, bundle);
    expect(captured.code, captured.stderr).toBe(2);
    expect(captured.stderr).toContain(`capture with strace failed (exit status 1): pid ${pid} exited before strace attached to it: nothing of it was traced`);
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ backend: 'strace', mode: 'attached', pid, exitReason: 'target-exited-before-attach', complete: false, mapCountStart: null, mapCountEnd: null });
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toBe('');
    // strace said why it could not attach: the process had exited.
    expect(readFileSync(join(bundle, 'tracer.stderr'), 'utf8')).toContain(`attach: ptrace(PTRACE_SEIZE, ${pid}): Operation not permitted`);

    const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
    expect(verdict.status, verdict.stderr).toBe(2);
    expect(verdict.stderr).toBe(`orphanmap: ${bundle}: error: pid ${pid} exited before strace attached to it: nothing of it was traced, so --fail-on error cannot tell that nothing leaked\n`);
    const report = runCli(['analyze', bundle, '--format', 'markdown']);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain(`**no verdict: pid ${pid} exited before strace attached to it: nothing of it was traced.**`);
    expect(report.stdout).not.toContain('no mapping outlived its file');
  }, 30_000);

  it('a target that exits after the attach: a complete target-exited bundle, its leak found', async () => {
    const dir = workspace('after-st');
    const record = join(dir, 'exit-record');
    const go = join(dir, 'go');
    const file = join(dir, 'w', 'f.bin');
    const target = spawn(PYTHON, ['-c', TARGET, file, go, record], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(target);
    const targetDone = exited(target);
    await waitFor('the target', () => existsSync(file), 10_000);
    const bundle = join(dir, 'bundle');
    const captured = capture(target.pid!, bundle);
    // meta.json is first written once strace is attached.
    await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 20_000);
    expect(procStatus(target.pid!)?.tracerPid).not.toBe(0);
    writeFileSync(go, '');
    expect((await targetDone).code).toBe(0);
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('exited before');
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ pid: target.pid, exitReason: 'target-exited', complete: true });
    expect(meta.mapCountStart).toBeGreaterThan(0);
    const verdict = runCli(['analyze', bundle, '--fail-on', 'error', '--format', 'json']);
    expect(verdict.status, verdict.stderr).toBe(EXIT_FINDINGS);
    const leaks = JSON.parse(verdict.stdout).findings.filter((finding: { kind: string }) => finding.kind === 'unlinked-while-mapped');
    expect(leaks.map((finding: { path: string; pid: number }) => [finding.path, finding.pid])).toEqual([[file, target.pid]]);
  }, 30_000);
});

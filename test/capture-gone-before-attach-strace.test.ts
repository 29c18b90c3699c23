// Review 14, M3, with strace: a --pid target that has exited by the time
// strace attaches gives a capture that says so (exit non-zero, meta.json
// "target-exited-before-attach", "complete": false) and a bundle analyze
// refuses a verdict on; a target that exits after the attach is still a
// complete "target-exited" bundle with its leak found. strace attaches in a
// moment, so the exit before it is made certain: the target has exited but
// its parent (sh exec'd into sleep) never reaps it, so /proc still lists it,
// as a zombie, and ptrace cannot attach to it. The target's own record and
// /proc say it was gone before the capture started.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FINDINGS } from '../src/errors.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning, procStatus } from './support/proc.js';
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

// Maps FILE, waits for a tracer (its TracerPid), then at once unlinks FILE, says who traced it and exits.
const RACER = `
import mmap, os, sys, time
file = sys.argv[1]
fd = os.open(file + ".tmp", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 8192)
kept = mmap.mmap(fd, 8192)
os.close(fd)
os.rename(file + ".tmp", file)
while True:
    with open("/proc/self/status") as status:
        tracer = [line.split()[1] for line in status if line.startswith("TracerPid:")][0]
    if tracer != "0":
        os.unlink(file)
        print("traced by %s" % tracer, flush=True)
        os._exit(0)
    time.sleep(0.001)
`;

// A worker thread that keeps a mapping of FILE (unlinked), while the leader thread ends with pthread_exit.
const ZOMBIE_LEADER = `
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
static const char *file;
static void *worker(void *unused) {
  int fd = open(file, O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ftruncate(fd, 4096) != 0 || mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) _exit(1);
  close(fd);
  unlink(file);
  printf("worker running\\n");
  fflush(stdout);
  sleep(20);
  _exit(0);
  return unused;
}
int main(int argc, char **argv) {
  pthread_t thread;
  file = argv[1];
  pthread_create(&thread, 0, worker, 0);
  pthread_exit(0);
}
`;

const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

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
  it('a target that exits as soon as strace has attached: traced, so a complete target-exited bundle', async () => {
    // A review's case: it exited within one look of the capture's wait for the attach, and was taken for gone before it.
    const dir = workspace('racer-st');
    const file = join(dir, 'w', 'f.bin');
    const racer = spawn(PYTHON, ['-c', RACER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(racer);
    const racerDone = exited(racer);
    await waitFor('the target', () => existsSync(file), 10_000);
    const bundle = join(dir, 'bundle');
    const result = await capture(racer.pid!, bundle);
    // Its own record: it saw a tracer, unlinked the file and exited.
    const racerEnd = await racerDone;
    expect(racerEnd.code).toBe(0);
    expect(racerEnd.stdout).toMatch(/^traced by \d+\n$/);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('exited before');
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ pid: racer.pid, exitReason: 'target-exited', complete: true });
    // What strace saw of it: the unlink and the exit.
    const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
    expect(trace).toMatch(new RegExp(`^${racer.pid}(?:<[^>]*>)? +[\\d.]+ unlink\\("${file}"\\) += 0`, 'm'));
    expect(trace).toMatch(new RegExp(`^${racer.pid}(?:<[^>]*>)? +[\\d.]+ \\+\\+\\+ exited with 0 \\+\\+\\+`, 'm'));
    // Traced: a verdict, not "no verdict" (whether the leak is seen depends on maps-start.txt, read only if it was still there).
    const report = runCli(['analyze', bundle]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).not.toContain('no verdict');
  }, 30_000);

  it('a process whose leader thread ended while another thread runs on is not taken for gone: strace’s own failure is said', async () => {
    // The leader called pthread_exit: a zombie in /proc while its worker thread lives, and strace cannot attach to it.
    const dir = workspace('zombie-leader-st');
    const binary = join(dir, 'zombie-leader');
    const built = spawnSync('cc', ['-pthread', '-O0', '-o', binary, '-x', 'c', '-'], { input: ZOMBIE_LEADER, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const target = spawn(binary, [join(dir, 'w', 'z.bin')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(target);
    let out = '';
    target.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('the worker thread', () => out.includes('worker running'), 10_000);
    await waitFor('the leader to end', () => procStatus(target.pid!)?.state === 'Z', 10_000);
    // /proc: the leader is a zombie, and the process still has its worker.
    expect(readFileSync(`/proc/${target.pid}/status`, 'utf8')).toMatch(/^Threads:\s+2$/m);
    const bundle = join(dir, 'bundle');
    const result = await capture(target.pid!, bundle);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).not.toContain('exited before');
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ exitReason: 'tracer-failed', complete: false });
    expect(readFileSync(join(bundle, 'tracer.stderr'), 'utf8')).toContain(`ptrace(PTRACE_SEIZE, ${target.pid}): Operation not permitted`);
  }, 30_000);
});

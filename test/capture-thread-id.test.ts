// Review 1, D0: `capture --pid TID` with the id of a thread (from top -H,
// ps -eLf, a jstack nid) recorded nothing with bpftrace (it filters on the
// thread group id), and with strace named the thread as the process in
// meta.json and in every finding. The capture now takes the thread's process
// and says so. A real python process with a worker thread, which maps a file
// and unlinks it once the tracer is attached; the real strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from './scenarios/harness.js';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

// The worker prints its thread id, waits for GO, then maps FILE and unlinks it (a leak).
const PROGRAM = `
import mmap, os, sys, threading, time
work = sys.argv[1]
def worker():
    print("tid", threading.get_native_id(), flush=True)
    while not os.path.exists(os.path.join(work, "go")):
        time.sleep(0.02)
    path = os.path.join(work, "segment.index")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 8192)
    global kept
    kept = mmap.mmap(fd, 8192)
    os.close(fd)
    os.unlink(path)
    print("leaked", flush=True)
    time.sleep(600)
threading.Thread(target=worker, daemon=True).start()
time.sleep(600)
`;

const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});
afterEach(() => killStillRunning(children));

interface Target {
  child: ChildProcess;
  tid: number;
  work: string;
  stdout: () => string;
}

async function startTarget(): Promise<Target> {
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-tid-'));
  // Debian's python3 itself: a python3 found on PATH may be a wrapper (pyenv's shim) that starts Python as its child, whose pid is then not `child.pid`.
  const child = spawn(PYTHON, ['-c', PROGRAM, work], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the worker thread', () => /^tid \d+$/m.test(out), 20_000);
  const tid = Number(/^tid (\d+)$/m.exec(out)![1]);
  return { child, tid, work, stdout: () => out };
}

/** Captures `--pid <the worker's tid>` with BACKEND; lets the worker leak once attached. */
async function captureByThreadId(backend: 'strace' | 'bpftrace', attachMs: number): Promise<{ target: Target; bundle: string; stderr: string; code: number | null }> {
  const target = await startTarget();
  const pid = target.child.pid!;
  expect(target.tid).not.toBe(pid);
  // The precondition, from /proc: the worker is a thread of the process this test started.
  expect(/^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${target.tid}/status`, 'utf8'))?.[1]).toBe(String(pid));
  const bundle = join(target.work, 'bundle');
  // --duration counts from the attach, before the start snapshots: the worker maps and unlinks only once meta.json is
  // written after them. At 3 s, a CI run under a heavy load ended the capture between its mmap and its unlink (the
  // finding then rightly had no unlink from the trace); 10 s leaves the leak inside the capture.
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', String(target.tid), '--duration', '10', '--out', bundle], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(capture);
  let stderr = '';
  capture.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<number | null>((resolve) => capture.on('exit', (code) => resolve(code)));
  // meta.json is first written once the tracer is attached and the start snapshots are taken.
  await waitFor(
    'the attach (meta.json)',
    () => {
      try {
        readFileSync(join(bundle, 'meta.json'));
        return true;
      } catch {
        return false;
      }
    },
    attachMs,
  );
  writeFileSync(join(target.work, 'go'), '');
  await waitFor('the leak', () => target.stdout().includes('leaked'), 10_000);
  const code = await done;
  return { target, bundle, stderr, code };
}

function checkCapturedProcess(run: Awaited<ReturnType<typeof captureByThreadId>>): void {
  const pid = run.target.child.pid!;
  expect(run.code, run.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(run.bundle, 'meta.json'), 'utf8'));
  expect(meta.pid).toBe(pid);
  expect(meta.threads.map((thread: { tid: number }) => thread.tid)).toEqual(expect.arrayContaining([pid, run.target.tid]));
  for (const thread of meta.threads) expect(thread.tgid).toBe(pid);
  const analysis = runCli(['analyze', run.bundle, '--format', 'json']);
  expect(analysis.status, analysis.stderr).toBe(0);
  const leaks = JSON.parse(analysis.stdout).findings.filter((finding: { kind: string; path: string }) => finding.kind === 'unlinked-while-mapped' && finding.path.endsWith('segment.index'));
  expect(leaks).toHaveLength(1);
  expect(leaks[0].pid).toBe(pid);
  expect(leaks[0].unlinkedAt.tid).toBe(run.target.tid);
  const status = procStatus(pid);
  expect(status?.tracerPid).toBe(0);
  expect(run.stderr).toContain(`${run.target.tid} is a thread of process ${pid}: capturing process ${pid}`);
}

describe('capture --pid with the id of a thread that is not the leader', () => {
  it("strace: the thread's process is captured, said on stderr; meta.json and the finding name the process", async () => {
    checkCapturedProcess(await captureByThreadId('strace', 20_000));
  }, 60_000);

  it("bpftrace: the same, and the worker thread's events are recorded at all", async () => {
    requireTool('bpftrace');
    checkCapturedProcess(await captureByThreadId('bpftrace', 45_000));
  }, 90_000);
});

// Review 5, finding 2, with bpftrace: a Ctrl-C (SIGINT to orphanmap) while
// bpftrace still compiles its probes gave "exitReason": "interrupted" with
// "complete": true, an empty trace.txt but both maps snapshots, and `analyze`
// said "no mapping outlived its file." and exited 0, of a process that holds
// a deleted file's mapping. Now the capture says nothing was traced, exits
// non-zero, records "attached": false, takes no snapshot, and analyze gives
// no verdict. One real capture; that bpftrace had not attached when the stop
// came is checked from outside, in its own stderr (no attach notice) and the
// trace (empty).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exited, exited, PYTHON, workspace } from './scenarios/harness.js';
import { childrenOf, cmdlineHas, deletedMappingsIn, exeOf, killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

// Maps FILE and unlinks it (a leak), says "ready", then sleeps.
const TARGET = `
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 1 << 20)
kept = mmap.mmap(fd, 1 << 20)
os.close(fd)
os.unlink(sys.argv[1])
print("ready", flush=True)
while True:
    time.sleep(1000)
`;

const children: ChildProcess[] = [];

describe('review 5, finding 2: a capture stopped while bpftrace compiles', () => {
  let dir = '';
  let bundle = '';
  let pid = 0;
  let bpftrace = 0;
  let capture: Exited;
  /** What the test saw as it sent the stop. */
  let atStop = { tracerStderr: '', trace: '' };

  beforeAll(async () => {
    requireTool('bpftrace');
    dir = workspace('r5-bt-stop');
    bundle = join(dir, 'bundle');
    const target = spawn(PYTHON, ['-c', TARGET, join(dir, 'w', 'kept.bin')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(target);
    pid = target.pid!;
    let out = '';
    target.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('the target to map and unlink its file', () => out.includes('ready'), 10_000);
    // The leak is there, as /proc shows it: a clean report of this process would be wrong.
    expect(deletedMappingsIn(readFileSync(`/proc/${pid}/maps`, 'utf8'), join(dir, 'w'))).toHaveLength(1);

    const child = spawn(process.execPath, [CLI, 'capture', '--pid', String(pid), '--backend', 'bpftrace', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const done = exited(child);
    /** The capture script's bpftrace, or 0 before it runs. */
    const tracer = (): number => {
      const script = childrenOf(child.pid!).find((kid) => cmdlineHas(kid, 'capture-bpftrace.sh'));
      return script === undefined ? 0 : (childrenOf(script).find((kid) => exeOf(kid).endsWith('/bpftrace')) ?? 0);
    };
    await waitFor('bpftrace to start', () => (bpftrace = tracer()) !== 0, 10_000);
    // Compiling (8-25 s here): no attach notice, no line of trace yet.
    atStop = { tracerStderr: readFileSync(join(bundle, 'tracer.stderr'), 'utf8'), trace: readFileSync(join(bundle, 'trace.txt'), 'utf8') };
    // A terminal's Ctrl-C, to orphanmap.
    child.kill('SIGINT');
    capture = await done;
  }, 60_000);

  afterAll(() => killStillRunning(children));

  it('was stopped before bpftrace attached (its stderr and the trace say so), and bpftrace is gone', () => {
    expect(atStop.tracerStderr).not.toContain('__BPFTRACE_NOTIFY_PROBES_ATTACHED');
    expect(atStop.trace).toBe('');
    const status = procStatus(bpftrace);
    expect(status === null || status.state === 'Z').toBe(true);
    expect(procStatus(pid)).toMatchObject({ tracerPid: 0 });
  });

  it('says nothing was traced, exits 2, and records "attached": false, "complete": false and no snapshot', () => {
    expect(capture.code, capture.stderr).toBe(2);
    expect(capture.stderr).toContain(
      `orphanmap: ${bundle}: error: the capture was stopped (by SIGINT, SIGTERM or SIGHUP) before bpftrace attached to pid ${pid}: nothing of it was traced, so this bundle proves nothing`,
    );
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ pid, mode: 'attached', attached: false, exitReason: 'interrupted', complete: false, mapCountStart: null, mapCountEnd: null });
    expect(readdirSync(bundle).filter((name) => name.startsWith('maps-'))).toEqual([]);
    expect(existsSync(join(bundle, 'fds-start.txt'))).toBe(false);
  });

  it('analyze gives no verdict, and --fail-on exits 2', () => {
    const why = `the capture was stopped before bpftrace attached to pid ${pid}: nothing of it was traced`;
    const text = runCli(['analyze', bundle]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe(`orphanmap: no verdict: ${why}.`);
    expect(runCli(['analyze', bundle, '--format', 'markdown']).stdout).not.toContain('no mapping outlived its file');
    const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
    expect(verdict.status).toBe(2);
    expect(verdict.stderr).toBe(`orphanmap: ${bundle}: error: ${why}, so --fail-on error cannot tell that nothing leaked\n`);
  });
});

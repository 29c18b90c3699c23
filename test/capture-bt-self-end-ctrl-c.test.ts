// A launched bpftrace capture whose command has ended waits for bpftrace -c to
// end by itself (up to 30 s: it prints what it holds and takes its probes off),
// because a SIGINT would make bpftrace 0.17 drop what it has not printed. An
// on-call engineer who sees nothing happen for that long presses Ctrl-C: the
// wait says what it is after 2 s, and a Ctrl-C ends it at once rather than
// being ignored like every other signal once a stop is under way.
//
// Real bpftrace, as root. To make bpftrace slow to end every time rather than
// under load only, the test stops it (SIGSTOP) before the command ends, and
// lets it go on (SIGCONT) once the wait has been cut.
//
// The same capture runs as root in a container often does, without
// CAP_SYS_RESOURCE and with a finite RLIMIT_MEMLOCK: bpftrace 0.17 then
// prints "ERROR: … couldn't set RLIMIT_MEMLOCK" and attaches all the same,
// and the capture says under it that the error did no harm.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { childrenOf, killPids, killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

// bpftrace 0.17 needs 8-25 s to attach; several times that while other suites load the machine.
const BPFTRACE_STARTUP_MS = 120_000;
const WAITING = 'waiting for bpftrace to print what it holds and end by itself';
const CUT = 'stopped waiting for bpftrace to end by itself';

const children: ChildProcess[] = [];
const stopped: number[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-bt-self-end-ctrl-c.test.ts must run as root (it traces with bpftrace)');
  requireTool('bpftrace');
  if (!existsSync('/sys/kernel/tracing/events') && !existsSync('/sys/kernel/debug/tracing/events')) {
    throw new Error('tracefs must be mounted for bpftrace: mount -t tracefs nodev /sys/kernel/tracing');
  }
});

afterEach(() => {
  // Whatever the outcome, nothing is left stopped: a stopped bpftrace would hold its probes.
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  killPids(stopped);
  killStillRunning(children);
});

/** The bpftrace process among the descendants of `root`, or undefined. */
function bpftraceUnder(root: number): number | undefined {
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const child of childrenOf(pid)) {
      try {
        if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'bpftrace') return child;
      } catch {
        continue;
      }
      queue.push(child);
    }
  }
  return undefined;
}

it(
  'a Ctrl-C while bpftrace -c is awaited after its command ends cuts the wait at once, and the capture still finishes',
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-bt-self-end-')), 'bundle');
    // The command ends when its stdin does: the test decides when.
    const capture = [process.execPath, CLI, 'capture', '--backend', 'bpftrace', '--out', out, '--', '/bin/sh', '-c', 'read line'];
    const cli = spawn('setpriv', ['--bounding-set=-sys_resource', '--inh-caps=-sys_resource', '--', 'prlimit', '--memlock=8388608', '--', ...capture], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(cli);
    let stderr = '';
    const at = new Map<string, number>();
    cli.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      for (const text of [WAITING, CUT]) if (!at.has(text) && stderr.includes(text)) at.set(text, Date.now());
    });
    let stdout = '';
    cli.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));

    await waitFor(
      'bpftrace to attach (the BEGIN record in trace.txt)',
      () => existsSync(join(out, 'trace.txt')) && /^[0-9a-f]{16} orphanmap-bt \d+ begin /m.test(readFileSync(join(out, 'trace.txt'), 'utf8')),
      BPFTRACE_STARTUP_MS,
      100,
    );
    expect(stderr).toContain("couldn't set RLIMIT_MEMLOCK");
    await waitFor('the note on the RLIMIT_MEMLOCK error', () => stderr.includes("bpftrace's RLIMIT_MEMLOCK error above did no harm: its probes attached all the same"), 10_000);
    const bpftrace = bpftraceUnder(cli.pid!);
    expect(bpftrace, 'a bpftrace process under the capture').toBeDefined();
    process.kill(bpftrace!, 'SIGSTOP');
    stopped.push(bpftrace!);
    await waitFor('bpftrace stopped', () => procStatus(bpftrace!)?.state === 'T', 5_000);
    cli.stdin.end();

    await waitFor(`"${WAITING}" on stderr`, () => at.has(WAITING), 30_000);
    expect(stderr, 'the wait names the way out').toContain('Ctrl-C stops waiting');
    // As a terminal sends it: the whole foreground group (orphanmap and its script; bpftrace has its own).
    const pressed = Date.now();
    process.kill(-cli.pid!, 'SIGINT');
    await waitFor(`"${CUT}" on stderr`, () => at.has(CUT), 5_000);
    // Cut, not waited out: the rest of the 30 s would have passed otherwise.
    expect(at.get(CUT)! - pressed).toBeLessThan(5_000);
    process.kill(bpftrace!, 'SIGCONT');

    const code = await exited;
    expect(procStatus(bpftrace!), 'bpftrace has ended').toBeNull();
    expect(stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    // Interrupted, as docs/report.md says of a Ctrl-C in a capture; the bundle finished all the same:
    // its path on stdout, meta.json with the command's end as the reason.
    expect(code, stderr).toBe(130);
    expect(stdout.trim()).toBe(out);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { exitReason?: string; attached?: boolean };
    expect(meta).toMatchObject({ exitReason: 'target-exited', attached: true });
  },
  BPFTRACE_STARTUP_MS + 90_000,
);

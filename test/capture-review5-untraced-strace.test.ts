// Review 5, finding 2, with strace: a capture whose tracer never attached was
// reported as clean. A target that its owner (nobody here) already runs under
// its own strace cannot be attached to: the capture said "tracer-failed", yet
// took both maps snapshots, and `analyze` said "no mapping outlived its
// file." and exited 0. Now the capture records "attached": false and takes no
// snapshot, and the reader gives no verdict, for such a bundle and for the
// bundles older captures wrote (whose meta.json has no "attached"); but not
// for an attached capture of a process that made no traced call meanwhile.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { NOBODY } from './support/nobody.js';
import { killPids, killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];
/** Processes that are not our children: the target the owner's strace started. */
const strays: number[] = [];

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review5-untraced-strace.test.ts must run as root (it traces with strace a process of nobody)');
  requireTool('strace');
  requireTool('setpriv');
});
afterEach(() => {
  killPids(strays);
  killStillRunning(children);
});

const CLEAN = 'orphanmap: no mapping outlived its file.';
const SLEEPER = 'import time\nprint("ready", flush=True)\nwhile True: time.sleep(1000)';

function capture(pid: number, bundle: string, seconds: string) {
  const child = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(pid), '--duration', seconds, '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return exited(child);
}

const headline = (bundle: string): string => runCli(['analyze', bundle]).stdout.split('\n')[0]!;

/** The bundle as a capture from before "attached" wrote it: no such field, and both maps snapshots of the live process. */
function asOlderCapture(bundle: string, pid: number, meta: Record<string, unknown>): string {
  const older = `${bundle}-older`;
  cpSync(bundle, older, { recursive: true });
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  for (const name of ['maps-start.txt', 'maps-end.txt']) writeFileSync(join(older, name), maps);
  const { attached: _, ...rest } = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
  const lines = maps.split('\n').length - 1;
  writeFileSync(join(older, 'meta.json'), JSON.stringify({ ...rest, mapCountStart: lines, mapCountEnd: lines, ...meta }));
  return older;
}

describe('review 5, finding 2: a bundle whose strace never attached gives no verdict', () => {
  it('a target its owner already traces: the capture records "attached": false and no snapshot, and analyze refuses a verdict', async () => {
    // The owner runs the target under strace themselves: ptrace allows one tracer.
    const owner = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'strace', '-o', '/dev/null', PYTHON, '-c', SLEEPER], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(owner);
    let out = '';
    owner.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor('the target to run', () => out.includes('ready'), 10_000);
    const ownersStrace = owner.pid!;
    const pid = Number(readFileSync(`/proc/${ownersStrace}/task/${ownersStrace}/children`, 'utf8').trim());
    strays.push(pid);
    expect(procStatus(pid)?.tracerPid).toBe(ownersStrace);

    const bundle = join(workspace('r5-owned'), 'bundle');
    const result = await capture(pid, bundle, '2');
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`strace: attach: ptrace(PTRACE_SEIZE, ${pid}): Operation not permitted`);
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ pid, mode: 'attached', attached: false, exitReason: 'tracer-failed', complete: false, mapCountStart: null, mapCountEnd: null });
    // Its mount namespace was never read: not known, not "another" (review 31, attack F3: false, and analyze said
    // the process saw another mount namespace or root than the capture).
    expect(meta.sameView).toBeNull();
    expect(readdirSync(bundle).sort()).toEqual(['meta.json', 'trace.txt', 'tracer.stderr']);
    // The owner's tracer still holds it, untouched.
    expect(procStatus(pid)?.tracerPid).toBe(ownersStrace);

    const why = `strace failed before it attached to pid ${pid}: nothing of it was traced`;
    expect(headline(bundle)).toBe(`orphanmap: no verdict: ${why}.`);
    const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
    expect(verdict.status, verdict.stderr).toBe(2);
    expect(verdict.stderr).toBe(`orphanmap: ${bundle}: error: ${why}, so --fail-on error cannot tell that nothing leaked\n`);
    // Said once, as what it is: not also as a capture that did not finish.
    const warnings = (JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { warnings: string[] }).warnings;
    expect(warnings[0]).toBe(`${bundle}: ${why}, so the bundle proves nothing either way (--fail-on and diff refuse it)`);
    expect(warnings.filter((warning) => warning.includes('did not finish'))).toEqual([]);
    expect(warnings.filter((warning) => warning.includes('another mount namespace'))).toEqual([]);
    // --redact keeps "attached": the same headline.
    expect(runCli(['analyze', bundle, '--redact']).stdout.split('\n')[0]).toBe(`orphanmap: no verdict: ${why}.`);

    // What the capture wrote before: the same exitReason, with both snapshots. No verdict either.
    const older = asOlderCapture(bundle, pid, {});
    expect(headline(older)).toBe(`orphanmap: no verdict: ${why}.`);
    expect(runCli(['analyze', older, '--fail-on', 'error']).status).toBe(2);
  }, 30_000);

  it('an attached capture of a process that made no traced call is a verdict, not "untraced"', async () => {
    const sleeper = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', PYTHON, '-c', SLEEPER], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sleeper);
    await new Promise<void>((resolve) => sleeper.stdout!.once('data', () => resolve()));
    const bundle = join(workspace('r5-idle'), 'bundle');
    const result = await capture(sleeper.pid!, bundle, '1');
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toBe('');
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ pid: sleeper.pid, attached: true, exitReason: 'duration', complete: true });
    expect(meta.mapCountStart).toBeGreaterThan(0);
    expect(headline(bundle)).toBe(CLEAN);
    // Nor is the same bundle as an older capture wrote it (no "attached").
    expect(headline(asOlderCapture(bundle, sleeper.pid!, {}))).toBe(CLEAN);
    expect(procStatus(sleeper.pid!)?.tracerPid).toBe(0);
  }, 30_000);

  it('an older bpftrace bundle stopped while bpftrace compiled (empty trace, both snapshots, "complete": true) gives no verdict', async () => {
    // The review's bundle, as the capture wrote it before: the idle capture's, its trace emptied, its meta.json bpftrace's.
    const sleeper = spawn(PYTHON, ['-c', SLEEPER], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sleeper);
    await new Promise<void>((resolve) => sleeper.stdout!.once('data', () => resolve()));
    const dir = workspace('r5-older-bt');
    const bundle = join(dir, 'bundle');
    expect((await capture(sleeper.pid!, bundle, '0.5')).code).toBe(0);
    const older = asOlderCapture(bundle, sleeper.pid!, { backend: 'bpftrace', exitReason: 'interrupted', complete: true });
    const why = `bpftrace never attached to pid ${sleeper.pid}: its trace holds no line, not even the one bpftrace prints as it attaches (was the capture stopped while bpftrace compiled its probes?)`;
    expect(headline(older)).toBe(`orphanmap: no verdict: ${why}.`);
    expect(runCli(['analyze', older, '--format', 'markdown']).stdout).not.toContain('no mapping outlived its file');
    expect(runCli(['analyze', older, '--fail-on', 'error']).status).toBe(2);
    // bpftrace's own lines, even with no event: it attached, and the process was watched.
    writeFileSync(join(older, 'trace.txt'), `Attaching 70 probes...\norphanmap-bt 1 begin ns=43137918080480 cpu=1 self=20771 root=${sleeper.pid} cpus=2\n43145032628650 1 0 0 end\n`);
    expect(headline(older)).toBe(CLEAN);
    expect(existsSync(join(older, 'maps-start.txt'))).toBe(true);
  }, 30_000);
});

// What scripts/orphanmap.bt keeps in the kernel (issue 14, goal 5): failed
// calls and the fds of files no directory holds (pseudo file systems, sockets,
// pipes, anonymous inodes) are never printed, unless the engine can hear of
// such an fd another way. A real program runs under the real script; the test
// reads what came out, and the engine still finds the one mapping that
// outlives its file.
// Needs root and bpftrace (0.17 compiles the script for 8-25 s).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import type { TraceEvent } from '../src/parse/events.js';
import type { ParseOutput } from '../src/parse/strace.js';
import { REPO, requireTool, runCli } from './tools.js';

// Every fd the program opens that the script must keep quiet is open at the
// same time, so that no two of them share a number.
const PROGRAM = `
import json, mmap, os, socket, sys
d = sys.argv[1]
# Held open until the quiet fds are closed: the test looks from its open on.
mark = os.open(d + '/begin.mark', os.O_RDWR | os.O_CREAT, 0o644)
quiet = {}
quiet['proc'] = os.open('/proc/self/status', os.O_RDONLY)
sock = socket.socket()
quiet['socket'] = sock.fileno()
quiet['pipe_r'], quiet['pipe_w'] = os.pipe()
quiet['eventfd'] = os.eventfd(0)
quiet['dup_of_pipe'] = os.dup(quiet['pipe_r'])
procdir = os.open('/proc/self', os.O_RDONLY | os.O_DIRECTORY)
try:
    os.open(d + '/missing/x', os.O_RDONLY)
except FileNotFoundError:
    pass
try:
    os.close(987)
except OSError:
    pass
fd = os.open(d + '/kept.map', os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 2 * 4096)
kept = mmap.mmap(fd, 2 * 4096)
os.close(fd)
os.unlink(d + '/kept.map')
sock.close()
for name in ('proc', 'pipe_r', 'pipe_w', 'eventfd', 'dup_of_pipe'):
    os.close(quiet[name])
os.close(procdir)
os.close(mark)
# A dup2 of a pipe tells the engine of a pipe fd: from here every close is printed.
loud = {}
loud['pipe_r'], loud['pipe_w'] = os.pipe()
os.dup2(loud['pipe_r'], 60)
for f in (60, loud['pipe_r'], loud['pipe_w']):
    os.close(f)
json.dump({'quiet': quiet, 'procdir': procdir, 'file': fd, 'loud': loud}, open(d + '/fds.json', 'w'))
# The call that marks a capture's stop, made by a traced process (bpftrace -c is its parent): not the stopper's.
try:
    os.kill(-os.getppid(), 0)
except OSError:
    pass
kept.close()
`;

interface Fds {
  quiet: Record<string, number>;
  procdir: number;
  file: number;
  loud: { pipe_r: number; pipe_w: number };
}

let dir: string;
let trace: string;
let events: TraceEvent[];
let fds: Fds;

beforeAll(() => {
  requireTool('bpftrace');
  if (process.getuid?.() !== 0) throw new Error('this test needs root: bpftrace loads BPF programs');
  dir = mkdtempSync(join(tmpdir(), 'om-btf-'));
  writeFileSync(join(dir, 'prog.py'), PROGRAM);
  // bpftrace 0.17 splits -c on blanks: the paths here have none.
  const output = execFileSync('bpftrace', ['-c', `/usr/bin/python3 ${join(dir, 'prog.py')} ${dir}`, join(REPO, 'scripts', 'orphanmap.bt'), '0', '2', '1'], {
    encoding: 'latin1',
    env: { ...process.env, BPFTRACE_STRLEN: '200' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 110_000,
  });
  trace = join(dir, 'trace.txt');
  writeFileSync(trace, output, 'latin1');
  const reader = new BpftraceReader(trace);
  const out: ParseOutput[] = [];
  output.split('\n').forEach((line, index) => {
    reader.push(line, index + 1, out);
  });
  reader.end(out);
  expect(out.filter((o) => o.type === 'diagnostic')).toEqual([]);
  const all = out.flatMap((o) => (o.type === 'event' ? [o.event] : []));
  const python = all.find((e) => e.kind === 'exec' && e.path === '/usr/bin/python3');
  expect(python, 'the exec of python3').toBeDefined();
  events = all.filter((e) => e.tgid === python!.tgid);
  fds = JSON.parse(readFileSync(join(dir, 'fds.json'), 'utf8')) as Fds;
}, 120_000);

describe('the stop record', () => {
  it("is not printed for a traced process that makes the stopper's call: only the process named as the stopper (here init) marks the stop", () => {
    const text = readFileSync(trace, 'latin1');
    expect(text).toMatch(/^[0-9a-f]{16} orphanmap-bt 2 begin .* cpus=2 stopper=1$/m);
    expect(text).not.toMatch(/ stop$/m);
  });
});

/** Events from the marker's open (python's own start reuses small fds) to the dup2 that makes every close printed. */
function beforeDup2(): TraceEvent[] {
  const from = events.findIndex((e) => e.kind === 'open' && e.path.endsWith('/begin.mark'));
  const to = events.findIndex((e) => e.kind === 'dup' && e.newFd === 60);
  expect(from, 'the open of begin.mark').toBeGreaterThan(0);
  expect(to, 'the dup2 onto fd 60').toBeGreaterThan(from);
  return events.slice(from, to);
}

describe('orphanmap.bt keeps in the kernel what the engine cannot use', () => {
  it('prints no failed call, except a close that failed with anything but EBADF', () => {
    const failed = readFileSync(trace, 'latin1')
      .split('\n')
      .filter((line) => / ret=-\d/.test(line) && !/ close fd=\d+ ret=-(?!9 )/.test(line));
    expect(failed).toEqual([]);
    expect(events.some((e) => e.kind === 'open' && e.path.includes('/missing/'))).toBe(false);
  });

  it('prints no open, dup or close of a pseudo file, socket, pipe or eventfd', () => {
    const quiet = new Set(Object.values(fds.quiet));
    const early = beforeDup2();
    expect(early.filter((e) => e.kind === 'open' && e.path.startsWith('/proc/self/'))).toEqual([]);
    expect(early.filter((e) => e.kind === 'close' && quiet.has(e.fd)).map((e) => e.raw)).toEqual([]);
    expect(early.filter((e) => e.kind === 'dup' && quiet.has(e.oldFd)).map((e) => e.raw)).toEqual([]);
  });

  it('prints a directory on a pseudo file system, and its close: dirfds and fchdir name files', () => {
    expect(events.some((e) => e.kind === 'open' && e.path === '/proc/self' && e.fd === fds.procdir)).toBe(true);
    expect(beforeDup2().some((e) => e.kind === 'close' && e.fd === fds.procdir)).toBe(true);
  });

  it('prints every close once a dup2 of a pipe has told the engine of one', () => {
    const after = events.slice(events.findIndex((e) => e.kind === 'dup' && e.newFd === 60));
    const closed = after.flatMap((e) => (e.kind === 'close' ? [e.fd] : []));
    expect(closed).toEqual(expect.arrayContaining([60, fds.loud.pipe_r, fds.loud.pipe_w]));
  });

  it('still prints the regular file life cycle, and the engine finds its orphaned mapping', () => {
    expect(events.some((e) => e.kind === 'open' && e.path.endsWith('/kept.map'))).toBe(true);
    expect(events.some((e) => e.kind === 'close' && e.fd === fds.file)).toBe(true);
    const result = runCli(['analyze', trace, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'unlinked-while-mapped');
    expect(findings.map((f) => [f.path, f.length, f.resolution])).toEqual([[join(dir, 'kept.map'), 2 * 4096, 'unmapped']]);
  });
});

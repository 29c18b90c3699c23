// A traced program forges orphanmap.bt's `stop` record (review 19's safety
// review, F3). bpftrace prints a file name as its bytes, so a name holding a
// newline and "<ns> <cpu> <pid> <tid> stop" puts a line into the trace that
// reads as the record the capture makes when it begins to stop, and the
// parser leaves out everything after the first one: the program's leaks
// vanished from the analysis. The capture now writes how long the trace was
// when it made the real call (meta.json's stopAfterByte), and stop lines
// before that are left out, with a warning.
//
// Review 20 (R20-1): the same lines printed after that point, stamped ns 1,
// cut everything the reader still held; and a forged header line's cpus=64
// made it hold everything (it waits for each CPU's first record). Now only
// the first header counts, and a stop line only from the process the header
// names (stopper=, the capture script).
//
// Review 25 (F3, left open then): a forged `munmap` of the program's own
// mapping, stamped with its own clock just before its unlink, ended the
// mapping in the trace's view, and the leak read as clean. Now the capture
// runs orphanmap.bt with a random key before every line it prints, which no
// traced process can read: a line without it, after a record with a path, is
// the rest of that path (format 2). The checks above stay for traces of
// format 1.
//
// A real python3 program under real bpftrace (`capture --pid`): it forges a
// header first, a stop line and a munmap of its mapping before each of its
// leaks (without a key, and with the zeros of orphanmap.bt run by hand), and
// stop lines and headers until it is killed. The truth is /proc/self/maps,
// read by the program after each unlink: the mapping is there, "(deleted)".
//
// Needs root and bpftrace (8-25 s to attach).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/**
 * Once DIR/go exists: a forged header; four times, a forged stop line, then a
 * file mapped, a forged munmap of it, its unlink (its address, and its line
 * in /proc/self/maps then, in DIR/leaks), unmapped 0.2 s later; then forged
 * stop lines stamped ns 1 and headers, every millisecond until killed.
 */
const PROGRAM = `
import ctypes, mmap, os, sys, threading, time
d = sys.argv[1]
def forge(line):
    path = os.path.join(d, "x\\n" + line)
    open(path, "w").close()
    os.unlink(path)
pid, tid = os.getpid(), threading.get_native_id()
# One CPU's stream only: the reader holds the records of the others' silence, which a stop stamped ns 1 cut.
os.sched_setaffinity(0, {0})
header = "orphanmap-bt 1 begin ns=1 cpu=0 self=%d root=0 cpus=64 stopper=%d" % (pid, pid)
while not os.path.exists(os.path.join(d, "go")):
    time.sleep(0.02)
forge(header)
forge("0000000000000000 " + header.replace(" 1 begin ", " 2 begin "))
leaks = []
for i in range(4):
    ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    forged = os.path.join(d, "x\\n%d 0 %d %d stop" % (ns, os.getpid(), threading.get_native_id()))
    open(forged, "w").close()
    os.unlink(forged)
    # The last one's name ends in a newline and holds bpftrace's own "Lost 1 events" (review 27: it lost its end).
    path = os.path.join(d, "seg%d.index" % i + ("\\nLost 1 events\\n" if i == 3 else ""))
    with open(path, "wb") as f:
        f.write(b"\\0" * 4096)
    f = open(path, "r+b")
    m = mmap.mmap(f.fileno(), 4096)
    f.close()
    address = ctypes.addressof(ctypes.c_char.from_buffer(m))
    ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    munmap = "%d 0 %d %d munmap addr=0x%x len=4096 ret=0 ens=%d mm=0x0" % (ns, pid, tid, address, ns)
    forge(munmap if i % 2 == 0 else "0000000000000000 " + munmap)
    os.unlink(path)
    with open("/proc/self/maps") as maps:
        held = [line.strip() for line in maps if line.startswith("%x-" % address)]
    leaks.append("%x %s" % (address, held[0] if held else "-"))
    time.sleep(0.2)
    m.close()
with open(os.path.join(d, "leaks.tmp"), "w") as out:
    out.write("\\n".join(leaks))
os.rename(os.path.join(d, "leaks.tmp"), os.path.join(d, "leaks"))
while True:
    forge("1 0 %d %d stop" % (pid, tid))
    forge(header)
    # Often: the lines that land after stopAfterByte are those printed between the capture's look at the trace's
    # length and its SIGINT, a few milliseconds once bpftrace prints the stop record at once (a CI run had none at 5 ms).
    time.sleep(0.001)
`;

const started: ChildProcess[] = [];

/**
 * Until process ARGV[1] is gone: every command line of the processes under
 * it, read again and again; ARGV[3] gets how many were read, then each that
 * held ARGV[2]. Written at once (the test waits for the file), then at the end.
 */
const WATCH = `
import os, sys
top, key, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
open(out, "w").close()
looked, seen = 0, set()
def under(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            threads = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in threads:
            try:
                with open("/proc/%d/task/%s/children" % (p, t), "rb") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found
while os.path.exists("/proc/%d" % top):
    for pid in under(top):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        looked += 1
        if key in cmdline:
            seen.add(cmdline.replace(b"\\0", b" ").decode(errors="replace"))
with open(out, "w") as f:
    f.write("\\n".join([str(looked)] + sorted(seen)))
`;
let work = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-bpftrace-forged-stop.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  work = workspace('forged-stop');
});
afterAll(() => killStillRunning(started));

it('stop and munmap lines a traced program printed in file names hide none of its leaks', async () => {
  const program = spawn(PYTHON, ['-c', PROGRAM, work], { stdio: 'ignore' });
  started.push(program);
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(capture);
  const ended = exited(capture);
  // meta.json is written once bpftrace has attached.
  await waitFor('the attach', () => existsSync(join(bundle, 'meta.json')), 120_000);
  writeFileSync(join(work, 'go'), '');
  await waitFor("the program's leaks", () => existsSync(join(work, 'leaks')), 20_000);
  // The key is in no command line, which any user reads, while the capture stops (review 27: a grep's held it).
  const key = /^([0-9a-f]{16}) orphanmap-bt 2 begin /m.exec(readFileSync(join(bundle, 'trace.txt'), 'utf8'))![1]!;
  // The capture's processes, read as the traced program could, as fast as a loop can: the grep the capture
  // ran with the key as it stopped lived a millisecond or two.
  const watcher = spawn(PYTHON, ['-c', WATCH, String(capture.pid), key, join(work, 'seen')], { stdio: 'ignore' });
  started.push(watcher);
  const watched = exited(watcher);
  await waitFor('the watcher', () => existsSync(join(work, 'seen')), 10_000);
  capture.kill('SIGINT');
  const run = await ended;
  await watched;
  const seen = readFileSync(join(work, 'seen'), 'utf8').split('\n');
  expect(Number(seen[0])).toBeGreaterThan(1000);
  expect(seen.slice(1).filter(Boolean)).toEqual([]);
  expect(run.code, run.stderr).toBe(130);
  program.kill('SIGKILL');
  const recorded = readFileSync(join(work, 'leaks'), 'utf8').split('\n');
  expect(recorded).toHaveLength(4);
  const leaks = recorded.map((line) => line.split(' ')[0]!);
  // /proc's word: each mapping outlived its file's last name.
  for (const line of recorded) expect(line).toMatch(/^([0-9a-f]+) \1-[0-9a-f]+ rw-s 00000000 .*\/seg\d\.index(?:\\012Lost 1 events\\012)? \(deleted\)$/);
  expect(recorded[3]).toContain('seg3.index\\012Lost 1 events\\012 (deleted)');
  // The precondition: the forged lines are in the trace, before the capture's own stop and after it (two a name: its
  // open's record and its unlink's print it), and forged headers.
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { stopAfterByte: number | null; lostEvents: number };
  // The trace, which holds the key, is root's alone.
  expect(statSync(join(bundle, 'trace.txt')).mode & 0o777).toBe(0o600);
  // The "Lost 1 events" in a file name is no loss, for the capture either.
  expect(meta.lostEvents).toBe(0);
  expect(typeof meta.stopAfterByte).toBe('number');
  const trace = readFileSync(join(bundle, 'trace.txt'));
  const forgedStop = new RegExp(`^\\d+ 0 ${program.pid} \\d+ stop(?: [0-9a-f]{16})?$`, 'gm');
  const forgedMunmap = new RegExp(`^(?:0{16} )?\\d+ 0 ${program.pid} \\d+ munmap addr=0x[0-9a-f]+ len=4096 ret=0 ens=\\d+ mm=0x0(?: [0-9a-f]{16})?$`, 'gm');
  const forgedHeader = new RegExp(`^orphanmap-bt 1 begin ns=1 cpu=0 self=${program.pid} root=0 cpus=64 stopper=${program.pid}(?: [0-9a-f]{16})?$`, 'gm');
  const before = trace.subarray(0, meta.stopAfterByte!).toString('utf8');
  const after = trace.subarray(meta.stopAfterByte!).toString('utf8');
  expect(before.match(forgedStop)?.length).toBeGreaterThanOrEqual(8);
  expect(after.match(forgedStop)?.length ?? 0, 'forged stop lines after the capture began to stop').toBeGreaterThan(0);
  const headers = trace.toString('utf8').match(forgedHeader)?.length ?? 0;
  expect(headers).toBeGreaterThan(0);
  expect(trace.toString('utf8').match(forgedMunmap)?.length).toBe(8);
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[]; summary: { unparsedLines: number } };
  const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.pid === program.pid);
  expect(orphans.map((finding) => [finding.address, finding.length, finding.resolution]).sort()).toEqual(leaks.map((address) => [`0x${address}`, 4096, 'unmapped']).sort());
  // Each under its whole name, the newlines of the last one's kept.
  expect(orphans.map((finding) => finding.path).sort()).toEqual(
    [0, 1, 2]
      .map((i) => join(work, `seg${i}.index`))
      .concat(join(work, 'seg3.index\nLost 1 events\n'))
      .sort(),
  );
  // Every forged line is the rest of a file name, as it was: none reads as a record, none is left unread.
  expect(report.warnings.filter((warning) => /looking like orphanmap\.bt|key/.test(warning))).toEqual([]);
  expect(report.summary.unparsedLines).toBe(0);
}, 180_000);

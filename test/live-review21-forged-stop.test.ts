// `orphanmap live --backend bpftrace` and a forged `stop` record (review 21's
// safety review, F3). orphanmap.bt prints a file name as its bytes, so a
// traced program can put "<ns> <cpu> <pid> <tid> stop" on a line of its own,
// naming the capture script's pid as the stopper (any process can find it in
// /proc). analyze takes a stop record only from where meta.json says the
// capture began to stop (capture-bpftrace-forged-stop.test.ts), but live read
// the trace as it was written, with no such bound: the forged record cut
// everything after it, and the program's leaks never showed. The capture now
// writes that byte to the bundle before the call whose record it is, and live
// takes a stop record only from there. Since review 25 the capture's key
// before every line the script prints makes the forged line the rest of its
// file name (docs/bpftrace-format.md, "The key"): the leaks show all the same.
//
// A real python3 program under real bpftrace (`live --pid`). The truth is the
// program's own record of the addresses it left mapped when it unlinked
// their files.
//
// Needs root and bpftrace (8-25 s to attach).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/**
 * Once DIR/go exists: a stop line forged for every process running the
 * capture script, and one for itself; then three files mapped and unlinked
 * (their addresses in DIR/leaks), unmapped 0.3 s later; then it sleeps.
 */
const PROGRAM = `
import ctypes, mmap, os, sys, time
d = sys.argv[1]
while not os.path.exists(os.path.join(d, "go")):
    time.sleep(0.02)
stoppers = [os.getpid()]
for entry in os.listdir("/proc"):
    try:
        with open("/proc/%s/cmdline" % entry, "rb") as f:
            if b"capture-bpftrace.sh" in f.read():
                stoppers.append(int(entry))
    except (OSError, ValueError):
        pass
with open(os.path.join(d, "stoppers"), "w") as f:
    f.write(" ".join(map(str, stoppers)))
for stopper in stoppers:
    ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    forged = os.path.join(d, "x\\n%d 0 %d %d stop" % (ns, stopper, stopper))
    open(forged, "w").close()
    os.unlink(forged)
leaks, maps = [], []
for i in range(3):
    path = os.path.join(d, "seg%d.index" % i)
    with open(path, "wb") as f:
        f.write(b"\\0" * 8192)
    f = open(path, "r+b")
    m = mmap.mmap(f.fileno(), 8192)
    f.close()
    os.unlink(path)
    leaks.append("%x" % ctypes.addressof(ctypes.c_char.from_buffer(m)))
    maps.append(m)
time.sleep(0.3)
for m in maps:
    m.close()
with open(os.path.join(d, "leaks.tmp"), "w") as out:
    out.write("\\n".join(leaks))
os.rename(os.path.join(d, "leaks.tmp"), os.path.join(d, "leaks"))
time.sleep(600)
`;

const started: ChildProcess[] = [];
let work = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/live-review21-forged-stop.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  work = workspace('live-forged-stop');
});
afterAll(() => killStillRunning(started));

it('live bpftrace: a stop line the traced program printed, naming the capture script, hides none of its leaks', async () => {
  const program = spawn(PYTHON, ['-c', PROGRAM, work], { stdio: 'ignore' });
  started.push(program);
  const bundle = join(work, 'bundle');
  const live = spawn(process.execPath, [CLI, 'live', '--pid', String(program.pid), '--backend', 'bpftrace', '--save', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(live);
  const ended = exited(live);
  let stdout = '';
  live.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const orphans = () =>
    new Map(
      stdout
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Finding)
        .filter((finding) => finding.kind === 'unlinked-while-mapped')
        .map((finding) => [finding.id, finding]),
    );
  await waitFor('the attach', () => existsSync(join(bundle, 'maps-start.txt')) && existsSync(join(bundle, 'meta.json')), 120_000);
  writeFileSync(join(work, 'go'), '');
  await waitFor("the program's leaks", () => existsSync(join(work, 'leaks')), 20_000);
  const leaks = readFileSync(join(work, 'leaks'), 'utf8').split('\n');
  expect(leaks).toHaveLength(3);
  // The precondition: the program found the capture script, and its forged lines are in the trace.
  const stoppers = readFileSync(join(work, 'stoppers'), 'utf8').split(' ').map(Number);
  expect(stoppers.length).toBeGreaterThan(1);
  const forged = new RegExp(`^\\d+ 0 (${stoppers.join('|')}) \\d+ stop(?: [0-9a-f]{16})?$`, 'gm');
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8').match(forged)?.length).toBeGreaterThanOrEqual(2 * stoppers.length);
  // Shown while the capture goes on, not only at its end.
  await waitFor('the three findings in the NDJSON output', () => [...orphans().values()].filter((finding) => finding.resolution === 'unmapped').length === 3, 20_000);
  expect(live.exitCode).toBeNull();
  live.kill('SIGINT');
  const run = await ended;
  expect(run.code, run.stderr).toBe(130);
  program.kill('SIGKILL');
  const shown = [...orphans().values()].filter((finding) => finding.pid === program.pid);
  expect(shown.map((finding) => [finding.address, finding.length, finding.resolution]).sort()).toEqual(leaks.map((address) => [`0x${address}`, 8192, 'unmapped']).sort());
  // The same as analyze of the saved bundle, which says what it left out.
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[] };
  expect(
    report.findings
      .filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.pid === program.pid)
      .map((finding) => finding.address)
      .sort(),
  ).toEqual(shown.map((finding) => finding.address).sort());
  // The capture's key (format 2) makes each forged line the rest of the file name it was printed in: none reads as a
  // stop record, so none is left out with a warning either.
  expect(report.warnings.filter((warning) => /looking like orphanmap\.bt|capture's key/.test(warning))).toEqual([]);
  expect(run.stderr).not.toContain("looking like orphanmap.bt's stop record");
}, 180_000);

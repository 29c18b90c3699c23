// Review 82, E2: `capture --pid` of a pre-fork server (a file mapped before
// the attach, three workers forked under the capture) while a blue/green
// deploy moves the file's directory away (`mv app app.old`) and puts a new
// one in its place; the server exits, its workers live on. /proc never
// printed the file "(deleted)": it printed app.old/data. The capture's lookup
// after the server's exit found app/data leading to another file
// (maps-start-gone.txt), and the report made four errors of it, exit 3,
// though the maps it read at the end of the workers (maps-end.N.txt) show the
// very file, by its device and inode, mapped under its new name. A file with
// a name at the end was not removed: the four are benign ("renamed, not
// removed"), and --fail-on error passes.
//
// A real Python program (mmap, os.fork); the test moves the directory. Truth:
// each worker's own /proc/self/maps, read after the capture ended.
//
// Under strace and under bpftrace, both captures at once.
//
// Needs root (capture --pid), strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, verdictOf } from './support/tools.js';

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review82-renamed-dir.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool('bpftrace');
});

// argv: FILE WORK. Maps FILE, says "ready"; on "fork", forks three workers that keep the mapping, each printing its maps
// lines of the file once WORK/truth exists and exiting once WORK/end does; on "exit", exits without unmapping.
const SERVER = `
import mmap, os, sys, time
path, work = sys.argv[1], sys.argv[2]
f = open(path, "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
f.close()
print("ready", flush=True)
for command in sys.stdin:
    if command.strip() == "fork":
        workers = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                while not os.path.exists(os.path.join(work, "truth")):
                    time.sleep(0.05)
                with open("/proc/self/maps") as maps:
                    for line in maps:
                        if "/data" in line:
                            # One write a line: the workers share the pipe, and print() may write a line in two.
                            os.write(1, ("maps %d %s\\n" % (os.getpid(), line.rstrip("\\n"))).encode())
                while not os.path.exists(os.path.join(work, "end")):
                    time.sleep(0.05)
                os._exit(0)
            workers.append(pid)
        print("forked " + " ".join(map(str, workers)), flush=True)
    elif command.strip() == "exit":
        os._exit(0)
`;

interface Run {
  work: string;
  bundle: string;
  server: number;
  workers: number[];
  /** "maps PID LINE" of the file, as each worker read its /proc/self/maps after the capture. */
  truth: string[];
}

/** The server under `capture --backend BACKEND --pid`: forked, its directory moved away out of sight, then exited. */
async function scenario(backend: 'strace' | 'bpftrace'): Promise<Run> {
  const work = realpathSync(workspace(`review82-renamed-${backend}`));
  mkdirSync(join(work, 'app'));
  writeFileSync(join(work, 'app', 'data'), Buffer.alloc(65_536, 'a'));
  const server = spawn(PYTHON, ['-c', SERVER, join(work, 'app', 'data'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(server);
  const lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached(backend, server, bundle, started, [], 'snapshots');
  server.stdin!.write('fork\n');
  const workers = (await next()).split(' ').slice(1).map(Number);
  expect(workers).toHaveLength(3);
  // The deploy, outside the trace: the old directory moved away, a new one with a new file in its place.
  renameSync(join(work, 'app'), join(work, 'app.old'));
  mkdirSync(join(work, 'app'));
  writeFileSync(join(work, 'app', 'data'), Buffer.alloc(65_536, 'b'));
  // The capture's lookup dates a change 1 s or more before the exit (maps-start-gone.txt; closer, -late).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  server.stdin!.write('exit\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  writeFileSync(join(work, 'truth'), '');
  const truth: string[] = [];
  while (truth.length < workers.length) truth.push(await next());
  writeFileSync(join(work, 'end'), '');
  return { work, bundle, server: server.pid!, workers, truth };
}

let runs: Record<'strace' | 'bpftrace', Run>;

beforeAll(async () => {
  const [strace, bpftrace] = await Promise.all([scenario('strace'), scenario('bpftrace')]);
  runs = { strace, bpftrace };
}, 240_000);

// Under bpftrace, the capture read no maps of the workers at the end (bpftrace traces no process to list): four errors
// until it read those of the processes the trace shows forked and never ending.
it.each(['strace', 'bpftrace'] as const)('capture --backend %s --pid of a pre-fork server whose directory a deploy moved away: the file had a name at the end, so no error', (backend) => {
  const { work, bundle, server, workers, truth } = runs[backend];
  // The kernel's word: each worker maps the very file by its new name, not deleted.
  for (const worker of workers) expect(truth.filter((line) => line.startsWith(`maps ${worker} `) && line.endsWith(` ${join(work, 'app.old', 'data')}`))).toHaveLength(1);
  expect(truth.join('\n')).not.toContain('(deleted)');
  // The capture's lookup: the name led to another file once the server had exited; the workers' maps read at the end.
  expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8')).toContain(` ${join(work, 'app', 'data')}\n`);
  for (const worker of workers) expect(readFileSync(join(bundle, `maps-end.${worker}.txt`), 'utf8')).toContain(` ${join(work, 'app.old', 'data')}\n`);

  // When the capture read maps-start.txt, on the trace's clock (review 84): before the forks, which the test asked for
  // once the capture had read it; under bpftrace after its begin record.
  const read = (JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { mapsStartRead: [number, number] | null }).mapsStartRead;
  expect(read).not.toBeNull();
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
  const fork = backend === 'bpftrace' ? /^\S+ (\d+) \d+ \d+ \d+ clone child=/m.exec(trace) : /^\d+(?:<[^>\n]*>)? +(\d+\.\d+) clone\(/m.exec(trace);
  expect(fork).not.toBeNull();
  expect(read![1]).toBeLessThan(backend === 'bpftrace' ? Number(fork![1]) / 1e9 : Number(fork![1]));
  if (backend === 'bpftrace') expect(Number(/ begin ns=(\d+) /.exec(trace)![1]) / 1e9).toBeLessThan(read![0]);

  const { report, failOn } = verdictOf(bundle);
  const found = (report.findings as { kind: string; severity: string; benign?: string; pid: number }[]).filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(found.map((finding) => [finding.pid, finding.severity, finding.benign]).sort()).toEqual([server, ...workers].map((pid) => [pid, 'info', 'renamed, not removed']).sort());
  expect([report.summary.mappingsInDoubt, failOn], report.warnings.join('\n')).toEqual([0, 0]);
  expect(report.warnings.join('\n')).toContain(`(${join(work, 'app.old', 'data')} in process `);
});

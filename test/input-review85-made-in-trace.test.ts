// Review 85: `strace -f -p` by hand of a PostgreSQL postmaster (the README's
// filter) while parallel queries ran: each query's leader made a shared
// memory file (shm_open with O_CREAT|O_EXCL), it and its workers mapped it,
// unmapped it, and the leader removed it. /proc never showed one "(deleted)",
// yet the headline said "20 names of files the trace holds no mapping of
// went … while a process that ran before the trace ran", and counted them
// (summary.removedUnseen): a file the trace saw made cannot have been mapped
// before the trace. Such removals are no longer counted.
//
// The same shape from Python's own multiprocessing.shared_memory (shm_open
// with O_CREAT|O_EXCL under /dev/shm): a process started before the trace
// makes a block, a worker it forks attaches it by name, both close it, and the
// maker unlinks it. Truth: each process's own /proc/self/maps after the unlink.
// Next to it, a block made before the trace and removed in it still counts.
//
// Needs strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli, STRACE_FILTER, underStraceAttached } from './support/tools.js';

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));
beforeAll(() => requireTool('strace'));

// A block made before the trace (argv[1] "old": kept, mapped, closed before "go"); on "go", a new block made, a forked
// worker attaching it by name and closing it, then the maker closing and removing it (and the old one, unmapped long since);
// then each process's maps lines of /dev/shm, after the removals: "maps PID LINE", and "done".
const PROGRAM = `
import os, sys
from multiprocessing import shared_memory
old = shared_memory.SharedMemory(create=True, size=65536)
old.close()
print("ready", flush=True)
sys.stdin.readline()
block = shared_memory.SharedMemory(create=True, size=65536)
block.buf[0] = 1
read, write = os.pipe()
attached_read, attached = os.pipe()
worker = os.fork()
if worker == 0:
    # The copy the fork made of the maker's mapping first: held on, it would outlive the removal.
    block.close()
    seen = shared_memory.SharedMemory(name=block.name)
    assert seen.buf[0] == 1
    seen.close()
    os.write(attached, b"x")
    os.read(read, 1)
    for line in open("/proc/self/maps"):
        if "/dev/shm/" in line:
            os.write(1, ("maps %d %s\\n" % (os.getpid(), line.rstrip("\\n"))).encode())
    os._exit(0)
os.read(attached_read, 1)
block.close()
block.unlink()
old.unlink()
os.write(write, b"x")
os.waitpid(worker, 0)
for line in open("/proc/self/maps"):
    if "/dev/shm/" in line:
        print("maps %d %s" % (os.getpid(), line.rstrip("\\n")), flush=True)
print("done " + block.name + " " + old.name, flush=True)
sys.stdin.readline()
`;

it('strace -f -p of a process that makes, shares and removes a shared memory block: no name counted as maybe mapped before the trace, but the one made before it', async () => {
  const program = spawn(PYTHON, ['-c', PROGRAM], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  const trace = join(workspace('review85-made'), 'trace.txt');
  const truth: string[] = [];
  let names: string[] = [];
  await underStraceAttached(program.pid!, ['-yy', '-e', `trace=${STRACE_FILTER}`], trace, started, async () => {
    program.stdin!.write('go\n');
    for (let line = await next(); ; line = await next()) {
      if (line.startsWith('done ')) {
        names = line.split(' ').slice(1);
        break;
      }
      truth.push(line);
    }
  });
  program.stdin!.end();
  const [made, old] = names as [string, string];

  // The kernel's word: after the removals, neither process maps a block of /dev/shm, deleted or not.
  expect(truth, truth.join('\n')).toEqual([]);
  // strace's: the block made in the trace, by an open that makes a new file only.
  const text = readFileSync(trace, 'utf8');
  expect(text).toMatch(new RegExp(`openat\\(AT_FDCWD[^,]*, "/dev/shm/${made}", O_RDWR\\|O_CREAT\\|O_EXCL\\|[^)]*\\) = \\d+`));
  expect(text).toContain(`unlink("/dev/shm/${made}") = 0`);
  expect(text).toContain(`unlink("/dev/shm/${old}") = 0`);

  const run = runCli(['analyze', trace, '--format', 'json']);
  expect(run.status, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as { findings: unknown[]; summary: { removedUnseen: number; mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  // The block made before the trace may have been mapped then (it was): counted, and named; the one made in it is not.
  expect(report.summary.removedUnseen, report.warnings.join('\n')).toBe(1);
  expect(report.warnings.join('\n')).toContain(`the name /dev/shm/${old}, of a file the trace holds no mapping of, went`);
});

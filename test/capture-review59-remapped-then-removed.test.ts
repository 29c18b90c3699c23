// Review 59, M3: a file grown by 50 remaps (each old mapping unmapped
// first, as gdbm 1.23 does), then removed by a process the capture does not
// trace, then unmapped and closed: its close shows it "(deleted)", and every
// mapping the trace saw made since the last open by its name was in doubt,
// "50 mappings are in doubt" under strace where /proc showed 1 (bpftrace,
// whose mmap records carry the link count, said 1). Each mmap's -y
// annotation of its fd names the file by the name the trace knows: it still
// had that name then, as an open by it would show.
// Truth: the program's own /proc/self/maps, read once the file is gone.
//
// Needs strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** Grows DIR/data.bin 4 KiB at a time, 50 times, each time unmapping the old mapping and mapping it again; writes DIR/ready, waits for DIR/go, writes its "(deleted)" maps lines of it to DIR/truth.txt, unmaps it and closes it. */
const PROGRAM = `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
directory = sys.argv[1]
fd = os.open(os.path.join(directory, "data.bin"), os.O_RDWR | os.O_CREAT, 0o644)
address = None
for pages in range(1, 51):
    if address is not None:
        libc.munmap(address, (pages - 1) * 4096)
    os.ftruncate(fd, pages * 4096)
    address = libc.mmap(None, pages * 4096, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
open(os.path.join(directory, "ready"), "w").close()
while not os.path.exists(os.path.join(directory, "go")):
    time.sleep(0.02)
with open("/proc/self/maps") as maps, open(os.path.join(directory, "truth.txt"), "w") as truth:
    truth.writelines(line for line in maps if line.rstrip("\\n").endswith("data.bin (deleted)"))
libc.munmap(address, 50 * 4096)
os.close(fd)
`;

const started: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterAll(() => killStillRunning(started));

it('capture --backend strace: a file remapped 50 times, then removed out of sight, puts in doubt only the mapping live then', async () => {
  const work = workspace('review59-remapped-removed');
  const directory = join(work, 'w');
  writeFileSync(join(work, 'prog.py'), PROGRAM);
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, join(work, 'prog.py'), directory], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(capture);
  const captured = exited(capture);
  await waitFor('the program to map its file', () => existsSync(join(directory, 'ready')), 60_000);
  // The removal by a process the capture does not trace: this one.
  unlinkSync(join(directory, 'data.bin'));
  writeFileSync(join(directory, 'go'), '');
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  const truth = readFileSync(join(directory, 'truth.txt'), 'utf8').split('\n').filter(Boolean);
  expect(truth).toHaveLength(1);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number } };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(truth.length);
}, 120_000);

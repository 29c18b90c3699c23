// Two `capture --pid` verdicts on a file a process the trace does not follow
// renamed or replaced while the captured process held it mapped since before
// the capture:
// - review 65, F-2: mold renamed a running program to .mold-XXXXXX, then
//   removed it. The findings were right in number, but each said the mapping
//   was made after the trace, at its maps-end.txt line, though maps-start.txt
//   showed it at the same address and inode all along. Now mapped at its
//   maps-start.txt line, named as /proc names it at the end.
// - review 64, F-2: an LMDB file replaced by `mv` while mapped; the process
//   then unmapped it, closed its fd ("(deleted)") and exited: one mapping, read
//   as "2 mappings are in doubt" (the close, and maps-start-gone.txt).
// Truth: the program's own /proc/self/maps line once the file is gone.
//
// Needs root (capture --pid) and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** Maps DIR/data.bin (shared, its fd kept, with libc's mmap), says "ready"; at a line on stdin, writes its maps line of the file to RECORD, then (`close`) unmaps it, closes the fd and exits, or (`hold`) waits for stdin to close. */
const PROGRAM = `
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
directory, mode, recorded = sys.argv[1], sys.argv[2], sys.argv[3]
fd = os.open(os.path.join(directory, "data.bin"), os.O_RDWR)
# libc's mmap, as LMDB maps its file: no fd of its own, unmapped before the fd is closed.
address = libc.mmap(None, 1 << 16, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
print("ready", flush=True)
sys.stdin.readline()
with open("/proc/self/maps") as maps, open(recorded, "w") as record:
    record.write("".join(line for line in maps if directory in line))
if mode == "close":
    libc.munmap(address, 1 << 16)
    os.close(fd)
    sys.exit(0)
sys.stdin.read()
`;

const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review64-out-of-sight.test.ts must run as root (capture --pid)');
  requireTool('strace');
});

/** The program in `mode`, captured with --pid (and `extra`) once it is ready; `meanwhile` runs once the capture has attached, then the program is told to go on. */
async function captured(mode: string, extra: string[], meanwhile: (directory: string) => void) {
  const work = realpathSync(workspace(`review64-${mode}`));
  const directory = join(work, 'w');
  writeFileSync(join(directory, 'data.bin'), Buffer.alloc(1 << 16, 'd'));
  // Its record outside the file's directory, which must not change as it exits (maps-start-gone.txt, not -late).
  const recorded = join(work, 'record.txt');
  const program = spawn(PYTHON, ['-c', PROGRAM, directory, mode, recorded], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(program.pid), '--out', bundle, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(capture);
  const ended = exited(capture);
  await waitFor('strace to attach', () => existsSync(join(bundle, 'meta.json')), 60_000);
  meanwhile(directory);
  // The directory's change well before the exit: the capture's lookup at the exit then tells it apart (maps-start-gone.txt, not -late).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  program.stdin!.write('go\n');
  await waitFor("the program's maps line", () => existsSync(recorded) && readFileSync(recorded, 'utf8') !== '', 30_000);
  const result = await ended;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();
  return { directory, bundle, record: readFileSync(recorded, 'utf8') };
}

it('a mapped file renamed, then removed, out of sight, mapped to the end: its finding was mapped at its maps-start.txt line, by the name /proc shows', async () => {
  const { directory, bundle, record } = await captured('hold', ['--duration', '4'], (directory) => {
    renameSync(join(directory, 'data.bin'), join(directory, '.data-x1'));
    unlinkSync(join(directory, '.data-x1'));
  });
  expect(record).toMatch(new RegExp(` ${join(directory, '.data-x1')} \\(deleted\\)\\n$`));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: { path: string; mappedAt: { file: string; line: number } }[] };
  expect(report.findings.map((finding) => [finding.path, finding.mappedAt.file])).toEqual([[join(directory, '.data-x1'), join(bundle, 'maps-start.txt')]]);
}, 90_000);

it('a mapped file replaced out of sight, then unmapped and its fd closed as the process exits: one mapping in doubt, not two', async () => {
  const { directory, bundle, record } = await captured('close', [], (directory) => {
    writeFileSync(join(directory, 'new.bin'), 'n');
    renameSync(join(directory, 'new.bin'), join(directory, 'data.bin'));
  });
  expect(record).toMatch(new RegExp(` ${join(directory, 'data.bin')} \\(deleted\\)\\n$`));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number } };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
}, 90_000);

/**
 * Maps DIR/data.bin (libc's mmap, shared) and says "ready"; at a line on stdin (`link`: links it DIR/keep.bin, then)
 * forks a child that holds the copy,
 * unmaps its own mapping and says "forked"; at the next, has the child write its maps lines of DIR to RECORD; then
 * waits for stdin to close, and ends the child.
 */
const FORKING = `
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
directory, recorded, link = sys.argv[1], sys.argv[2], sys.argv[3] == "link"
fd = os.open(os.path.join(directory, "data.bin"), os.O_RDWR)
address = libc.mmap(None, 1 << 16, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
os.close(fd)
print("ready", flush=True)
sys.stdin.readline()
if link:
    os.link(os.path.join(directory, "data.bin"), os.path.join(directory, "keep.bin"))
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(w)
    os.read(r, 1)
    with open("/proc/self/maps") as maps, open(recorded, "w") as record:
        record.write("".join(line for line in maps if directory in line))
    os.read(r, 1)
    os._exit(0)
libc.munmap(address, 1 << 16)
print("forked", flush=True)
sys.stdin.readline()
os.write(w, b"r")
sys.stdin.read()
os.write(w, b"e")
os.waitpid(child, 0)
`;

// Code review 68, F4: the same rename and removal out of sight, of a file a child forked under the trace held mapped
// to the end (maps-end.N.txt, whose links the capture does not count): the name /proc showed, recorded first, was
// taken for another name keeping the file, and the leak read clean, exit 0 (3 before the first fix).
// Code review 69, F1: and a link the trace saw made keeps the file: no leak (exit 3 after the fix of F4, 0 before).
it.each([
  ['no other name: a finding, --fail-on exits 3', 'alone'],
  ['a link the trace saw made keeps the file: clean', 'link'],
] as const)(
  'a mapped file renamed, then removed, out of sight, a traced child holding it to the end, %s',
  async (_what, mode) => {
    const work = realpathSync(workspace('review68-fork'));
    const directory = join(work, 'w');
    writeFileSync(join(directory, 'data.bin'), Buffer.alloc(1 << 16, 'd'));
    const recorded = join(work, 'record.txt');
    const program = spawn(PYTHON, ['-c', FORKING, directory, recorded, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
    started.push(program);
    const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    const bundle = join(work, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(program.pid), '--out', bundle, '--duration', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.push(capture);
    const ended = exited(capture);
    await waitFor('strace to attach', () => existsSync(join(bundle, 'meta.json')), 60_000);
    program.stdin!.write('fork\n');
    expect((await lines.next()).value).toBe('forked');
    renameSync(join(directory, 'data.bin'), join(directory, '.data-x1'));
    unlinkSync(join(directory, '.data-x1'));
    program.stdin!.write('record\n');
    await waitFor("the child's maps line", () => existsSync(recorded) && readFileSync(recorded, 'utf8') !== '', 30_000);
    expect(readFileSync(recorded, 'utf8')).toMatch(new RegExp(` ${join(directory, '.data-x1')} \\(deleted\\)\\n$`));
    const result = await ended;
    expect(result.code, result.stderr).toBe(0);
    program.stdin!.end();

    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: { pid: number; path: string }[] };
    if (mode === 'link') {
      // The kernel's word: the file lives on by the link.
      expect(statSync(join(directory, 'keep.bin')).nlink).toBe(1);
      expect(report.findings).toEqual([]);
      expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
      return;
    }
    expect(report.findings.map((finding) => finding.path)).toEqual([join(directory, '.data-x1')]);
    expect(report.findings[0]!.pid).not.toBe(program.pid);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
  },
  90_000,
);

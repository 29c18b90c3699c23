// Review 21 (exactness, Varnish): `rm -rf` removed a log file varnishlog had
// mapped, by an unlinkat relative to a directory fd the trace never saw made
// (its fcntl(F_DUPFD_CLOEXEC) was filtered out). The warning about relative
// names that named nothing the trace knew looked only at the caller's own
// mappings, and rm maps nothing: the leak was missed with no word. Relative to
// such an fd, the directory can be any process's, so a file with the same
// last component mapped in any process is now named.
//
// A real python3 program under real `strace -f -p`, without -y: it opens a
// directory before strace attaches, then maps a file in it by its absolute
// name, and runs a child (a new python3, which maps nothing of it) that
// unlinks the file relative to the inherited directory fd. The truth: the
// program's /proc/self/maps, read after the child, shows the file deleted.
//
// And the reviewer's own case: with -e trace=%file,%memory,%process the trace
// shows no close, so rm's fd 9 was taken for the file an ancestor had opened
// on that number long before, and the name resolved there said nothing. In a
// trace that shows no close, a known fd is no proof of the directory either.
//
// Needs strace, /usr/bin/python3, and root (strace -p).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, underStraceAttached } from './support/tools.js';

const PROGRAM = `
import mmap, os, subprocess, sys
d = sys.argv[1]
os.makedirs(os.path.join(d, "logs"))
dirfd = os.open(os.path.join(d, "logs"), os.O_RDONLY | os.O_DIRECTORY)
print("ready", flush=True)
sys.stdin.readline()
path = os.path.join(d, "logs", "_.Log.1")
with open(path, "wb") as f:
    f.write(b"\\0" * 8192)
f = open(path, "r+b")
m = mmap.mmap(f.fileno(), 8192)
f.close()
subprocess.run([sys.executable, "-c", "import os, sys; os.unlink('_.Log.1', dir_fd=int(sys.argv[1]))", str(dirfd)], pass_fds=[dirfd], check=True)
with open("/proc/self/maps") as maps:
    print("deleted", sum(1 for line in maps if line.rstrip().endswith(path + " (deleted)")), flush=True)
sys.stdin.readline()
`;

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/engine-review21-misplaced-other.test.ts must run as root (strace -p)');
  requireTool('strace');
});

it('an unlinkat by a process that maps nothing, relative to an fd the trace never opened: the warning names the file another process maps', async () => {
  const work = workspace('misplaced-other');
  const program = spawn(PYTHON, ['-c', PROGRAM, work], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const trace = join(work, 'trace.txt');
  let deleted = '';
  await underStraceAttached(program.pid!, [], trace, started, async () => {
    program.stdin!.write('\n');
    deleted = (await lines.next()).value as string;
  });
  program.stdin!.write('\n');
  // The truth: the mapping outlived its file.
  expect(deleted).toBe('deleted 1');
  const text = readFileSync(trace, 'utf8').split('\n');
  const line = text.findIndex((entry) => /unlinkat\(\d+, "_\.Log\.1", 0\) = 0/.test(entry)) + 1;
  expect(line).toBeGreaterThan(0);
  const remover = Number(text[line - 1]!.split(' ')[0]);
  expect(remover).not.toBe(program.pid);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { warnings: string[] };
  expect(report.warnings.filter((warning) => warning.startsWith('unlink of the relative name'))).toEqual([
    expect.stringContaining(
      `unlink of the relative name _.Log.1 at ${trace}:${line} (process ${remover}) resolved to _.Log.1, which no call in the trace named, while ${join(work, 'logs', '_.Log.1')}, a file with the same last component, was mapped in process ${program.pid}:`,
    ),
  ]);
}, 60_000);

/**
 * Under -e trace=%file,%memory,%process: opens the directory, then /dev/null on
 * the next number, closes it (not traced), puts the directory on that number
 * by fcntl (not traced), maps
 * a file in the directory, and runs a child that unlinks it relative to that fd.
 */
const STALE = `
import ctypes, fcntl, mmap, os, subprocess, sys
d = sys.argv[1]
os.makedirs(os.path.join(d, "logs"))
print("ready", flush=True)
sys.stdin.readline()
opened = os.open(os.path.join(d, "logs"), os.O_RDONLY | os.O_DIRECTORY)
# Without O_CLOEXEC, as a shell's redirections are: the trace takes it to outlive the exec below.
null = ctypes.CDLL(None).open(b"/dev/null", os.O_RDONLY)
os.close(null)
dirfd = fcntl.fcntl(opened, fcntl.F_DUPFD, null)
assert dirfd == null
path = os.path.join(d, "logs", "_.Log.2")
with open(path, "wb") as f:
    f.write(b"\\0" * 8192)
f = open(path, "r+b")
m = mmap.mmap(f.fileno(), 8192)
f.close()
subprocess.run([sys.executable, "-c", "import os, sys; os.unlink('_.Log.2', dir_fd=int(sys.argv[1]))", str(dirfd)], pass_fds=[dirfd], check=True)
with open("/proc/self/maps") as maps:
    print("deleted", sum(1 for line in maps if line.rstrip().endswith(path + " (deleted)")), flush=True)
sys.stdin.readline()
`;

it('a trace with no close (a filter without it): a relative unlink through an fd the trace saw opened on another file is named too', async () => {
  const work = workspace('misplaced-stale');
  const program = spawn(PYTHON, ['-c', STALE, work], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const trace = join(work, 'trace.txt');
  let deleted = '';
  await underStraceAttached(program.pid!, ['-e', 'trace=%file,%memory,%process'], trace, started, async () => {
    program.stdin!.write('\n');
    deleted = (await lines.next()).value as string;
  });
  program.stdin!.write('\n');
  expect(deleted).toBe('deleted 1');
  const text = readFileSync(trace, 'utf8').split('\n');
  // The precondition: no close in the trace, and the fd's last open in it is /dev/null's.
  expect(text.some((entry) => / close\(/.test(entry))).toBe(false);
  const line = text.findIndex((entry) => /unlinkat\(\d+, "_\.Log\.2", 0\) = 0/.test(entry)) + 1;
  expect(line).toBeGreaterThan(0);
  const fd = /unlinkat\((\d+),/.exec(text[line - 1]!)![1];
  expect(text.some((entry) => entry.includes('"/dev/null", O_RDONLY') && entry.endsWith(`= ${fd}`))).toBe(true);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { warnings: string[] };
  expect(report.warnings.filter((warning) => warning.startsWith('unlink of the relative name'))).toEqual([
    expect.stringContaining(
      `while ${join(work, 'logs', '_.Log.2')}, a file with the same last component, was mapped in process ${program.pid}: if the call unlinked that file, a mapping that outlived it may be missed, so the mappings live then are in doubt; it is relative to fd ${fd}, which the trace last saw opened on /dev/null, but the trace shows no close or dup`,
    ),
  ]);
}, 60_000);

// Review 67, F-1: Dovecot's imap-login and anvil chroot into an empty
// directory, then take no name (sockets, epoll, anonymous memory): every
// trace of Dovecot was undecided ("a name may mean another file"), so that a
// clean run could never pass --fail-on. A new root now makes a blind spot
// only once a call of that process (or of a child forked after) takes a name,
// or -y names an fd by a path under it.
// Truth: the program's own /proc/self/maps, read through an fd opened before
// the chroot (no mapping of a deleted file), and the trace itself.
//
// Needs strace, python3 and root (chroot).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

/** Chroots into DIR/jail and chdirs to "/", as a privilege-dropping daemon does; then, with `open`, opens /x in it. Records its maps' deleted lines in DIR/deleted.txt. */
const PROGRAM = `
import mmap, os, sys
work = sys.argv[1]
maps = os.open("/proc/self/maps", os.O_RDONLY)
record = os.open(os.path.join(work, "deleted.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
jail = os.path.join(work, "jail")
os.mkdir(jail)
os.chroot(jail)
os.chdir("/")
anonymous = mmap.mmap(-1, 1 << 16)
anonymous[0:5] = b"hello"
anonymous.close()
if sys.argv[2:] == ["open"]:
    os.close(os.open("/x", os.O_RDWR | os.O_CREAT, 0o600))
text = b""
while True:
    chunk = os.read(maps, 65536)
    if not chunk:
        break
    text += chunk
os.write(record, b"".join(line + b"\\n" for line in text.split(b"\\n") if line.endswith(b"(deleted)")))
`;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/engine-review67-chroot-idle.test.ts must run as root (chroot)');
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The program under `strace -f -ttt -T -yy`, launched by hand; the trace's path. */
function traced(mode: string[]): { work: string; trace: string } {
  const work = workspace('review67-chroot');
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-o', trace, PYTHON, '-c', PROGRAM, work, ...mode], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(readFileSync(join(work, 'deleted.txt'), 'utf8')).toBe('');
  expect(readFileSync(trace, 'utf8')).toMatch(/ chroot\("[^"]*\/jail"\) = 0 /);
  return { work, trace };
}

it('a process that chroots and then takes no name: a verdict, not undecided', () => {
  const { trace } = traced([]);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: unknown[]; summary: { undecided: string | null }; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.summary.undecided).toBeNull();
  expect(report.warnings.filter((warning) => warning.includes('chroot'))).toEqual([]);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(0);
});

it('one that opens a file after its chroot: undecided, the chroot named', () => {
  const { trace } = traced(['open']);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { summary: { undecided: string | null } };
  expect(report.summary.undecided).toMatch(/called chroot at .*trace\.txt:\d+, after which a name may mean another file/);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(2);
});

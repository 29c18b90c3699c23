// Review 50, item 5: strace 6.1's -Y goes on printing the name a forked
// child had before its execve when an execve failed first (a PATH search:
// Python's subprocess tries each directory), so `git repack` run by Python
// showed as <python3> on every line, and a ticket said python3 removed the
// pack. A finding names the thread as the kernel does after the exec: the
// child's own /proc/self/comm is the truth.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

/** Maps a file, unlinks it (a leak until the exit), and writes its own thread name and "(deleted)" maps lines to DIR/truth.txt. */
const CHILD = `
import mmap, os, sys
d = sys.argv[1]
path = os.path.join(d, 'seg.index')
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
os.unlink(path)
os.close(fd)
with open(os.path.join(d, 'truth.txt'), 'w') as f:
    f.write(open('/proc/self/comm').read())
    for line in open('/proc/self/maps'):
        if line.rstrip().endswith(' (deleted)'):
            f.write(line)
`;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

it("names a child by the program it exec'd, not the name strace goes on printing from before", () => {
  const dir = workspace('engine-review50-exec-comm');
  // The interpreter under a name of its own: the kernel names the thread "om-leaker-bin" at its exec.
  const program = join(dir, 'om-leaker-bin');
  copyFileSync(realpathSync(PYTHON), program);
  chmodSync(program, 0o755);
  writeFileSync(join(dir, 'child.py'), CHILD);
  const trace = join(dir, 'trace.txt');
  // A PATH search: the first execve fails, the second runs the program.
  const parent = `import subprocess; subprocess.run(['om-leaker-bin', ${JSON.stringify(join(dir, 'child.py'))}, ${JSON.stringify(dir)}], check=True)`;
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-Y', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, '-c', parent], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PATH: `${join(dir, 'missing')}:${dir}:${process.env.PATH ?? ''}` },
  });
  expect(run.status, run.stderr).toBe(0);
  const [comm, ...deleted] = readFileSync(join(dir, 'truth.txt'), 'utf8').split('\n').filter(Boolean);
  expect(comm).toBe('om-leaker-bin');
  expect(deleted.filter((line) => line.endsWith('/seg.index (deleted)'))).toHaveLength(1);

  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
  expect(findings.map((finding) => [finding.kind, finding.path.split('/').at(-1)])).toEqual([['unlinked-while-mapped', 'seg.index']]);
  const [leak] = findings;
  expect([leak!.mappedAt?.comm, leak!.unlinkedAt?.comm, leak!.resolvedAt?.comm]).toEqual([comm, comm, comm]);
  // The text report and the ticket say it too.
  expect(runCli(['analyze', trace]).stdout).toContain(`tid ${leak!.unlinkedAt?.tid} (om-leaker-bin)`);
});

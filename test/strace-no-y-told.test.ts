// Review 15 (R4, 6): `strace -p PID -f -y` of an idle program (its library
// replaced by dpkg outside the trace) held only pselect6 lines, and orphanmap
// warned "no -y" beside its headline: a flag the user gave, said missing. With
// no call that names an fd, the trace cannot tell whether -y was given: the
// warning is said only when such a call was read without an annotation.
//
// Real strace attached to a real program (Python), with and without -y;
// what the program did is its own: it waits, maps a file it opens, or
// opens and closes sockets (review 61, F-3: `capture --pid` of memcached,
// whose only calls on fds in the trace were on sockets, was told "no -y").
// Needs strace, /usr/bin/python3 and root (strace -p of a process that is not its child).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli, underStraceAttached } from './support/tools.js';

// Says "ready", then for each line on stdin: "wait" sleeps 0.2 s in select(); "map" opens, maps and closes a file;
// "sockets" makes a pair of sockets and closes them. "done" after each.
const PROGRAM = `
import mmap, os, select, socket, sys
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "sockets":
        ours, theirs = socket.socketpair()
        ours.close()
        theirs.close()
    elif line.strip() == "map":
        with open(sys.argv[1], "wb") as f:
            f.write(b"x" * 4096)
        fd = os.open(sys.argv[1], os.O_RDONLY)
        kept = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
        os.close(fd)
    else:
        select.select([], [], [], 0.2)
    print("done", flush=True)
`;

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => killStillRunning(children));

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The program attached with `strace -p PID -f -ttt [flags]` while it does `step`: the warnings of orphanmap's report. */
async function warningsOf(flags: string[], step: 'wait' | 'map' | 'sockets'): Promise<string[]> {
  const dir = workspace('no-y');
  const input = join(dir, 'trace.txt');
  const program = spawn(PYTHON, ['-c', PROGRAM, join(dir, 'f.bin')], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  await underStraceAttached(program.pid!, flags, input, children, async () => {
    program.stdin!.write(`${step}\n`);
    expect(await next()).toBe('done');
  });
  program.stdin!.end();
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { warnings: string[] }).warnings;
}

const noY = (warnings: string[]) => warnings.filter((warning) => warning.includes('no -y:'));

describe('R4-6: "no -y" only where a call that names an fd was read without a path', () => {
  it('strace -p -y of a program that only waits: no "no -y" (nothing says either way), and the attach is still said', async () => {
    const warnings = await warningsOf(['-y'], 'wait');
    expect(noY(warnings)).toEqual([]);
    expect(warnings.some((warning) => warning.includes('does not start at an execve'))).toBe(true);
  }, 40_000);

  it('strace -p without -y of a program that opens and maps a file: "no -y" is said', async () => {
    expect(noY(await warningsOf([], 'map'))).toHaveLength(1);
  }, 40_000);

  it('strace -p -y of the same: the annotations are there, no "no -y"', async () => {
    expect(noY(await warningsOf(['-y'], 'map'))).toEqual([]);
  }, 40_000);

  it.each([['-y'], ['-yy']])(
    'strace -p %s of a program whose only calls on fds are on sockets: no "no -y" (review 61, F-3)',
    async (flag) => {
      expect(noY(await warningsOf([flag], 'sockets'))).toEqual([]);
    },
    40_000,
  );

  it('strace -p without -y of the same: "no -y" is said', async () => {
    expect(noY(await warningsOf([], 'sockets'))).toHaveLength(1);
  }, 40_000);
});

// Review 30 (exactness), L1: the ticket said "This is the known Kafka bug …
// Upgrade the brokers" of a python program that mapped a file named like a
// Kafka index and unlinked it, with no resize, from the file's name alone.
// The diagnosis now needs the bug's own sign in the trace (the index mapped
// again after ftruncate, its old mapping live); a name alone says what it is.
// A real program under real strace; the truth is the program's own record of
// what it did (one mmap, no ftruncate) and its /proc/self/maps.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
path = sys.argv[1]
with open(path, "wb") as f:
    f.write(bytes(8192))
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 8192)
os.close(fd)
os.unlink(path)
with open("/proc/self/maps") as maps:
    print(sum(1 for line in maps if line.rstrip("\\n").endswith(path + " (deleted)")))
`;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

it('a file named like a Kafka index, mapped once and unlinked by a python program: the ticket does not call it the Kafka bug', () => {
  const work = workspace('kafka-by-name');
  const trace = join(work, 'trace.txt');
  const index = join(work, '00000000000000000000.index');
  const run = spawnSync('strace', ['-f', '-ttt', '-y', '-o', trace, PYTHON, '-c', PROGRAM, index], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // The program's word: its mapping of the index is deleted; and the trace shows no resize of it.
  expect(run.stdout.trim()).toBe('1');
  expect(readFileSync(trace, 'utf8')).not.toMatch(/ftruncate\(\d+<[^>]*\.index>/);
  for (const format of ['markdown', 'jira']) {
    const ticket = runCli(['analyze', trace, '--format', format]);
    expect(ticket.status, ticket.stderr).toBe(0);
    expect(ticket.stdout).toContain('1 mapping outlived its file');
    expect(ticket.stdout).toContain("The names are those of Kafka's index files, but the trace shows no resize of them");
    expect(ticket.stdout).not.toContain('This is the known Kafka bug');
    expect(ticket.stdout).not.toContain('Upgrade the brokers');
  }
});

// Review 22 (nscd under strace -f -yy, no -t): a finding mapped after its
// file's name went, unmapped later, read "now  unmapped at trace.txt:1195  tid
// 4786," with a comma before a delay a trace without times cannot give.
// A real program under real strace, without -t: it unlinks a file, maps it
// through the fd it kept, and unmaps it.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4096)
os.unlink(path)
m = mmap.mmap(fd, 4096)
m.close()
os.close(fd)
`;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

it('says where it was unmapped, with no comma after, when the trace has no times', () => {
  const dir = workspace('no-times');
  const trace = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-yy', '-o', trace, PYTHON, '-c', PROGRAM, join(dir, 'shm.bin')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const lines = readFileSync(trace, 'utf8').split('\n');
  const munmapAt = lines.findIndex((line) => /munmap\(0x[0-9a-f]+, 4096\)\s+= 0$/.test(line)) + 1;
  expect(munmapAt).toBeGreaterThan(0);
  const tid = lines[munmapAt - 1]!.split(' ')[0];
  const text = runCli(['analyze', trace]).stdout;
  expect(text).toContain('mapped with no name left');
  expect(text).toContain(`  now       unmapped at ${trace}:${munmapAt}  tid ${tid}\n`);
});

// A multiprocessing.Lock under real strace: glibc's sem_open maps
// /dev/shm/sem.NAME and Python unlinks the name at once, so the program's own
// /proc/self/maps shows the page "(deleted)" for as long as the lock lives.
// orphanmap reports it, as /proc shows it, but as benign (info): it must not
// fail `--fail-on error` for every Python program that takes a lock, while a
// real leak beside it still does.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

/** Takes a lock, maps, unlinks (a leak) when asked, then writes its own "(deleted)" maps lines to argv[1]. */
const PROGRAM = `
import mmap, multiprocessing, os, sys
out, leak = sys.argv[1], sys.argv[2] == 'leak'
lock = multiprocessing.Lock()
kept = []
if leak:
    path = os.path.join(os.path.dirname(out), 'seg.index')
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.ftruncate(fd, 4096)
    kept.append(mmap.mmap(fd, 4096))
    os.unlink(path)
    os.close(fd)
with open(out, 'w') as f:
    for line in open('/proc/self/maps'):
        if line.rstrip().endswith(' (deleted)'):
            f.write(line)
`;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

function traced(name: string, mode: 'lock' | 'leak'): { trace: string; truth: string[] } {
  const dir = workspace(`benign-semaphore-${name}`);
  const trace = join(dir, 'trace.txt');
  const truthFile = join(dir, 'truth.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, '-c', PROGRAM, truthFile, mode], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return { trace, truth: readFileSync(truthFile, 'utf8').split('\n').filter(Boolean) };
}

function findingsOf(trace: string): Finding[] {
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
}

it("reports the lock's semaphore page /proc shows deleted as benign, and --fail-on error passes", () => {
  const { trace, truth } = traced('lock', 'lock');
  const semaphores = truth.filter((line) => / \/dev\/shm\/sem\.\S+ \(deleted\)$/.test(line));
  expect(semaphores, truth.join('\n')).toHaveLength(1);
  const start = `0x${semaphores[0]!.split('-')[0]!.replace(/^0+/, '')}`;
  // Python's exit closes the lock (sem_close unmaps it), after the truth was read.
  const found = findingsOf(trace);
  expect(found.map((finding) => [finding.kind, finding.address])).toEqual([['unlinked-while-mapped', start]]);
  expect(found[0]!.path).toMatch(/^\/dev\/shm\/sem\./);
  expect(found[0]!).toMatchObject({ severity: 'info', benign: 'POSIX semaphore unlinked in use' });
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(0);
});

it('still fails --fail-on error for a real leak in the same program', () => {
  const { trace, truth } = traced('leak', 'leak');
  expect(truth.filter((line) => line.includes('/seg.index (deleted)'))).toHaveLength(1);
  const errors = findingsOf(trace).filter((finding) => finding.severity === 'error');
  expect(errors.map((finding) => finding.path.split('/').at(-1))).toEqual(['seg.index']);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
});

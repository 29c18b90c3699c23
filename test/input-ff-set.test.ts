// A strace -ff set with a file missing (issue #11, item 6): the set is
// trace.<tid>, one file per thread, and each clone names the tid of the file
// it starts. A child whose file is missing is said, with the clone that made
// it; a child whose file exists but was not named says how to read it all.
// On a real capture: strace -ff of a program whose forked child leaks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { requireTool, runCli } from './support/tools.js';

const PYTHON = '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-ff-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The parent forks a child that maps a file, unlinks it and exits with the
// mapping still there; the parent waits for it.
const WORKLOAD = `
import mmap, os, sys
pid = os.fork()
if pid == 0:
    path = os.path.join(sys.argv[1], 'child.bin')
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 4096)
    m = mmap.mmap(fd, 4096)
    os.close(fd)
    os.unlink(path)
    os._exit(0)
os.waitpid(pid, 0)
`;

let dir: string;
let parentTid: number;
let childTid: number;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
  dir = join(scratch, 'capture');
  mkdirSync(dir);
  const traced = spawnSync('strace', ['-ff', '-ttt', '-yy', '-o', join(dir, 'trace'), PYTHON, '-c', WORKLOAD, scratch], { encoding: 'utf8' });
  expect(traced.status, traced.stderr).toBe(0);
  const tids = readdirSync(dir)
    .map((name) => Number(name.slice('trace.'.length)))
    .sort((a, b) => a - b);
  // python3 is one thread here: the set is the parent and its child.
  expect(tids).toHaveLength(2);
  [parentTid, childTid] = tids as [number, number];
  expect(readFileSync(join(dir, `trace.${parentTid}`), 'utf8')).toMatch(new RegExp(`clone\\(.*\\) = ${childTid}`));
});

describe('strace -ff set', () => {
  it("whole: the child's leak is found, and nothing is said missing", async () => {
    const analysis = await analyze([dir]);
    expect(analysis.engine.findings().map((f) => [f.kind, f.path])).toEqual([['unlinked-while-mapped', join(scratch, 'child.bin')]]);
    expect(analysis.warnings.filter((w) => w.includes('strace -ff set'))).toEqual([]);
  });

  it("with the child's file deleted: its leak cannot be found, and the warning names the file and the clone that made it", async () => {
    const copy = join(scratch, 'deleted');
    mkdirSync(copy);
    writeFileSync(join(copy, `trace.${parentTid}`), readFileSync(join(dir, `trace.${parentTid}`)));
    const cloneLine =
      readFileSync(join(copy, `trace.${parentTid}`), 'utf8')
        .split('\n')
        .findIndex((line) => new RegExp(`clone\\(.*\\) = ${childTid}`).test(line)) + 1;
    const result = runCli(['analyze', copy, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: unknown[]; warnings: string[] };
    expect(report.findings).toEqual([]);
    expect(report.warnings).toContain(
      `${join(copy, 'trace')}.${childTid} is missing from the strace -ff set: ${join(copy, `trace.${parentTid}`)}:${cloneLine} created thread ${childTid}, but its file was deleted or not copied, so its calls (and any mapping it leaked) are not in the analysis`,
    );
  });

  it("with only the parent's file named while the child's is there: says how to read the whole set", async () => {
    const analysis = await analyze([join(dir, `trace.${parentTid}`)]);
    expect(analysis.engine.findings()).toEqual([]);
    expect(analysis.warnings.some((w) => w.startsWith(`${join(dir, 'trace')}.${childTid} was not read: `) && w.endsWith('name the directory, or every trace.* file'))).toBe(true);
  });

  it('a set of three with the middle one deleted names only that one', async () => {
    const set = join(scratch, 'three');
    mkdirSync(set);
    writeFileSync(
      join(set, 'trace.100'),
      [
        '1795606335.000001 execve("/bin/app", ["app"], 0x7ffd /* 1 var */) = 0',
        '1795606335.000002 clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = 101',
        '1795606335.000003 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 102',
        '',
      ].join('\n'),
    );
    writeFileSync(join(set, 'trace.102'), '1795606335.000010 exit_group(0) = ?\n1795606335.000011 +++ exited with 0 +++\n');
    const analysis = await analyze([set]);
    const missing = analysis.warnings.filter((w) => w.includes('strace -ff set'));
    expect(missing).toEqual([
      `${join(set, 'trace')}.101 is missing from the strace -ff set: ${join(set, 'trace.100')}:2 created thread 101, but its file was deleted or not copied, so its calls (and any mapping it leaked) are not in the analysis`,
    ]);
  });

  it('a file named like one of a set but with a number no thread can have is refused by name, never read as thread 1e20 (review 4)', () => {
    const set = join(scratch, 'bad-tid');
    mkdirSync(set);
    const lines = '1795606335.000001 execve("/bin/app", ["app"], 0x7ffd /* 1 var */) = 0\n';
    writeFileSync(join(set, 'trace.100'), lines);
    writeFileSync(join(set, 'trace.99999999999999999999'), lines);
    for (const input of [set, join(set, 'trace.99999999999999999999')]) {
      const result = runCli(['analyze', input]);
      expect(result.status, input).toBe(2);
      expect(result.stderr).toContain(
        `${join(set, 'trace.99999999999999999999')}: error: its name ends in .99999999999999999999, as a strace -ff file's would, but that is no thread id (1 to 4194303)`,
      );
    }
  });
});

// A trace taken without -f (issue #10, item 4). strace then follows only the
// thread it started: a program whose worker threads map and unlink files leaks
// mappings the trace cannot show. The report must say so ("no -f: …"), and the
// same program traced with -f must not get that warning and must show the
// leaks its own /proc/self/maps lists.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, runCli } from './support/tools.js';

const PYTHON = '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-nof-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Two worker threads each map a file, close it and unlink it, keeping the
// mapping; the main thread only starts and joins them. Before exiting, the
// program writes its own truth: the (deleted) lines of /proc/self/maps, and
// the workers' thread ids.
const WORKERS = `
import mmap, os, sys, threading
out_dir, truth = sys.argv[1], sys.argv[2]
keep, tids = [], []
def work(i):
    tids.append(threading.get_native_id())
    path = os.path.join(out_dir, f'seg{i}.bin')
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 8192)
    keep.append(mmap.mmap(fd, 8192))
    os.close(fd)
    os.unlink(path)
threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads: t.start()
for t in threads: t.join()
with open('/proc/self/maps') as maps, open(truth, 'w') as out:
    out.write(f'pid {os.getpid()} workers {" ".join(map(str, tids))}\\n')
    out.writelines(line for line in maps if line.rstrip().endswith('(deleted)') and out_dir in line)
`;

interface Truth {
  pid: number;
  workers: number[];
  /** Start addresses of the deleted file mappings /proc/self/maps showed. */
  deleted: string[];
}

function run(name: string, straceFlags: string[]): { trace: string; truth: Truth } {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const trace = join(dir, 'trace.txt');
  const truthFile = join(dir, 'truth.txt');
  const result = spawnSync('strace', [...straceFlags, '-o', trace, PYTHON, '-c', WORKERS, dir, truthFile], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const [head, ...maps] = readFileSync(truthFile, 'utf8').trim().split('\n');
  const ids = /^pid (\d+) workers (\d+) (\d+)$/.exec(head!)!;
  return {
    trace,
    truth: {
      pid: Number(ids[1]),
      workers: [Number(ids[2]), Number(ids[3])],
      deleted: maps.map((line) => `0x${line.split('-')[0]!.replace(/^0+/, '')}`).sort(),
    },
  };
}

interface JsonReport {
  warnings: string[];
  findings: { kind: string; pid: number; address: string }[];
}

function analyzeJson(trace: string): JsonReport {
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as JsonReport;
}

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
});

describe('a trace without -f of a program whose worker threads leak', () => {
  it("warns that only the first thread was followed, so the workers' leaks cannot be seen", () => {
    const { trace, truth } = run('no-f', ['-ttt']);
    // The program did leak two mappings; the trace shows none of the workers' calls.
    expect(truth.deleted).toHaveLength(2);
    const text = readFileSync(trace, 'utf8');
    expect(text).not.toContain('seg0.bin');
    expect(text).not.toContain('seg1.bin');
    const report = analyzeJson(trace);
    expect(report.findings).toEqual([]);
    const warning = report.warnings.find((w) => w.includes('no -f'));
    expect(warning, report.warnings.join('\n')).toBeDefined();
    expect(warning).toContain(`${trace}: no -f: threads cannot be told apart`);
    // The trace shows the two clone3 calls that made the workers.
    expect(warning).toContain('the trace shows 2 clones but not what the new threads or processes did');
    expect(warning).toContain('mappings they leaked cannot be reported');
    // The text report shows it too, under warnings.
    expect(runCli(['analyze', trace]).stdout).toContain('no -f: threads cannot be told apart');
  });

  it('with -f: no such warning, and each leaked mapping /proc/self/maps showed is a finding of the process', () => {
    const { trace, truth } = run('with-f', ['-f', '-ttt']);
    expect(truth.deleted).toHaveLength(2);
    const text = readFileSync(trace, 'utf8');
    for (const tid of truth.workers) expect(text).toMatch(new RegExp(`^${tid} `, 'm'));
    const report = analyzeJson(trace);
    expect(report.warnings.filter((w) => w.includes('no -f'))).toEqual([]);
    const orphans = report.findings.filter((f) => f.kind === 'unlinked-while-mapped');
    expect(orphans.map((f) => f.address).sort()).toEqual(truth.deleted);
    expect(new Set(orphans.map((f) => f.pid))).toEqual(new Set([truth.pid]));
  });
});

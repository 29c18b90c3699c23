// `analyze --pid N` for an N that is not a process of the trace (issue #10,
// item 8): a notice on stderr and in the report's warnings naming the
// processes the trace does have, instead of a clean empty report. The pids
// come from the traced program itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PYTHON = '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-pid-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A thread maps a file and unlinks it (one orphaned mapping); the program
// writes its pid and the thread's id.
const PROGRAM = `
import mmap, os, sys, threading
out_dir = sys.argv[1]
keep, ids = [], {}
def work():
    ids['tid'] = threading.get_native_id()
    path = os.path.join(out_dir, 'seg.bin')
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 4096)
    keep.append(mmap.mmap(fd, 4096))
    os.close(fd)
    os.unlink(path)
t = threading.Thread(target=work); t.start(); t.join()
with open(os.path.join(out_dir, 'ids.txt'), 'w') as out:
    out.write(f"{os.getpid()} {ids['tid']}\\n")
`;

let trace: string;
let pid: number;
let threadId: number;
/** Certainly not in the trace: this test runner, which strace never saw. */
const stranger = process.pid;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
  trace = join(scratch, 'trace.txt');
  const result = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-o', trace, PYTHON, '-c', PROGRAM, scratch], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  [pid, threadId] = readFileSync(join(scratch, 'ids.txt'), 'utf8').trim().split(' ').map(Number) as [number, number];
  expect(readFileSync(trace, 'utf8')).toMatch(new RegExp(`^${threadId} `, 'm'));
});

interface JsonReport {
  warnings: string[];
  findings: { pid: number }[];
}

describe('analyze --pid', () => {
  it('for the traced process: its finding, and no notice', () => {
    const result = runCli(['analyze', trace, '--format', 'json', '--pid', String(pid)]);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.findings.map((f) => f.pid)).toEqual([pid]);
    expect(result.stderr).not.toContain('--pid');
    expect(report.warnings.filter((w) => w.startsWith('--pid'))).toEqual([]);
  });

  it("for a pid the trace never saw: a notice on stderr and in the warnings, naming the trace's process", () => {
    const notice = `--pid ${stranger}: no process ${stranger} in the trace, so no finding can match it; the trace has process ${pid}`;
    const json = runCli(['analyze', trace, '--format', 'json', '--pid', String(stranger)]);
    expect(json.status, json.stderr).toBe(0);
    expect(json.stderr).toBe(`orphanmap: warning: ${notice}\n`);
    const report = JSON.parse(json.stdout) as JsonReport;
    expect(report.findings).toEqual([]);
    expect(report.warnings).toContain(notice);
    const text = runCli(['analyze', trace, '--pid', String(stranger)]);
    expect(text.stderr).toContain(notice);
    expect(text.stdout).toContain(notice);
  });

  it('as ndjson: the notice once on stderr', () => {
    const result = runCli(['analyze', trace, '--format', 'ndjson', '--pid', String(stranger)]);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').filter((line) => line.includes(`--pid ${stranger}:`))).toHaveLength(1);
  });

  it('for a thread id: says it is a thread, not a process, and names the process', () => {
    const result = runCli(['analyze', trace, '--format', 'json', '--pid', String(threadId)]);
    expect(result.stderr).toContain(`--pid ${threadId}: ${threadId} is a thread in the trace, not a process`);
    expect(result.stderr).toContain(`the trace has process ${pid}`);
    expect((JSON.parse(result.stdout) as JsonReport).findings).toEqual([]);
  });

  it('the analysis carries the notice only when asked about a pid', async () => {
    expect((await analyze([trace])).pidNotice).toBeNull();
    expect((await analyze([trace], { pid })).pidNotice).toBeNull();
    expect((await analyze([trace], { pid: stranger })).pidNotice).toMatch(new RegExp(`^--pid ${stranger}: no process`));
  });
});

describe('analyze --pid on a real attach trace (traces/attach-threads: strace -f -p of a running multi-threaded process)', () => {
  const dir = join(REPO, 'traces', 'attach-threads');
  const attachTrace = join(dir, 'trace.txt');
  // The program printed its own pid; its worker threads are the ones that mapped seg-N.index.
  const realPid = Number(/^pid (\d+) ready$/m.exec(readFileSync(join(dir, 'ground-truth.txt'), 'utf8'))![1]);
  const workers = [...readFileSync(attachTrace, 'utf8').matchAll(/^(\d+)<[^>]*> \S+ mmap\(.*seg-\d+\.index>/gm)].map((m) => Number(m[1]));

  it("the process's own pid: no notice", () => {
    const result = runCli(['analyze', attachTrace, '--format', 'json', '--pid', String(realPid)]);
    expect(result.stderr).not.toContain(`--pid ${realPid}:`);
    expect((JSON.parse(result.stdout) as JsonReport).findings.length).toBeGreaterThan(0);
  });

  it("a worker thread's id: a thread, not a process; the notice names the real pid", () => {
    expect(workers.length).toBeGreaterThan(0);
    const worker = workers.find((tid) => tid !== realPid)!;
    const result = runCli(['analyze', attachTrace, '--format', 'json', '--pid', String(worker)]);
    expect(result.stderr).toContain(`--pid ${worker}: ${worker} is a thread in the trace, not a process`);
    expect(result.stderr).toMatch(new RegExp(`the trace has processes? (?:\\d+, )*${realPid}\\b`));
  });
});

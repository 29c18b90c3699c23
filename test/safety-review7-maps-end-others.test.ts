// Review 7 (/tmp/review7 REPRO.md 3 and 8): a bundle's maps-end.N.txt files
// were kept whole in memory, every line of every one, though only a few
// lines of each are ever used: one 2M-line file under 15 names (hard links,
// 85 MB on disk) crashed `analyze` with a heap out of memory after 78 s at
// 4.3 GB. And `report --out` copied maps lines with the raw control
// characters of a hostile path (an ESC reaching the terminal that cats it).
//
// A real capture (strace) of a Python parent and a worker it forks, each
// mapping a file (with an ESC in its name) and unlinking it; the capture is
// stopped while both live, so the bundle has maps-end.txt and the worker's
// maps-end.N.txt. Then copies of it with big maps-end.N.txt files planted,
// analysed under a memory bound measured from the outside (/usr/bin/time).
//
// Needs root and strace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON } from './scenarios/harness.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/**
 * Once DIR/go exists, the parent forks a worker, and each maps
 * DIR/NAME-\x1b[31m.dat shared and unlinks it; the worker writes
 * DIR/ready-worker (its pid), the parent DIR/ready-parent once the worker
 * is ready. Then both wait, mapping their files.
 */
const PROGRAM = `
import mmap, os, signal, sys, time
directory = sys.argv[1]
def leak(name):
    path = os.path.join(directory, name + "-\\x1b[31m.dat")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"w" * 12288)
    kept = mmap.mmap(fd, 12288)
    os.close(fd)
    os.unlink(path)
    return kept
def ready(name):
    with open(os.path.join(directory, "ready-%s.tmp" % name), "w") as out:
        out.write(str(os.getpid()))
    os.rename(os.path.join(directory, "ready-%s.tmp" % name), os.path.join(directory, "ready-%s" % name))
while not os.path.exists(os.path.join(directory, "go")):
    time.sleep(0.02)
if os.fork() == 0:
    kept = leak("worker")
    ready("worker")
    while True:
        signal.pause()
kept = leak("parent")
while not os.path.exists(os.path.join(directory, "ready-worker")):
    time.sleep(0.02)
ready("parent")
while True:
    time.sleep(3600)
`;

/** Lines of the planted file that hard links give 15 names: 2M, as the review's. */
const HUGE_LINES = 2_000_000;
/** Pids the trace never shows, one for each name of the planted file. */
const UNSEEN = Array.from({ length: 15 }, (_, i) => 4_000_000 + i);
/** The most RSS `analyze` may reach on the planted bundles, in KiB: the bound review 7 asked for. */
const MAX_RSS_KIB = 200 * 1024;

let work: string;
let bundle: string;
let workerPid: number;
let parentPid: number;
const started: ChildProcess[] = [];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  rssKiB: number;
}

/** The CLI, its heap bounded, and its peak RSS as /usr/bin/time measures it. */
function runMeasured(args: string[]): Run {
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--max-old-space-size=256', CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = result.stderr.trimEnd().split('\n');
  return { status: result.status, stdout: result.stdout, stderr: lines.slice(0, -1).join('\n'), rssKiB: Number(lines.at(-1)) };
}

interface Shown {
  findings: Finding[];
  mapsLines: Record<string, string>;
  warnings: string[];
}

/** Findings with what the maps at the end said of each, and each one's maps line: what must not change. */
function results(report: Shown): string[] {
  return report.findings.map((f) => `${f.pid} ${f.address} ${f.kind} ${f.resolution} ${f.confirmedByMaps} ${JSON.stringify(f.path)} ${JSON.stringify(report.mapsLines[f.id] ?? null)}`).sort();
}

/** A file of `count` maps lines written in large pieces, each line a mapping of `path` (deleted: " (deleted)" after it), in address order. */
function writeMaps(file: string, count: number, path: string, deleted: boolean): void {
  const fd = openSync(file, 'w');
  try {
    const piece = 65_536;
    for (let first = 0; first < count; first += piece) {
      const lines: string[] = [];
      for (let k = first; k < Math.min(count, first + piece); k++) {
        const start = 0x100000000 + k * 0x1000;
        lines.push(`${start.toString(16)}-${(start + 0x1000).toString(16)} rw-s 00000000 fe:00 ${1000 + k} ${path}${deleted ? ' (deleted)' : ''}\n`);
      }
      writeSync(fd, lines.join(''));
    }
  } finally {
    closeSync(fd);
  }
}

function copyOf(name: string): string {
  const copy = join(work, name);
  cpSync(bundle, copy, { recursive: true });
  return copy;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('test/safety-review7-maps-end-others.test.ts must run as root (strace)');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-review7-'));
  const dir = join(work, 'program');
  mkdirSync(dir);
  bundle = join(work, 'bundle');
  // Attached (--pid), so that the capture's end leaves the program running: its mappings are still mapped at the end.
  const program = spawn(PYTHON, ['-c', PROGRAM, dir], { stdio: 'ignore' });
  started.push(program);
  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(capture);
  let stderr = '';
  capture.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = exited(capture);
  await waitFor('strace to attach and the start snapshots', () => existsSync(join(bundle, 'fds-start.txt')), 20_000);
  writeFileSync(join(dir, 'go'), '');
  await waitFor('the program', () => existsSync(join(dir, 'ready-parent')), 20_000);
  workerPid = Number(readFileSync(join(dir, 'ready-worker'), 'utf8'));
  parentPid = Number(readFileSync(join(dir, 'ready-parent'), 'utf8'));
  capture.kill('SIGINT');
  expect((await done).code, stderr).toBe(130);
  expect(readdirSync(bundle)).toContain(`maps-end.${workerPid}.txt`);
}, 40_000);

afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  for (const pid of [workerPid, parentPid]) {
    // Never 0 or -1 (a process group, every process): only a pid the program wrote.
    if (!Number.isSafeInteger(pid) || pid <= 1) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('maps-end.N.txt of any size and number: memory bounded, results unchanged (review 7)', () => {
  it('one 2M-line maps-end.N.txt under 15 names: analysed under 200 MiB, read once, the hard links named, the findings as without it', () => {
    const normal = runMeasured(['analyze', bundle, '--format', 'json']);
    expect(normal.status, normal.stderr).toBe(0);
    const before = JSON.parse(normal.stdout) as Shown;
    // The real capture's own findings: each process's file, confirmed by its own maps at the end.
    const confirmed = before.findings.filter((f) => f.confirmedByMaps === true && f.path.includes('\x1b[31m.dat'));
    expect(confirmed.map((f) => f.pid).sort(), normal.stdout).toEqual([parentPid, workerPid].sort());

    const planted = copyOf('planted');
    // Mappings of a file not deleted, and at the end one of a deleted file, for the warning of processes the trace never shows.
    const huge = join(planted, `maps-end.${UNSEEN[0]}.txt`);
    writeMaps(huge, HUGE_LINES, '/usr/lib/planted.so', false);
    const fd = openSync(huge, 'a');
    writeSync(fd, '7f0000000000-7f0000001000 rw-s 00000000 fe:00 77 /dev/shm/planted-unseen (deleted)\n');
    closeSync(fd);
    for (const pid of UNSEEN.slice(1)) linkSync(huge, join(planted, `maps-end.${pid}.txt`));

    const run = runMeasured(['analyze', planted, '--format', 'json']);
    expect(run.status, run.stderr.slice(0, 2000)).toBe(0);
    expect(run.rssKiB).toBeGreaterThan(0);
    expect(run.rssKiB).toBeLessThan(MAX_RSS_KIB);
    const after = JSON.parse(run.stdout) as Shown;
    expect(results(after)).toEqual(results(before));
    // Each other name of the file is named, and not read again.
    for (const pid of UNSEEN.slice(1)) {
      expect(after.warnings).toContainEqual(expect.stringContaining(`maps-end.${pid}.txt: the same file as maps-end.${UNSEEN[0]}.txt (a hard link)`));
    }
    // The process the trace never shows is named with its deleted file, as before.
    expect(after.warnings).toContainEqual(expect.stringContaining(`pid ${UNSEEN[0]} (/dev/shm/planted-unseen)`));
  }, 55_000);

  it("a traced process's maps-end.N.txt holding more deleted files' mappings than the budget: left unread, named in a warning, its findings unconfirmed, memory bounded", () => {
    const before = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Shown;
    const planted = copyOf('budget');
    const file = join(planted, `maps-end.${workerPid}.txt`);
    const genuine = readFileSync(file, 'utf8');
    // 400,000 mappings of deleted files, each of which the analysis would keep (and make a finding of): past the budget of 10,000 lines.
    writeMaps(file, 400_000, '/dev/shm/planted-budget', true);
    const fd = openSync(file, 'a');
    writeSync(fd, genuine);
    closeSync(fd);
    const run = runMeasured(['analyze', planted, '--format', 'json']);
    expect(run.status, run.stderr.slice(0, 2000)).toBe(0);
    expect(run.rssKiB).toBeLessThan(MAX_RSS_KIB);
    const after = JSON.parse(run.stdout) as Shown;
    expect(after.warnings).toContainEqual(expect.stringMatching(new RegExp(`1 maps-end\\.N\\.txt file\\(s\\) left unread: .*10,000 lines or 32 MiB.*: ${file.replaceAll('.', '\\.')}$`)));
    // No finding made of the planted lines; the worker's own finding stays, not confirmed nor contradicted by part of its maps.
    expect(after.findings.filter((f) => f.path.includes('planted'))).toEqual([]);
    const worker = after.findings.filter((f) => f.pid === workerPid);
    expect(worker.map((f) => f.address)).toEqual(before.findings.filter((f) => f.pid === workerPid).map((f) => f.address));
    for (const finding of worker) expect(finding.confirmedByMaps).toBeNull();
    // The captured process's findings as before.
    expect(results({ ...after, findings: after.findings.filter((f) => f.pid !== workerPid) })).toEqual(results({ ...before, findings: before.findings.filter((f) => f.pid !== workerPid) }));
  }, 55_000);

  it('report --out copies maps-end.txt and maps-end.N.txt with control characters escaped as the kernel escapes (\\033), never raw', () => {
    const evidence = join(work, 'evidence');
    const written = runCli(['report', bundle, '--out', evidence]);
    expect(written.status, written.stderr).toBe(0);
    for (const name of ['maps-end.txt', `maps-end.${workerPid}.txt`]) {
      const copied = readFileSync(join(evidence, name), 'utf8');
      expect(copied, name).not.toContain('\x1b');
      expect(copied, name).toMatch(/-\\033\[31m\.dat \(deleted\)\n/);
    }
    // The bundle's own files hold the ESC raw, as the kernel prints it.
    expect(readFileSync(join(bundle, `maps-end.${workerPid}.txt`), 'utf8')).toContain('\x1b[31m.dat (deleted)');
  }, 30_000);
});

// Review 26 (attack), F2, the bundles' half: any user can name a file
// "seg (deleted)". Mapped, /proc/PID/maps prints it exactly as it prints a
// mapping of an unlinked seg, and a capture bundle's snapshots were read by
// that text: a --pid capture reported an unlinked-while-mapped error for a
// file never removed (maps-start.txt), as did a launched one (maps-end.txt)
// and a forked child's maps at the end (maps-end.N.txt); --fail-on exited 3
// at will. The capture now asks the kernel, right after each read, whether
// such a line's file has a link left (a stat through map_files, as root) and
// writes the answer beside the snapshot (maps-start.linked and the like).
//
// A real program (test/scenarios/deleted-suffix-names.py) maps two such
// files, in itself and in a child, and one file it then unlinks: the real
// leak. The truth is its own: its /proc/PID/maps lines, and the link count it
// stats of each name, read while both processes live.
//
// Needs root and strace.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'deleted-suffix-names.py');

interface Report {
  findings: Finding[];
  warnings: string[];
  summary: { mappingsInDoubt: number };
}

/** What the program wrote: its maps lines of files in its directory, by pid, and each name's link count. */
interface Truth {
  maps: { pid: number; address: string; path: string; deletedSuffix: boolean }[];
  links: Map<string, number>;
}

function readTruth(file: string): Truth {
  const truth: Truth = { maps: [], links: new Map() };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const maps = /^maps (\d+) ([0-9a-f]+)-\S+ \S+ \S+ \S+ \S+ +(.*)$/.exec(line);
    if (maps !== null) truth.maps.push({ pid: Number(maps[1]), address: `0x${maps[2]!.replace(/^0+/, '')}`, path: maps[3]!, deletedSuffix: maps[3]!.endsWith(' (deleted)') });
    const linked = /^linked (.*) (\d+)$/.exec(line);
    if (linked !== null) truth.links.set(linked[1]!, Number(linked[2]));
  }
  return truth;
}

const children: ChildProcess[] = [];
afterEach(() => killStillRunning(children));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review26-deleted-suffix.test.ts must run as root (capture --pid, map_files)');
  requireTool('strace');
  requireTool(PYTHON);
});

/** The bundle's report against the program's truth: the one leak found, the files that kept their names neither a finding nor a doubt. */
function expectTruth(bundle: string, work: string, truth: Truth): void {
  const directory = join(work, 'd');
  // The program's word: every mapping prints " (deleted)" (the child has its parent's two as well), and only gone.idx has lost its name.
  expect(new Set(truth.maps.map((line) => line.path))).toEqual(new Set([`${directory}/child (deleted)`, `${directory}/gone.idx (deleted)`, `${directory}/seg (deleted)`]));
  expect(truth.links).toEqual(
    new Map([
      ['seg (deleted)', 1],
      ['gone.idx', 0],
      ['child (deleted)', 1],
    ]),
  );
  const child = truth.maps.find((line) => line.path.startsWith(`${directory}/child`))!.pid;
  expect(existsSync(join(bundle, `maps-end.${child}.txt`))).toBe(true);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
  const unlinked = truth.maps.filter((line) => truth.links.get(line.path.slice(directory.length + 1, -' (deleted)'.length)) === 0);
  expect(report.findings.map((finding) => [finding.pid, finding.address, finding.path])).toEqual(unlinked.map((line) => [line.pid, line.address, `${directory}/gone.idx`]));
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
}

describe('files really named "… (deleted)" in a capture bundle (review 26, F2)', () => {
  it("capture --pid: maps-start.txt, maps-end.txt and a child's maps-end.N.txt name them; only the unlinked file is a finding", async () => {
    const work = realpathSync(workspace('deleted-suffix-pid'));
    const truthFile = join(work, 'truth.txt');
    const program = spawn(PYTHON, [PROGRAM, join(work, 'd'), 'wait', truthFile], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(program);
    const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
    expect(Number((await lines.next()).value)).toBe(program.pid);
    const bundle = join(work, 'bundle');
    const { captured } = await captureAttached('strace', program, bundle, children, ['--duration', '4']);
    program.stdin!.write('go\n');
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);
    const truth = readTruth(truthFile);
    expect(readFileSync(truthFile, 'utf8')).toMatch(/\ndone\n$/);
    // The file named so was mapped before the attach: maps-start.txt prints it as the kernel does.
    expect(readFileSync(join(bundle, 'maps-start.txt'), 'utf8')).toContain(`${join(work, 'd')}/seg (deleted)\n`);
    expectTruth(bundle, work, truth);
  }, 120_000);

  // Review 29: /proc prints a chrooted process's file by its whole host path (the reader's root), which under /proc/PID/root names nothing.
  it('capture --pid of a chrooted process: its "seg (deleted)", never removed, is no finding', async () => {
    requireTool('cc');
    const work = realpathSync(workspace('deleted-suffix-chroot'));
    const jail = join(work, 'jail');
    mkdirSync(join(jail, 'd'), { recursive: true });
    execFileSync('cc', ['-O2', '-static', '-o', join(jail, 'map-and-wait'), join(REPO, 'test', 'scenarios', 'map-and-wait.c')], { stdio: 'pipe' });
    const program = spawn('chroot', [jail, '/map-and-wait', '/d/seg (deleted)'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(program);
    const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('mapped');
    // The truth, read while it lives: /proc prints the mapping "(deleted)" by its host path, and the file has its link.
    const maps = readFileSync(`/proc/${program.pid}/maps`, 'utf8');
    expect(maps).toContain(`${jail}/d/seg (deleted)\n`);
    expect(statSync(join(jail, 'd', 'seg (deleted)')).nlink).toBe(1);
    const bundle = join(work, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--duration', '2', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(capture);
    const result = await exited(capture);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(bundle, 'maps-start.linked'), 'utf8')).toMatch(/^[0-9a-f]+-[0-9a-f]+\n$/);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report & { summary: { undecided: string | null } };
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
    // A chrooted process sees another root than the capture: that, and only that, keeps the verdict undecided (exit 2, not 3).
    expect(report.summary.undecided).toMatch(/saw another mount namespace or root than the capture/);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  }, 120_000);

  it("capture -- CMD: maps-end.txt and the child's maps-end.N.txt name them; only the unlinked file is a finding", async () => {
    const work = realpathSync(workspace('deleted-suffix-launched'));
    const truthFile = join(work, 'truth.txt');
    const bundle = join(work, 'bundle');
    // --duration counts from the attach; the capture reads the maps at the end, then stops the command.
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--duration', '4', '--out', bundle, '--', PYTHON, PROGRAM, join(work, 'd'), 'go', truthFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(capture);
    const result = await exited(capture);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(truthFile, 'utf8')).toMatch(/\ndone\n$/);
    expectTruth(bundle, work, readTruth(truthFile));
  }, 120_000);
});

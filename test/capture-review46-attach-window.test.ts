// Review 46, L2: `capture --pid --backend bpftrace` of a Lucene JVM. bpftrace
// attaches its probes one at a time after its `begin` record; in between,
// the trace held the mmaps of files whose unlinks it did not (the unlink
// probes not yet attached), and maps-start.txt, read once all were, showed
// those mappings deleted. The trace's mmap of each took the range of its
// maps-start.txt line, which the engine dropped as a mapping the snapshot saw
// made; the munmaps that followed read as clean: 22 leaks missed. Now a
// non-fixed mmap that takes a deleted file's line, of the same file, is that
// very mapping, and its file lost its last name unseen: a finding.
//
// The seed is the last mapping of that file at that range, not the first
// (review 48, C2: a file mapped, unmapped and mapped again at one address
// had its error on the first and its leak called benign); and a close's link
// count is the file's only when its inode is (C3: a memfd's 0 pinned on a
// named file whose close the trace missed).
//
// A real python3 program makes, maps and unlinks files one after another,
// as fast as it can while bpftrace attaches (test/scenarios/attach-window-
// unlinks.py: some mapped twice, some never removed), keeps every mapping,
// and once the capture has attached unmaps them all and exits. Truth: its
// own /proc/self/maps before it unmaps.
//
// Needs root and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

/** The 1-based numbers of the trace's mmap lines, by the inode each gives. */
function mmapLinesByInode(trace: string): Map<string, number[]> {
  const byInode = new Map<string, number[]>();
  trace.split('\n').forEach((line, k) => {
    const ino = / mmap ret=0x[0-9a-f]+ .* ino=(\d+) /.exec(line)?.[1];
    if (ino === undefined) return;
    const lines = byInode.get(ino);
    if (lines === undefined) byInode.set(ino, [k + 1]);
    else lines.push(k + 1);
  });
  return byInode;
}

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/**
 * `program` (a scenario taking DIR TRACE STOP TRUTH) under `capture --pid --backend bpftrace`, stopped once the
 * capture has attached: its bundle, and what it wrote to TRUTH.
 */
async function captureWhileAttaching(name: string, program: string): Promise<{ directory: string; bundle: string; pid: number; truth: { made: number; deleted: SelfMapsDeleted[] } }> {
  const work = workspace(name);
  const directory = join(work, 'segments');
  mkdirSync(directory);
  const bundle = join(work, 'bundle');
  const stop = join(work, 'stop');
  const truthFile = join(work, 'truth.json');
  const child = spawn(PYTHON, [join(REPO, 'test', 'scenarios', program), directory, join(bundle, 'trace.txt'), stop, truthFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const programDone = exited(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to start', () => out.includes('\n'), 10_000);
  const pid = Number(out.split('\n')[0]);
  const { captured } = await captureAttached('bpftrace', pid, bundle, children, ['--duration', '120'], 'snapshots');
  writeFileSync(stop, '');
  expect((await programDone).code).toBe(0);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  return { directory, bundle, pid, truth: JSON.parse(readFileSync(truthFile, 'utf8')) as { made: number; deleted: SelfMapsDeleted[] } };
}

it('the mappings whose unlinks fell between the probes bpftrace attached are found, as maps-start.txt shows them deleted', async () => {
  const { directory: segments, bundle, truth } = await captureWhileAttaching('review46-window', 'attach-window-unlinks.py');
  // Each round's seg and twice files: deleted, mapped; its named file is not.
  expect(truth.deleted).toHaveLength(2 * truth.made);

  // The precondition, from the trace: files whose mmap it shows (by the inode its open reached) and whose unlink it does not.
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
  const opened = new Map([...trace.matchAll(/ open sys=openat .* ino=(\d+) .* path=(\S+\/(?:seg|twice)-\d+) /g)].map((match) => [match[1]!, match[2]!]));
  const mapped = new Set([...trace.matchAll(/ mmap ret=0x[0-9a-f]+ .* ino=(\d+) /g)].map((match) => match[1]!));
  const unlinked = new Set([...trace.matchAll(/ unlink sys=unlink .* path=(\S+\/(?:seg|twice)-\d+) /g)].map((match) => match[1]!));
  const unseen = [...opened].filter(([ino, path]) => mapped.has(ino) && !unlinked.has(path)).map(([, path]) => path);
  expect(unseen.length).toBeGreaterThan(0);

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  const found = report.findings.filter((finding) => finding.path.startsWith(`${segments}/`));
  // Errors, each the one /proc shows deleted (no benign finding: the mapping kept was made while the file was named).
  expect(found.map((finding) => `${finding.kind} ${finding.severity} ${finding.address} ${finding.path} ${finding.resolution}`).sort()).toEqual(
    truth.deleted.map((mapping) => `unlinked-while-mapped error ${mapping.address} ${mapping.path} unmapped`).sort(),
  );
  // A twice file's finding is its second mapping's: the last mmap of it in the trace, when the trace shows both. The
  // trace's mmap lines, by inode, read once: searched again for each of thousands of findings, they took a minute.
  const inodeOf = new Map([...opened].map(([ino, path]) => [path, ino]));
  const mmapLines = mmapLinesByInode(trace);
  for (const finding of found.filter((finding) => finding.path.includes('/twice-') && finding.mappedAt?.file === join(bundle, 'trace.txt'))) {
    const mmaps = mmapLines.get(inodeOf.get(finding.path) ?? '') ?? [];
    if (mmaps.length === 2) expect(finding.mappedAt!.line, finding.path).toBe(mmaps[1]);
  }
  // Those the trace saw mapped: "mapped" is the trace's mmap.
  for (const path of unseen) expect(found.find((finding) => finding.path === path)?.mappedAt?.file).toBe(join(bundle, 'trace.txt'));
}, 150_000);

it("a memfd's close, link count 0, on the fd number of a named file whose close the trace missed: no error", async () => {
  const { directory, bundle, truth } = await captureWhileAttaching('review48-fd-reuse', 'attach-window-fd-reuse.py');
  // The program's word: no file of its was ever removed.
  expect(truth.deleted).toEqual([]);
  expect(truth.made).toBeGreaterThan(0);
  // The trace holds closes with no name left (the memfds'), which must not be taken for the named files'.
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ close fd=\d+ ret=0 ens=\d+ nlink=0 ino=\d+ dev=\d+$/m);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.path.startsWith(`${directory}/`))).toEqual([]);
}, 150_000);

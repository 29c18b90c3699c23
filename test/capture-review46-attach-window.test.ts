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
// A real python3 program makes, maps and unlinks files one after another,
// as fast as it can while bpftrace attaches, keeps every mapping, and once
// the capture has attached unmaps them all and exits. Truth: its own
// /proc/self/maps before it unmaps: every mapping deleted.
//
// Needs root and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('the mappings whose unlinks fell between the probes bpftrace attached are found, as maps-start.txt shows them deleted', async () => {
  const work = workspace('review46-window');
  const segments = join(work, 'segments');
  mkdirSync(segments);
  const bundle = join(work, 'bundle');
  const stop = join(work, 'stop');
  const truthFile = join(work, 'truth.json');
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'attach-window-unlinks.py'), segments, join(bundle, 'trace.txt'), stop, truthFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(program);
  const programDone = exited(program);
  let out = '';
  program.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to start', () => out.includes('\n'), 10_000);
  const pid = Number(out.split('\n')[0]);

  const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--pid', String(pid), '--duration', '120', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(capture);
  const captured = exited(capture);
  // Written once bpftrace has attached every probe, after maps-start.txt.
  await waitFor('the capture to attach (fds-start.txt)', () => existsSync(join(bundle, 'fds-start.txt')), 90_000);
  writeFileSync(stop, '');
  expect((await programDone).code).toBe(0);
  const run = await captured;
  expect(run.code, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { pid: number; made: number; deleted: SelfMapsDeleted[] };
  expect(truth.deleted).toHaveLength(truth.made);

  // The precondition, from the trace: files whose mmap it shows (by the inode its open reached) and whose unlink it does not.
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
  const opened = new Map([...trace.matchAll(/ open sys=openat .* ino=(\d+) .* path=(\S+\/seg-\d+) /g)].map((match) => [match[1]!, match[2]!]));
  const mapped = new Set([...trace.matchAll(/ mmap ret=0x[0-9a-f]+ .* ino=(\d+) /g)].map((match) => match[1]!));
  const unlinked = new Set([...trace.matchAll(/ unlink sys=unlink .* path=(\S+\/seg-\d+) /g)].map((match) => match[1]!));
  const unseen = [...opened].filter(([ino, path]) => mapped.has(ino) && !unlinked.has(path)).map(([, path]) => path);
  expect(unseen.length).toBeGreaterThan(0);

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  const found = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.path.startsWith(`${segments}/`));
  expect(found.map((finding) => `${finding.address} ${finding.path} ${finding.resolution}`).sort()).toEqual(truth.deleted.map((mapping) => `${mapping.address} ${mapping.path} unmapped`).sort());
  // Those the trace saw mapped: "mapped" is the trace's mmap.
  for (const path of unseen) expect(found.find((finding) => finding.path === path)?.mappedAt?.file).toBe(join(bundle, 'trace.txt'));
}, 150_000);

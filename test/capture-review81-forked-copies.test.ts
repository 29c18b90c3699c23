// Review 81, F2: `capture --pid` of a glib server (Gio's content type guess
// maps the shared MIME cache) that forks two workers under the capture. A
// process the capture does not follow (update-mime-database, as a package
// install runs it) renames a new mime.cache over the one mapped; glib's own
// reload unmaps the old cache in the server and maps the new one; the
// workers keep their copies, "(deleted)" in their /proc/self/maps, until they
// exit; then the server exits. Three mappings outlived the file or may have:
// the trace shows no removal, and the capture's lookup after the exit
// (maps-start-gone.txt) cannot date it against the server's munmap or the
// workers' exits: in doubt, all three.
//
// Under bpftrace the verdict was clean, exit 0 with --fail-on error: the
// server's open of the new cache reached another inode than maps-start.txt
// listed, yet the file node the workers kept alive took that inode, and the
// new file's link count said the old one still had a name. Under strace one
// doubt (the server's own munmap): nothing looked at the workers' copies
// once the server had released its own.
//
// Truth: the server's and the workers' own /proc/self/maps
// (test/scenarios/mime-forker.py). Both captures run at once.
//
// Needs root, strace, bpftrace, Debian's python3-gi and shared-mime-info (.ci/run installs them).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, verdictOf } from './support/tools.js';

const SERVER = join(REPO, 'test', 'scenarios', 'mime-forker.py');
const started: ChildProcess[] = [];
afterAll(() => killStillRunning(started));

interface Run {
  bundle: string;
  cache: string;
  server: number;
  workers: number[];
  /** "PID maps-line" of mime.cache, as each process read its /proc/self/maps. */
  truth: string[];
}

function updateMimeDatabase(mime: string): void {
  const run = spawnSync('update-mime-database', [mime], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
}

/** The server under `capture --backend BACKEND --pid`: forked, the cache replaced out of sight, reloaded, the workers ended, then the server. */
async function scenario(backend: 'strace' | 'bpftrace'): Promise<Run> {
  const work = realpathSync(workspace(`review81-${backend}`));
  const mime = join(work, 'data', 'mime');
  mkdirSync(join(mime, 'packages'), { recursive: true });
  writeFileSync(
    join(mime, 'packages', 'om.xml'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">\n' +
      '  <mime-type type="text/x-orphanmap"><glob pattern="*.om"/></mime-type>\n</mime-info>\n',
  );
  updateMimeDatabase(mime);
  mkdirSync(join(work, 'home'));
  const server = spawn(PYTHON, [SERVER], {
    env: { ...process.env, XDG_DATA_DIRS: join(work, 'data'), XDG_DATA_HOME: join(work, 'home') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  started.push(server);
  const truth: string[] = [];
  const said: string[] = [];
  const waiting: { word: string; resolve: (line: string) => void }[] = [];
  createInterface({ input: server.stdout! }).on('line', (line) => {
    if (line.startsWith('maps ')) truth.push(line.slice('maps '.length));
    else said.push(line);
    const at = waiting.findIndex((wait) => line.startsWith(wait.word));
    if (at >= 0) waiting.splice(at, 1)[0]!.resolve(line);
  });
  const saying = (word: string) =>
    new Promise<string>((resolve) => {
      const already = said.find((line) => line.startsWith(word));
      if (already !== undefined) resolve(already);
      else waiting.push({ word, resolve });
    });
  await saying('ready');
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached(backend, server, bundle, started, [], 'snapshots');
  server.stdin!.write('fork\n');
  const workers = (await saying('forked ')).split(' ').slice(1).map(Number);
  updateMimeDatabase(mime);
  const updated = Date.now();
  // glib looks at the cache again within 5 s of a guess.
  await saying('reloaded');
  server.stdin!.write('end-workers\n');
  await saying('workers-done');
  // The capture's lookup dates a removal 1 s or more before the exit (maps-start-gone.txt; closer, -late).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, updated + 1500 - Date.now())));
  server.stdin!.write('exit\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { exitReason: string };
  expect(meta.exitReason).toBe('target-exited');
  return { bundle, cache: join(mime, 'mime.cache'), server: server.pid!, workers, truth };
}

let runs: Record<'strace' | 'bpftrace', Run>;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review81-forked-copies.test.ts must run as root (capture --pid)');
  for (const tool of ['strace', 'bpftrace', 'update-mime-database']) requireTool(tool);
  const gi = spawnSync(PYTHON, ['-c', 'import gi; gi.require_version("Gio", "2.0"); from gi.repository import Gio'], { encoding: 'utf8' });
  if (gi.status !== 0) throw new Error(`Debian's python3-gi (and gir1.2-glib-2.0) must be installed: ${gi.stderr}`);
  const [strace, bpftrace] = await Promise.all([scenario('strace'), scenario('bpftrace')]);
  runs = { strace: strace, bpftrace: bpftrace };
}, 240_000);

describe.each(['strace', 'bpftrace'] as const)('capture --backend %s --pid of a glib server whose forked workers kept the MIME cache a deploy replaced', (backend) => {
  it('the kernel: the server held the old cache deleted until its reload, each worker until its exit', () => {
    const { cache, server, workers, truth } = runs[backend];
    const deleted = (pid: number) => truth.filter((line) => line.startsWith(`${pid} `) && line.endsWith(` ${cache} (deleted)`));
    expect(deleted(server).length).toBeGreaterThan(0);
    for (const worker of workers) expect(deleted(worker)).toHaveLength(1);
    // The server mapped the new cache where the old one was: its last lines are of a file with the name.
    expect(truth.filter((line) => line.startsWith(`${server} `)).at(-1)).toMatch(new RegExp(` ${cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('three mappings in doubt, one a process, no finding; --fail-on error exits 2', () => {
    const { bundle, cache, server, workers } = runs[backend];
    const gone = readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8');
    expect(gone).toContain(` ${cache}\n`);
    const { report, failOn } = verdictOf(bundle);
    expect([report.findings, report.summary.mappingsInDoubt], report.warnings.join('\n')).toEqual([[], 3]);
    expect(failOn).toBe(2);
    for (const pid of [server, ...workers]) {
      const one = verdictOf(bundle, { pid });
      expect([one.report.summary.mappingsInDoubt, one.failOn], `process ${pid}: ${one.report.warnings.join('\n')}`).toEqual([1, 2]);
    }
  });
});

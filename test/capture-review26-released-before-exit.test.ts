// Review 26 (exactness), finding 3: `capture --pid` of a C server that maps
// its data file the usual way (open, mmap, close). A deploy replaced the
// file (`mv data.new data.bin`, outside the trace), and 1.3 s later SIGHUP
// made the server unmap it and map the file by its name again; it exited
// after. /proc showed the old mapping "(deleted)" until the reload, and the
// bundle's maps-start-gone.txt listed it, yet the verdict was "no mapping
// outlived its file", exit 0: the analysis checked only the mappings the
// trace shows living until the exit, and the server had released its own.
// The same for a daemon that re-executes itself on SIGHUP (the exec releases
// the mapping). The capture's lookup tells a removal before the exit from
// one about it, not from one before the release: such a mapping is in doubt
// (summary.mappingsInDoubt, --fail-on exits 2). A server that unmaps the
// file and then removes it itself, in the trace, is no doubt.
//
// A real C program (test/scenarios/reload-on-hup.c); the test replaces the
// file and sends the SIGHUP. The truth: the program's own /proc/self/maps,
// read before it releases the mapping.
//
// Needs root, strace and cc.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';

interface Report {
  findings: Finding[];
  warnings: string[];
  summary: { mappingsInDoubt: number };
}

const started: ChildProcess[] = [];
let program = '';
afterAll(() => killStillRunning(started));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review26-released-before-exit.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool('cc');
  program = join(realpathSync(workspace('reload-on-hup')), 'reload-on-hup');
  execFileSync('cc', ['-O2', '-o', program, join(REPO, 'test', 'scenarios', 'reload-on-hup.c')], { stdio: 'pipe' });
});

/**
 * The server in MODE under `orphanmap capture --backend strace --pid`; once
 * attached, `change` (the test's own, outside the trace), then SIGHUP; it
 * exits 2 s after the change, so that the capture's lookup finds the
 * directory changed before the exit. Its maps lines of the data file before
 * the release (the truth), and the bundle.
 */
async function scenario(mode: 'reload' | 'exec' | 'unlink', change: (data: string) => void): Promise<{ data: string; bundle: string; truth: string[]; pid: number }> {
  const work = realpathSync(workspace(`released-${mode}`));
  const data = join(work, 'data.bin');
  writeFileSync(data, Buffer.alloc(50_000, 'a'));
  const server = spawn(program, [data, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(server);
  const lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', server, bundle, started);
  change(data);
  const changed = Date.now();
  server.kill('SIGHUP');
  const truth: string[] = [];
  for (let line = (await lines.next()).value as string; line !== 'done'; line = (await lines.next()).value as string) truth.push(line.slice('maps '.length));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, changed + 2000 - Date.now())));
  server.stdin!.end();
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { exitReason: string };
  expect(meta.exitReason).toBe('target-exited');
  return { data, bundle, truth, pid: server.pid! };
}

/** A deploy's way: a new file renamed over the old one. */
function deploy(data: string): void {
  writeFileSync(`${data}.new`, Buffer.alloc(60_000, 'b'));
  renameSync(`${data}.new`, data);
}

/** maps-start-gone.txt lists the data file's mapping /proc showed deleted before the release; the report holds it in doubt, and --fail-on exits 2. */
function checkInDoubt(run: { data: string; bundle: string; truth: string[]; pid: number }, call: string): void {
  const { data, bundle, truth, pid } = run;
  // The truth: before the release, the server's mapping of the data file was of a file with no name left.
  expect(truth).toHaveLength(1);
  expect(truth[0]).toMatch(new RegExp(` ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(deleted\\)$`));
  const address = truth[0]!.slice(0, truth[0]!.indexOf('-'));
  const gone = readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8').trim().split('\n');
  expect(gone.map((line) => line.slice(0, line.indexOf('-')))).toEqual([address]);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  const warning = report.warnings.filter((text) => text.includes('released its mapping of it itself'));
  expect(warning).toHaveLength(1);
  expect(warning[0]).toContain(`process ${pid} exited during the capture, and right after, the capture found ${data} gone from its name`);
  expect(warning[0]).toMatch(new RegExp(`\\(its ${call} at ${join(bundle, 'trace.txt')}:\\d+\\)`));
  const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
  expect(verdict.stdout.split('\n')[0]).toBe(
    'orphanmap: no mapping was seen to outlive its file, but 1 mapping is in doubt (its file may have lost its last name where the trace cannot tell: see the warnings).',
  );
  expect(verdict.status, verdict.stderr).toBe(2);
}

describe('capture --pid of a server that released its mapping of a file replaced out of sight, then exited (review 26, finding 3)', () => {
  it('reloaded on SIGHUP (munmap, then the file mapped again by its name): in doubt, --fail-on exits 2', async () => {
    checkInDoubt(await scenario('reload', deploy), 'munmap');
  }, 90_000);

  it('re-executed itself on SIGHUP (the exec released the mapping): in doubt, --fail-on exits 2', async () => {
    checkInDoubt(await scenario('exec', deploy), 'execve');
  }, 90_000);

  it('unmapped the file on SIGHUP, then removed it itself (in the trace): no doubt, no finding', async () => {
    const { data, bundle, truth } = await scenario('unlink', () => {});
    // The truth: the file had its name while mapped; the program removed it only after its munmap.
    expect(truth).toHaveLength(1);
    expect(truth[0]!.endsWith(` ${data}`)).toBe(true);
    expect(existsSync(data)).toBe(false);
    const gone = readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8').trim().split('\n');
    expect(gone).toHaveLength(1);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
    expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
  }, 90_000);
});

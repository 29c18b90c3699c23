// Review 27 (exactness), finding 7: `capture --pid` of a C server that maps
// its data file the usual way (open, mmap, close). A deploy replaced the
// file (`mv data.new data`, outside the trace); the server then reloaded it
// (opened the name again, mapped the new file, unmapped the old one) and,
// shutting down, unmapped the new one, removed the name and exited. /proc
// showed the old mapping "(deleted)" from the deploy to the reload, yet the
// verdict was "no mapping outlived its file", exit 0: the capture's lookup
// filed the line under maps-start-gone-late.txt (the directory's last change
// was the server's own unlink, just before its exit), and a released
// mapping of a -late line was taken for a cleanup after the exit. The trace
// shows that change, after the release, so the line says no more than one
// of maps-start-gone.txt; and the removal of the name after the release
// shows the old file went then only if the name still led to it, which the
// reload's open, reaching a file strace does not name, leaves unknown: in
// doubt (summary.mappingsInDoubt, --fail-on exits 2). A server that unmaps
// its file and removes it at its exit, its name never opened again in the
// trace, stays clean.
//
// A real C program (test/scenarios/reload-then-remove.c); the test replaces
// the file, sends the SIGHUP, then ends the program's stdin. The truth: the
// program's own /proc/self/maps, read before its reload.
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
  if (process.getuid?.() !== 0) throw new Error('test/capture-review27-reload-then-cleanup.test.ts must run as root (capture --pid)');
  requireTool('strace');
  requireTool('cc');
  program = join(realpathSync(workspace('reload-then-remove')), 'reload-then-remove');
  execFileSync('cc', ['-O2', '-o', program, join(REPO, 'test', 'scenarios', 'reload-then-remove.c')], { stdio: 'pipe' });
});

/**
 * The server in MODE under `orphanmap capture --backend strace --pid`; once
 * attached, `change` (the test's own, outside the trace), then SIGHUP, then
 * the end of its stdin, at which it unmaps, removes the file and exits. Its
 * maps lines of the data file before the reload (the truth), and the bundle.
 */
async function scenario(mode: 'reload' | 'keep', change: (data: string) => void): Promise<{ data: string; bundle: string; truth: string[]; pid: number }> {
  const work = realpathSync(workspace(`reload-then-remove-${mode}`));
  const data = join(work, 'data');
  writeFileSync(data, Buffer.alloc(4096, 'a'));
  const server = spawn(program, [data, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(server);
  const lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', server, bundle, started);
  change(data);
  server.kill('SIGHUP');
  const truth: string[] = [];
  for (let line = (await lines.next()).value as string; line !== 'done'; line = (await lines.next()).value as string) truth.push(line.slice('maps '.length));
  server.stdin!.end();
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { exitReason: string };
  expect(meta.exitReason).toBe('target-exited');
  expect(existsSync(data)).toBe(false);
  return { data, bundle, truth, pid: server.pid! };
}

/** The starts of the lines the capture's lookup found gone, in either list (the unlink just before the exit makes it -late). */
function goneStarts(bundle: string): string[] {
  return ['maps-start-gone.txt', 'maps-start-gone-late.txt']
    .filter((name) => existsSync(join(bundle, name)))
    .flatMap((name) => readFileSync(join(bundle, name), 'utf8').trim().split('\n'))
    .map((line) => line.slice(0, line.indexOf('-')));
}

/** A deploy's way: a new file renamed over the old one. */
function deploy(data: string): void {
  writeFileSync(`${data}.new`, Buffer.alloc(4096, 'b'));
  renameSync(`${data}.new`, data);
}

describe('capture --pid of a server that reloaded a file replaced out of sight, then removed it at its exit (review 27, finding 7)', () => {
  it('reloaded after a deploy (open the name, map, unmap the old), then unmapped and removed the name at its exit: in doubt, --fail-on exits 2', async () => {
    const { data, bundle, truth, pid } = await scenario('reload', deploy);
    // The truth: before the reload, the server's mapping of the data file was of a file with no name left.
    expect(truth).toHaveLength(1);
    expect(truth[0]).toMatch(new RegExp(` ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(deleted\\)$`));
    expect(goneStarts(bundle)).toEqual([truth[0]!.slice(0, truth[0]!.indexOf('-'))]);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
    expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    const warning = report.warnings.filter((text) => text.includes('released its mapping of it itself'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toContain(`process ${pid} exited during the capture, and right after, the capture found ${data} gone from its name`);
    expect(warning[0]).toMatch(/\(its munmap at [^)]*trace\.txt:\d+\)/);
    expect(warning[0]).toMatch(/the trace shows that name removed after the release, but its open at [^ ]*trace\.txt:\d+ reached a file the trace does not name/);
    const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
    expect(verdict.stdout.split('\n')[0]).toBe(
      'orphanmap: no mapping was seen to outlive its file, but 1 mapping is in doubt (its file may have lost its last name where the trace cannot tell: see the warnings).',
    );
    expect(verdict.status, verdict.stderr).toBe(2);
  }, 90_000);

  it('kept its file (no deploy, no reload), then unmapped and removed it at its exit: no doubt, no finding', async () => {
    const { data, bundle, truth } = await scenario('keep', () => {});
    // The truth: the file had its name while mapped; the server removed it only after its munmap.
    expect(truth).toHaveLength(1);
    expect(truth[0]!.endsWith(` ${data}`)).toBe(true);
    expect(goneStarts(bundle)).toEqual([truth[0]!.slice(0, truth[0]!.indexOf('-'))]);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as Report;
    expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(0);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
  }, 90_000);
});

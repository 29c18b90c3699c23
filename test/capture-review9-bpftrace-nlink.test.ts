// Review 9, R9-3, with bpftrace --pid: tdbtool (Debian's tdb-tools) holds a
// database mapped; another process, not traced, replaces it (mv), tdbtool
// grows it (unmapping and mapping the nameless file again: orphanmap.bt's
// mmap records say nlink=0), then quits during the capture, so the bundle
// has no maps-end.txt to tell. /proc/PID/maps, read before the quit, shows
// one deleted mapping of it. Before the fix the analysis said "no mapping
// outlived its file": a link count of 0 was acted on only for names bpftrace cut.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { inserts, mapsOf, startTdbtool } from './support/tdb.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  requireTool('bpftrace');
  requireTool('tdbtool');
  requireTool('stdbuf');
});
afterEach(() => killStillRunning(children));

describe('review 9, R9-3: a database replaced under a process that maps it again (bpftrace --pid, the process quits during the capture)', () => {
  it('the link count of 0 makes one unlinked-while-mapped error, of the mapping /proc showed deleted, unmapped at the quit', async () => {
    const dir = join(workspace('r9bt'), 'w');
    const db = join(dir, 'db.tdb');
    const { tdbtool, pid, step } = startTdbtool(dir);
    children.push(tdbtool);
    const quit = exited(tdbtool);
    await waitFor('tdbtool to start', () => existsSync(`/proc/${pid}/exe`) && readFileSync(`/proc/${pid}/comm`, 'utf8') === 'tdbtool\n', 10_000);

    const bundle = join(dir, '..', 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--pid', String(pid), '--duration', '120', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(capture);
    let said = '';
    capture.stderr!.setEncoding('utf8').on('data', (chunk: string) => (said += chunk));
    const captured = new Promise<number | null>((resolve) => capture.on('exit', (code) => resolve(code)));
    await waitFor('bpftrace to attach', () => said.includes('bpftrace attached'), 60_000, 200);
    await step(`create db.tdb\n${inserts(1, 400)}`, 'filled');
    expect(mapsOf(pid, db).length).toBe(1);
    expect(mapsOf(pid, db)[0]).not.toContain('(deleted)');

    // Another process, not traced, replaces it: a copy renamed over its name (as `tdbrestore new.tdb; mv new.tdb db.tdb`).
    const copy = join(dir, 'new.tdb');
    writeFileSync(copy, readFileSync(db));
    expect(spawnSync('mv', [copy, db]).status).toBe(0);
    await step(inserts(401, 700), 'grown');
    // /proc, while tdbtool lives: one mapping of the database, deleted, grown since (remapped).
    const before = mapsOf(pid, db);
    expect(before.length).toBe(1);
    expect(before[0]).toMatch(/ \(deleted\)$/);
    const [start, end] = before[0]!
      .split(' ')[0]!
      .split('-')
      .map((hex) => Number.parseInt(hex, 16)) as [number, number];

    // tdbtool quits during the capture (tdb_close unmaps the database), which then ends: no maps-end.txt.
    tdbtool.stdin!.end('quit\n');
    expect((await quit).code).toBe(0);
    expect(await captured).toBe(0);
    expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(false);
    expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ mmap .* nlink=0$/m);

    const analyzed = runCli(['analyze', bundle, '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout);
    const findings = report.findings.filter((finding: { path: string; kind: string }) => finding.path === db && finding.kind === 'unlinked-while-mapped');
    expect(findings.map((finding: Record<string, unknown>) => [finding.severity, finding.address, finding.length, finding.resolution, finding.unlinkedAt])).toEqual([
      ['error', `0x${start.toString(16)}`, end - start, 'unmapped', null],
    ]);
    expect(report.findings.filter((finding: { severity: string }) => finding.severity === 'info')).toEqual([]);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
  }, 150_000);
});

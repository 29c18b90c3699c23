// Review 9, R9-1, with a launched strace capture: tdbtool (Debian's tdb-tools)
// holds a database mapped; tdbrestore and mv, traced, replace it; tdbtool
// grows it, and tdb unmaps and maps the nameless file again at each growth
// (test/scenarios/review9-tdb-replaced.sh). The scenario's own record,
// /proc/PID/maps read while tdbtool lives, shows one deleted mapping of it
// after the mv and one before the quit. Before the fix the first was an
// error and every remap after the mv a BENIGN "mapped with no name left"
// block (the shared-memory idiom), the one /proc showed at the end among them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';

const SCENARIO = join(REPO, 'test', 'scenarios', 'review9-tdb-replaced.sh');

beforeAll(() => {
  requireTool('strace');
  requireTool('tdbtool');
  requireTool('stdbuf');
});

/** The `start-end` of the one db.tdb line /proc showed "(deleted)" at `step` of the record. */
function deletedAt(record: string, step: string): [number, number] {
  const lines = record.split(`== ${step}\n`)[1]!.split('\n== ')[0]!.trim().split('\n');
  expect(lines.length).toBe(1);
  expect(lines[0]).toMatch(/ \(deleted\)$/);
  return lines[0]!
    .split(' ')[0]!
    .split('-')
    .map((hex) => Number.parseInt(hex, 16)) as [number, number];
}

describe('review 9, R9-1: a replaced database mapped again at each growth (launched strace capture)', () => {
  it('is two errors, the mappings /proc showed deleted: the one held at the mv, and the leak’s last; no benign block', () => {
    const root = workspace('r9sl');
    const dir = join(root, 'w');
    const record = join(root, 'record.txt');
    const bundle = join(root, 'bundle');
    const captured = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', 'sh', SCENARIO, dir, record], { encoding: 'utf8', timeout: 60_000 });
    expect(captured.status, captured.stderr).toBe(0);
    const truth = readFileSync(record, 'utf8');
    const pid = Number(/^pid (\d+)$/m.exec(truth)![1]);
    const [heldStart, heldEnd] = deletedAt(truth, 'after-mv');
    const [lastStart, lastEnd] = deletedAt(truth, 'before-quit');

    const analyzed = runCli(['analyze', bundle, '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout);
    const db = join(dir, 'db.tdb');
    const findings = report.findings.filter((finding: { kind: string; path: string }) => finding.kind === 'unlinked-while-mapped' && finding.path === db);
    // tdb_close unmaps the database before tdbtool exits.
    expect(findings.map((finding: Record<string, unknown>) => [finding.pid, finding.severity, finding.address, finding.length, finding.resolution])).toEqual([
      [pid, 'error', `0x${heldStart.toString(16)}`, heldEnd - heldStart, 'unmapped'],
      [pid, 'error', `0x${lastStart.toString(16)}`, lastEnd - lastStart, 'unmapped'],
    ]);
    // Both name the mv as where the name went, a rename over it (review 91, 2); the second says it goes on from the first.
    expect(findings[0].unlinkedAt.renamedOver).toBe(true);
    expect(findings[1].unlinkedAt).toEqual(findings[0].unlinkedAt);
    expect(findings[1].note).toContain('the same leak going on');
    expect(report.findings.filter((finding: { severity: string }) => finding.severity === 'info')).toEqual([]);
    // The text says the second was mapped after the name went, and counts its delay from the mapping.
    const text = runCli(['analyze', bundle]).stdout;
    const second = text.split(`${findings[1].id} unlinked-while-mapped`)[1]!.split('\n\n')[0]!;
    expect(second).toMatch(/\n {2}unlinked {2}\S+:\d+ .*\(another file renamed over it, before it was mapped\)\n {2}mapped /);
    expect(second).toMatch(/\n {2}now {7}unmapped at \S+:\d+ .*, [\d.]+ (ms|s) after it was mapped\n/);
  }, 90_000);
});

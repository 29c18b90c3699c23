// Code review 60, F9: a leaked mapping cut into many pieces after its
// finding rebuilt and compared every piece at every cut (20,000 pieces,
// 47 s). What it holds is now said when its finding is read, written or
// resolved; these check that what it says is still what /proc showed: a leak
// cut into 300 pieces, held until its process exits; one cut into 4 pieces,
// its last piece mremapped in place (no change: code review 62, F1), then
// unmapped whole, whose finding shows the pieces and the call of its last
// cut; and a resize finding's mapping cut three times before the unlink its
// NDJSON line then reports (code review 62, F2: the line showed the first
// cut's pieces).
// Truth: the program's own /proc/self/maps lines (test/scenarios/cut-leak.py).
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { type Finding, heldNow } from '../src/engine/findings.js';
import { PYTHON, tracePython, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'cut-leak.py');
const PIECES = 300;

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

/** /proc/self/maps ranges ("start-end") as [address, bytes]. */
function ranges(lines: string[]): [string, number][] {
  return lines.map((range) => {
    const [start, end] = range.split('-').map((hex) => Number.parseInt(hex, 16));
    return [`0x${start!.toString(16)}`, end! - start!];
  });
}

it.each(['strace', 'capture-bpftrace'] as const)(
  '%s: a leak cut into many pieces says the pieces /proc showed, at its exit and at its last munmap',
  (how) => {
    const dir = workspace(`cut-leak-${how}`);
    const input = tracePython(dir, how, PROGRAM, [dir, String(PIECES)]);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { holes: string[]; gone: string[]; goneLastCut: string; grownFirst: string[]; copied: string[] };
    expect(truth.holes).toHaveLength(PIECES);
    expect(truth.gone).toHaveLength(4);
    expect(truth.grownFirst).toHaveLength(4);
    expect(truth.copied).toHaveLength(2);
    const result = runCli(['analyze', input, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    const found = findings
      .filter((finding) => !finding.path.endsWith('/grown.dat'))
      .map((finding) => ({
        name: finding.path.slice(dir.length + 1),
        kind: finding.kind,
        resolution: finding.resolution,
        by: finding.heldLater?.by,
        held: heldNow(finding).map((range) => [range.address, range.length]),
      }));
    expect(found.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      // MREMAP_DONTUNMAP: where it was and where it went (code review 62, P1).
      { name: 'copied.dat', kind: 'unlinked-while-mapped', resolution: 'process-exited', by: 'mremap', held: ranges(truth.copied) },
      { name: 'gone.dat', kind: 'unlinked-while-mapped', resolution: 'unmapped', by: 'munmap', held: ranges(truth.gone) },
      { name: 'holes.dat', kind: 'unlinked-while-mapped', resolution: 'process-exited', by: 'munmap', held: ranges(truth.holes) },
    ]);
    // gone.dat's pieces are those its last cut left: the line it names unmaps its sixth page.
    const at = findings.find((finding) => finding.path.endsWith('/gone.dat'))!.heldLater!.at;
    const line = readFileSync(at.file, 'utf8').split('\n')[at.line - 1]!;
    expect(line).toMatch(/munmap/);
    expect(line).toContain(truth.goneLastCut);
    // The resize finding of grown.dat holds its first mapping's 4 pieces, at the end and on the line that says its unlink.
    const resize = findings.filter((finding) => finding.kind === 'remapped-without-unmap');
    expect(resize.map((finding) => [finding.path.slice(dir.length + 1), finding.heldLater?.by, heldNow(finding).map((range) => [range.address, range.length])])).toEqual([
      ['grown.dat', 'munmap', ranges(truth.grownFirst)],
    ]);
    const lines = runCli(['analyze', input, '--format', 'ndjson'])
      .stdout.split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text) as Finding)
      .filter((finding) => finding.id === resize[0]!.id && finding.unlinkedAt !== null);
    expect(lines.length).toBeGreaterThan(0);
    for (const written of lines) expect(heldNow(written).map((range) => [range.address, range.length])).toEqual(ranges(truth.grownFirst));
  },
  120_000,
);

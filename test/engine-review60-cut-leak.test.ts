// Code review 60, F9: a leaked mapping cut into many pieces after its
// finding rebuilt and compared every piece at every cut (20,000 pieces,
// 47 s). What it holds is now said when its finding is read or resolved;
// these check that what it says is still what /proc showed: a leak cut into
// 300 pieces, held until its process exits, and one cut into 4 pieces and
// then unmapped whole, whose finding shows the pieces its last cut left.
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
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { holes: string[]; gone: string[]; goneLastCut: string };
    expect(truth.holes).toHaveLength(PIECES);
    expect(truth.gone).toHaveLength(4);
    const result = runCli(['analyze', input, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    const found = findings.map((finding) => ({
      name: finding.path.slice(dir.length + 1),
      kind: finding.kind,
      resolution: finding.resolution,
      by: finding.heldLater?.by,
      held: heldNow(finding).map((range) => [range.address, range.length]),
    }));
    expect(found.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'gone.dat', kind: 'unlinked-while-mapped', resolution: 'unmapped', by: 'munmap', held: ranges(truth.gone) },
      { name: 'holes.dat', kind: 'unlinked-while-mapped', resolution: 'process-exited', by: 'munmap', held: ranges(truth.holes) },
    ]);
    // gone.dat's pieces are those its last cut left: the line it names unmaps its sixth page.
    const at = findings.find((finding) => finding.path.endsWith('/gone.dat'))!.heldLater!.at;
    const line = readFileSync(at.file, 'utf8').split('\n')[at.line - 1]!;
    expect(line).toMatch(/munmap/);
    expect(line).toContain(truth.goneLastCut);
  },
  120_000,
);

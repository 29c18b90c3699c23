// Review 56, F5: under bpftrace, a leak whose path bpftrace cut, still mapped
// when the capture read the maps at the end, is a finding by maps-end.txt,
// and was counted again in doubt (the unlink by its cut name "may have
// removed" its last name): "1,500 mappings outlived their files …; 1,500
// more mappings are in doubt", where /proc showed 1,500 and nothing else. A
// finding of the mapping's process and address covers its doubt.
// Truth: the program's own /proc/self/maps lines, read after the unlink.
//
// Needs bpftrace.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { CLI, requireTool, runCli } from './support/tools.js';

/** Maps a file by a 210-byte path, unlinks it (a leak), writes its "(deleted)" maps lines to truth.txt, and waits to be ended. */
const PROGRAM = `
import mmap, os, time
work = os.path.abspath("w")
name = os.path.join(work, "f" * (210 - len(work) - 1))
with open(name, "wb") as out:
    out.write(b"\\0" * 8192)
with open(name, "r+b") as f:
    kept = mmap.mmap(f.fileno(), 8192)
os.unlink(name)
with open("truth.txt", "w") as out:
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("(deleted)"):
            out.write(line)
time.sleep(120)
`;

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

it('bpftrace, a path it cut: a leak maps-end.txt shows is a finding, and no more in doubt', () => {
  const dir = workspace('review56-cut-found');
  writeFileSync(join(dir, 'prog.py'), PROGRAM);
  const bundle = join(dir, 'bundle');
  // --duration ends the command once the maps at the end are read: it still maps the file then.
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--duration', '4', '--out', bundle, '--', PYTHON, 'prog.py'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  const truth = readFileSync(join(dir, 'truth.txt'), 'utf8').split('\n').filter(Boolean);
  expect(truth).toHaveLength(1);
  const address = `0x${truth[0]!.split('-')[0]!.replace(/^0+/, '')}`;
  // bpftrace printed the unlink's path cut.
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ unlink sys=unlink\S* ret=0 .* path=\/\S+ /);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings.map((finding) => [finding.kind, finding.address, finding.length, finding.confirmedByMaps])).toEqual([['unlinked-while-mapped', address, 8192, true]]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.startsWith('bpftrace cut paths at the length it prints'))).toEqual([]);
  expect(runCli(['analyze', bundle]).stdout.split('\n')[0]).not.toContain('in doubt');
}, 150_000);

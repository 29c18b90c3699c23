// Review 56, F6: Python's mmap.resize() of a mapping whose file was already
// unlinked (ftruncate, then mremap with MREMAP_MAYMOVE) moved the leak, and
// the report read two: the first still mapped at its old address, which
// maps-end.txt contradicted (nothing, or another file, there), and a second
// at the new one, "its last name went by a call the trace does not show",
// with 260 KiB held where /proc showed one mapping of 256 KiB. The finding
// follows its mapping (movedTo), and maps-end.txt is compared with where it
// is. Truth: the program's own /proc/self/maps line after the resize.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { CLI, requireTool, runCli } from './support/tools.js';

/** Maps 4 KiB of log.bin, unlinks it, resizes the mapping to 256 KiB, writes its "(deleted)" maps lines to truth.txt, and waits to be ended. */
const PROGRAM = `
import mmap, os, time
name = os.path.abspath("log.bin")
with open(name, "w+b") as f:
    f.truncate(4096)
    m = mmap.mmap(f.fileno(), 4096)
os.unlink(name)
m.resize(262144)
with open("truth.txt", "w") as out:
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("(deleted)"):
            out.write(line)
time.sleep(120)
`;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

it('a leaked mapping moved by mremap is one finding, and maps-end.txt finds it where it went', () => {
  const dir = workspace('review56-mremap-moved');
  writeFileSync(join(dir, 'prog.py'), PROGRAM);
  const bundle = join(dir, 'bundle');
  // --duration ends the command once the maps at the end are read: it still maps the file then.
  const run = spawnSync(process.execPath, [CLI, 'capture', '--duration', '3', '--out', bundle, '--', PYTHON, 'prog.py'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const truth = readFileSync(join(dir, 'truth.txt'), 'utf8').split('\n').filter(Boolean);
  expect(truth).toHaveLength(1);
  const [start, end] = truth[0]!
    .split(' ')[0]!
    .split('-')
    .map((hex) => Number.parseInt(hex, 16));
  expect(end! - start!).toBe(262144);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
  const leaks = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(leaks).toHaveLength(1);
  const [leak] = leaks;
  // What it held at the unlink, and where it went; the capture ended the command once it had read its maps.
  expect([leak!.length, leak!.movedTo?.address, leak!.movedTo?.length, leak!.resolution]).toEqual([4096, `0x${start!.toString(16)}`, 262144, 'process-exited']);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n')[leak!.movedTo!.at.line - 1]).toContain('mremap(');
  expect(report.summary.mappingsInDoubt).toBe(0);
  const text = runCli(['analyze', bundle]).stdout;
  expect(text.split('\n')[0]).toBe(`orphanmap: 1 mapping outlived its file in process ${leak!.pid} (4.0 KiB held when unlinked; still mapped at the end: none, 1 released when the process exited).`);
  expect(text).toContain(`moved by mremap to 0x${start!.toString(16)}-0x${end!.toString(16)} (256.0 KiB)`);
  // The ticket's mapping row too (review 58, F7).
  expect(runCli(['analyze', bundle, '--format', 'markdown']).stdout).toContain(`moved by mremap to 0x${start!.toString(16)}-0x${end!.toString(16)} (256.0 KiB)`);
  // NDJSON's last line of it says so too.
  const lines = runCli(['analyze', bundle, '--format', 'ndjson'])
    .stdout.split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Finding);
  expect(lines.filter((line) => line.id === leak!.id).at(-1)).toEqual(leak);
});

// Review 84: `capture --pid` reads maps-start.txt once the tracer has
// attached, and the process runs on meanwhile: the trace's first moments come
// before the read, and what they did is in that snapshot already (iq80's
// LevelDB on a JVM, RocksDB's db_bench). A mapping a traced mmap made then was
// seeded as made before the trace: the new table's creation just before (an
// open with O_TRUNC) read as a resize under it, a false
// remapped-without-unmap warning ("SIGBUS"). And a mapping made after the
// capture read maps-before.txt, whose file the trace shows removed and then
// unmapped in those moments, was in neither snapshot: its leak went unsaid,
// "no mapping outlived its file". The capture now says when it read
// maps-start.txt (meta.json's mapsStartRead); such a mapping is the trace's
// own, and such a removal is said, as a trace with no snapshot says it.
//
// A real program (test/scenarios/late-window.py) that acts the moment strace
// attaches; the truth is its own /proc/self/maps.
//
// Needs root and strace.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ReturnType<typeof spawn>[] = [];
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review84-start-read.test.ts must run as root (capture --pid)');
  requireTool('strace');
});
afterEach(() => killStillRunning(children));

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

it('capture --pid of a process that removes and unmaps a file, then makes one and maps it to write and to read, the moment strace attaches: no resize, and the removal said', async () => {
  const work = realpathSync(workspace('review84-start-read'));
  const program = spawn(PYTHON, [join(REPO, 'test', 'scenarios', 'late-window.py'), work], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect(Number((await lines.next()).value)).toBe(program.pid);
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, children);
  await waitFor('the program to act on the attach', () => existsSync(join(work, 'truth.json')), 30_000);
  program.stdin!.end('go\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);

  // The program's word: the mapping of seg outlived its name until the munmap; made is mapped to read, never deleted.
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; seg: string; deleted: SelfMapsDeleted[]; made: string[] };
  const made = join(work, 'made');
  expect(truth.deleted.map((mapping) => mapping.path)).toEqual([truth.seg]);
  expect(truth.made).toHaveLength(1);
  // The capture's: it read maps-start.txt after those calls (strace -ttt's clock is the epoch, as mapsStartRead's).
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { mapsStartRead: [number, number] | null };
  expect(meta.mapsStartRead).not.toBeNull();
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n');
  const timeOf = (pattern: RegExp) => {
    const line = trace.find((text) => pattern.test(text));
    expect(line, `no line of the trace matches ${pattern}`).toBeDefined();
    return Number(line!.split(/\s+/)[1]);
  };
  const writer = trace.find((text) => text.includes(`mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_SHARED, 3<${made}>, 0) = 0x`));
  expect(writer, 'no mmap of made to write').toBeDefined();
  const lastCall = timeOf(new RegExp(`munmap\\(${/ = (0x[0-9a-f]+)/.exec(writer!)![1]}, 65536\\) = 0`));
  expect(timeOf(new RegExp(`unlink\\("${escaped(truth.seg)}"\\) = 0`))).toBeLessThan(lastCall);
  expect(lastCall, 'the capture read maps-start.txt before the program acted: the moments this test is about did not happen').toBeLessThan(meta.mapsStartRead![0]);
  const start = readFileSync(join(bundle, 'maps-start.txt'), 'utf8');
  expect(start).not.toContain(truth.seg);
  expect(start.split('\n').filter((line) => line.endsWith(` ${made}`))).toHaveLength(1);

  const run = runCli(['analyze', bundle, '--format', 'json']);
  expect(run.status, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as { findings: { kind: string }[]; summary: { removedUnseen: number; mappingsInDoubt: number }; warnings: string[] };
  // No resize: made was made, then mapped to write and to read, and the first unmapped.
  expect(
    report.findings.filter((finding) => finding.kind === 'remapped-without-unmap'),
    report.warnings.join('\n'),
  ).toEqual([]);
  // seg's removal, before the read, of a file neither snapshot shows: said, and counted.
  expect(report.summary.removedUnseen, report.warnings.join('\n')).toBe(1);
  expect(report.warnings.join('\n')).toContain(`the name ${truth.seg}, of a file the trace holds no mapping of, went at `);
  expect(report.warnings.join('\n')).toContain('before the capture read its maps (maps-start.txt)');
});

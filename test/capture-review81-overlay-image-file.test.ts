// Review 81, F3: in a container (an overlayfs root), a library of the image
// (the lower layer) replaced the way dpkg does it (the new file copied beside
// it, then renamed over it) while a program has it loaded: /proc prints the
// mapping "(deleted)", yet `capture --pid` read "no mapping outlived its
// file", saying a hard link kept it. The capture's count of the file's links
// (maps-end.nlink) is the overlay's, which for a file of the lower layer stays
// what the image gives it (1): the lower layer is never written. No other name
// led to it. Such a count is not taken for a name left now: the mapping reads
// as /proc prints it.
//
// A real library (Debian's libz) loaded by Python's ctypes (ld.so maps it) from
// an overlay mounted for the test; the test replaces it outside the trace.
// Truth: the program's own /proc/self/maps, read while it lives.
//
// Needs root (mount, capture --pid) and strace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, verdictOf } from './support/tools.js';

const LIBZ = '/usr/lib/x86_64-linux-gnu/libz.so.1';
const started: ChildProcess[] = [];
const mounts: string[] = [];
afterAll(() => {
  killStillRunning(started);
  for (const mount of mounts) spawnSync('umount', [mount]);
});
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review81-overlay-image-file.test.ts must run as root (mount, capture --pid)');
  requireTool('strace');
});

// Loads the library, says "ready"; each line it reads, it answers with its maps lines of that library (not the system's); ends at EOF.
const PROGRAM = `
import ctypes, sys
ctypes.CDLL(sys.argv[1])
print("ready", flush=True)
for _ in sys.stdin:
    for line in open("/proc/self/maps"):
        if sys.argv[1] in line:
            print("maps " + line.rstrip("\\n"), flush=True)
    print("end", flush=True)
`;

it('capture --pid of a program whose library of the image a dpkg-style upgrade replaced in the container: an error, not a file kept by a hard link', async () => {
  const work = realpathSync(workspace('review81-overlay'));
  const [lower, upper, scratch, merged] = ['lower', 'upper', 'work', 'merged'].map((part) => join(work, part));
  for (const dir of [lower!, upper!, scratch!, merged!]) mkdirSync(dir);
  copyFileSync(realpathSync(LIBZ), join(lower!, 'libz.so.1'));
  const mounted = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${scratch}`, merged!], { encoding: 'utf8' });
  expect(mounted.status, `cannot mount an overlayfs: ${mounted.stderr}`).toBe(0);
  mounts.push(merged!);
  const library = join(merged!, 'libz.so.1');
  const program = spawn(PYTHON, ['-c', PROGRAM, library], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const bundle = join(work, 'bundle');
  const { captured } = await captureAttached('strace', program, bundle, started, ['--duration', '4'], 'snapshots');
  // dpkg's way, in the container's view: the new file beside the old, then renamed over it.
  copyFileSync(library, `${library}.dpkg-new`);
  renameSync(`${library}.dpkg-new`, library);
  program.stdin!.write('maps\n');
  const truth: string[] = [];
  for (let line = (await lines.next()).value as string; line !== 'end'; line = (await lines.next()).value as string) truth.push(line.slice('maps '.length));
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  program.stdin!.end();

  // The kernel's word: every mapping of the library, of a file with no name left in the container.
  expect(truth.length).toBeGreaterThan(0);
  for (const line of truth) expect(line.endsWith(`${library} (deleted)`), line).toBe(true);
  // The capture's count: the overlay's, 1, the image's count, for a file printed "(deleted)".
  const counts = readFileSync(join(bundle, 'maps-end.nlink'), 'utf8').trim().split('\n');
  expect(counts.length).toBeGreaterThan(0);
  for (const count of counts) expect(count).toMatch(/^[0-9a-f]+-[0-9a-f]+ 1 \d+ \d+ overlayfs$/);

  const { report, failOn } = verdictOf(bundle);
  const found = (report.findings as { kind: string; severity: string; pid: number; path: string }[]).filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(found.length, report.warnings.join('\n')).toBe(truth.length);
  for (const finding of found) expect([finding.severity, finding.pid, finding.path]).toEqual(['error', program.pid, library]);
  expect(failOn).toBe(3);
  expect(report.warnings.join('\n')).not.toContain('though another name kept it');
  expect(report.warnings.join('\n')).toContain('overlayfs (a container');
});

// A file opened through a symlink to it (the path's last component is the
// symlink) is not named by the symlink: unlinking or renaming the symlink
// leaves the file its name. Found on a real strace: the symlink's path was
// taken for a name of the file, and unlinking the symlink alone for the file
// going (a false unlinked-while-mapped); with the file unlinked too, the
// finding was under the symlink's path and decided at the symlink's unlink.
// A file reached through a symlinked DIRECTORY keeps its other spelling:
// unlinking it through the symlink removes the file's name.
//
// Where the trace shows the symlink made (symlink, symlinkat), it is followed:
// without -y too, and when the symlink and the file have the same base name.
//
// Each case is a real program (test/scenarios/symlink-cases.py) under real
// strace; the truth is what it read from its own /proc/self/maps after each
// unlink or rename. Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { readStrace, runEngine, trace } from './helpers.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const CLIENT = join(REPO, 'test', 'scenarios', 'symlink-cases.py');
const PAGE = 4096;

interface Step {
  call: 'unlink' | 'rename';
  paths: string[];
  deleted: { address: string; bytes: number; path: string }[];
}

interface Truth {
  pid: number;
  steps: Step[];
}

/** A mapping whose file lost its last name, as the program saw it: at which step, and the name /proc printed. */
interface Gone {
  key: string;
  path: string;
  step: Step;
}

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** The program in `mode` under strace -f -ttt with `flags` and a filter: its truth, the trace, and orphanmap's unlinked-while-mapped findings. */
function underStrace(mode: string, flags: string[], filter: string | null): { truth: Truth; trace: string; findings: Finding[] } {
  const dir = workspace(`symlink-${mode}`);
  const trace = join(dir, 'trace.txt');
  const work = join(dir, 'w', 'd');
  const args = ['-f', '-ttt', ...flags, ...(filter === null ? [] : ['-e', `trace=${filter}`]), '-o', trace, PYTHON, CLIENT, work, mode];
  const run = spawnSync('strace', args, { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  return { truth, trace, findings: report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped') };
}

const key = (pid: number, address: string, bytes: number) => `pid ${pid} ${address} ${Math.ceil(bytes / PAGE) * PAGE}`;

/** Each mapping /proc printed "(deleted)", at the first step after which it did. */
function gone(truth: Truth): Gone[] {
  const found = new Map<string, Gone>();
  for (const step of truth.steps) {
    for (const mapping of step.deleted) {
      const k = key(truth.pid, mapping.address, mapping.bytes);
      if (!found.has(k)) found.set(k, { key: k, path: mapping.path, step });
    }
  }
  return [...found.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** The line (1-based) of the trace that made the step's call. */
function lineOfStep(trace: string, step: Step): number {
  const lines = readFileSync(trace, 'utf8').split('\n');
  const quoted = step.paths.map((path) => `"${path}"`);
  const index = lines.findIndex((line) => /\b(unlink|unlinkat|rename|renameat|renameat2)\(/.test(line) && quoted.every((q) => line.includes(q)) && line.includes(' = 0'));
  expect(index, step.paths.join(' ')).toBeGreaterThanOrEqual(0);
  return index + 1;
}

function sortedFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => key(a.pid, a.address, a.length).localeCompare(key(b.pid, b.address, b.length)));
}

// strace -y/-yy prints the path the kernel resolved (its base name differs from a
// symlink's to the file); the trace shows the symlink being made (the
// recommended filter keeps symlink and symlinkat); without -y, only those
// lines tell where a path leads.
const captures: [string, string[], string | null][] = [
  ['strace -yy', ['-yy'], null],
  ['strace -yy with the recommended filter', ['-yy'], STRACE_FILTER],
  ['strace -y', ['-y'], null],
  ['strace without -y', [], null],
];

/** `mode` leaves one mapping of a file with no name, from its step `at` on: the finding is that one, under the name /proc shows, decided there. */
function oneFindingAt(mode: string, at: number, flags: string[], filter: string | null): void {
  const { truth, trace, findings } = underStrace(mode, flags, filter);
  const expected = gone(truth);
  expect(expected).toHaveLength(1);
  expect(expected[0]!.step).toBe(truth.steps[at]);
  expect(findings.map((finding) => key(finding.pid, finding.address, finding.length))).toEqual([expected[0]!.key]);
  expect(findings[0]!.path).toBe(expected[0]!.path);
  expect(findings[0]!.names).toEqual([expected[0]!.path]);
  expect(findings[0]!.unlinkedAt?.line).toBe(lineOfStep(trace, expected[0]!.step));
}

describe.each(captures)('%s: a symlink to the file is no name of it', (_, flags, filter) => {
  it('unlinking only the symlink leaves the file its name: no finding', () => {
    const { truth, findings } = underStrace('link-only', flags, filter);
    expect(truth.steps).toHaveLength(1);
    expect(gone(truth)).toEqual([]);
    expect(findings).toEqual([]);
  });

  it('unlinking the symlink and then the file: one finding, under the name /proc shows, decided at the file unlink', () => {
    oneFindingAt('link-and-file', 1, flags, filter);
  });

  it('renaming the symlink leaves the file alone; a rename over the real name takes it', () => {
    oneFindingAt('rename-over', 1, flags, filter);
  });

  it("an open of /proc/self/fd/N reaches fd N's file, not a file of that name (second review)", () => {
    oneFindingAt('proc-fd', 0, flags, filter);
  });

  it('a file renamed through a symlinked directory keeps its name where the directory really is; its unlink there takes it (final review)', () => {
    const { truth, trace, findings } = underStrace('dir-rename', flags, filter);
    const expected = gone(truth);
    expect(expected).toHaveLength(1);
    expect(expected[0]!.step).toBe(truth.steps[1]);
    expect(findings.map((finding) => `${key(finding.pid, finding.address, finding.length)} ${finding.path} line ${finding.unlinkedAt?.line}`)).toEqual([
      `${expected[0]!.key} ${expected[0]!.path} line ${lineOfStep(trace, expected[0]!.step)}`,
    ]);
  });

  it('a symlink made through a symlinked directory (after a chdir into it) leads to the file; its unlink leaves it, the file unlink takes it (second review)', () => {
    oneFindingAt('dir-chdir', 1, flags, filter);
  });

  it('a symlinked directory is another spelling: a file unlinked through it, or opened relative to a directory fd opened through it, is found', () => {
    const { truth, trace, findings } = underStrace('dir', flags, filter);
    const expected = gone(truth);
    expect(expected).toHaveLength(2);
    const found = sortedFindings(findings);
    expect(found.map((finding) => key(finding.pid, finding.address, finding.length))).toEqual(expected.map((g) => g.key));
    for (const [k, finding] of found.entries()) {
      expect(finding.unlinkedAt?.line).toBe(lineOfStep(trace, expected[k]!.step));
      // Named as the process spelled it (through the symlink), with the base name /proc shows.
      expect(finding.path.slice(finding.path.lastIndexOf('/'))).toBe(expected[k]!.path.slice(expected[k]!.path.lastIndexOf('/')));
    }
  });

  // Same base name: the annotation alone cannot tell a symlink to the file from a
  // symlinked directory (taken for one); the symlink line the trace shows can.
  it('a symlink to a file of the same base name in another directory, made in the trace: unlinking it leaves the file its name', () => {
    const { truth, findings } = underStrace('samebase', flags, filter);
    expect(truth.steps).toHaveLength(1);
    expect(gone(truth)).toEqual([]);
    expect(findings).toEqual([]);
  });
});

// Lines in the shape strace -f -ttt prints them, without -y: only the symlink lines say where a path leads.
const orphans = (text: string) =>
  runEngine(text)
    .engine.findings()
    .filter((finding) => finding.kind === 'unlinked-while-mapped')
    .map((finding) => `${finding.address} ${finding.path} line ${finding.unlinkedAt?.line}`);

const MAPPED_THROUGH_LINK = trace`
  7001 1796150310.000001 openat(AT_FDCWD, "/d/real/f", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3
  7001 1796150310.000002 close(3) = 0
  7001 1796150310.000003 symlinkat("../real/f", AT_FDCWD, "/d/a/f") = 0
  7001 1796150310.000004 openat(AT_FDCWD, "/d/a/f", O_RDWR|O_CLOEXEC) = 3
  7001 1796150310.000005 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000001000
  7001 1796150310.000006 close(3) = 0
`;

describe('symlink lines', () => {
  it('symlink and symlinkat are read: the content as given, the symlink path in its directory', () => {
    const { events, diagnostics } = readStrace(trace`
      7001 1796150310.000001 symlink("real/f.index", "/d/link.index") = 0
      7001 1796150310.000002 symlinkat("../x", 3</d/sub>, "y") = 0
      7001 1796150310.000003 symlink("t", "/d/exists") = -1 EEXIST (File exists)
    `);
    expect(diagnostics).toEqual([]);
    expect(events.map((event) => (event.kind === 'symlink' ? [event.target, event.dir, event.path] : event.kind))).toEqual([
      ['real/f.index', { fd: 'cwd' }, '/d/link.index'],
      ['../x', { fd: 3, hint: '/d/sub' }, 'y'],
    ]);
  });

  it('a symlink the trace made is followed from its own directory; unlinking it leaves the file', () => {
    expect(
      orphans(`${MAPPED_THROUGH_LINK}
7001 1796150310.000007 unlink("/d/a/f") = 0`),
    ).toEqual([]);
    expect(
      orphans(`${MAPPED_THROUGH_LINK}
7001 1796150310.000007 unlink("/d/a/f") = 0
7001 1796150310.000008 unlink("/d/real/f") = 0`),
    ).toEqual(['0x7f0000001000 /d/real/f line 8']);
  });

  it('a renamed symlink leads to the same file, and unlinking it by its new name leaves the file', () => {
    expect(
      orphans(trace`
        7001 1796150310.000001 symlink("/d/real/f", "/d/l1") = 0
        7001 1796150310.000002 rename("/d/l1", "/d/l2") = 0
        7001 1796150310.000003 openat(AT_FDCWD, "/d/l2", O_RDWR|O_CLOEXEC) = 3
        7001 1796150310.000004 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000001000
        7001 1796150310.000005 close(3) = 0
        7001 1796150310.000006 unlink("/d/l2") = 0
        7001 1796150310.000007 openat(AT_FDCWD, "/d/l1", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3
        7001 1796150310.000008 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000010000
        7001 1796150310.000009 unlink("/d/l1") = 0
      `),
    ).toEqual(['0x7f0000010000 /d/l1 line 9']);
  });

  it('a file renamed over a symlink takes its place: the path names that file, no longer the target', () => {
    expect(
      orphans(trace`
        7001 1796150310.000001 symlink("/d/real/f", "/d/l") = 0
        7001 1796150310.000002 openat(AT_FDCWD, "/d/new", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3
        7001 1796150310.000003 rename("/d/new", "/d/l") = 0
        7001 1796150310.000004 openat(AT_FDCWD, "/d/l", O_RDWR|O_CLOEXEC) = 4
        7001 1796150310.000005 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 4, 0) = 0x7f0000001000
        7001 1796150310.000006 unlink("/d/l") = 0
      `),
    ).toEqual(['0x7f0000001000 /d/l line 6']);
  });

  it('a symlink inside a renamed directory moves with it', () => {
    expect(
      orphans(trace`
        7001 1796150310.000001 symlink("../real/f", "/d/a/f") = 0
        7001 1796150310.000002 rename("/d/a", "/d/b") = 0
        7001 1796150310.000003 openat(AT_FDCWD, "/d/b/f", O_RDWR|O_CLOEXEC) = 3
        7001 1796150310.000004 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000001000
        7001 1796150310.000005 unlink("/d/b/f") = 0
        7001 1796150310.000006 unlink("/d/real/f") = 0
      `),
    ).toEqual(['0x7f0000001000 /d/real/f line 6']);
  });

  it('a chain of symlinks is followed, and a loop ends', () => {
    expect(
      orphans(trace`
        7001 1796150310.000001 symlink("l2", "/d/l1") = 0
        7001 1796150310.000002 symlink("real/f", "/d/l2") = 0
        7001 1796150310.000003 symlink("/d/loop", "/d/loop") = 0
        7001 1796150310.000004 openat(AT_FDCWD, "/d/l1", O_RDWR|O_CLOEXEC) = 3
        7001 1796150310.000005 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000001000
        7001 1796150310.000006 openat(AT_FDCWD, "/d/loop", O_RDONLY|O_PATH) = 4
        7001 1796150310.000007 unlink("/d/l1") = 0
        7001 1796150310.000008 unlink("/d/real/f") = 0
      `),
    ).toEqual(['0x7f0000001000 /d/real/f line 8']);
  });
});

// Review 91, 1: a process that kept a file's fd maps it again after another
// process (`mv`, as tdbbackup's users replace a TDB database) renamed a file
// over it. Under `strace -f` the report says the name went first, "(before it
// was mapped)", and counts the delay "after it was mapped"; under `strace
// -ff` the same finding listed the mapping first and the removal after it,
// with an earlier time and no word, and "unmapped 0.3 s later" read as after
// the removal: the views told the order by line numbers, which compare only
// within one file, and -ff writes the remover's lines to a file of its own.
//
// Review 91, 2 (and review 85, 3): that file was replaced, not deleted, and
// the report said "unlinked" and "look for code that deletes the file": the
// place of a rename over the last name says so (unlinkedAt.renamedOver), and
// so do the views and the diagnosis; an `rm` still reads as a deletion.
//
// Truth: the program's own record (the time `mv` or `rm` returned, the time
// it mapped again) and its /proc/self/maps.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const SCHEMA = JSON.parse(readFileSync(join(REPO, 'docs', 'report.schema.json'), 'utf8')) as { $id: string };
const validateReport = new Ajv2020({ strict: true, strictTypes: false, allErrors: true }).compile(SCHEMA);

// Maps DIR/seg, has `mv` rename DIR/seg.new over it (or `rm` remove it), maps it again through its fd 0.2 s later,
// holds both mappings 0.3 s, records the three times (the removal's return, the second mapping's, the unmapping's) and
// its maps lines of the deleted file, unmaps them.
const PROGRAM = `
import mmap, os, subprocess, sys, time
directory, record, how = sys.argv[1], sys.argv[2], sys.argv[3]
seg = os.path.join(directory, "seg")
for name, fill in ((seg, b"a"), (seg + ".new", b"b")):
    with open(name, "wb") as f:
        f.write(fill * 8192)
fd = os.open(seg, os.O_RDWR)
first = mmap.mmap(fd, 8192)
subprocess.run(["mv", seg + ".new", seg] if how == "mv" else ["rm", seg], check=True)
replaced = time.time()
time.sleep(0.2)
again = time.time()
second = mmap.mmap(fd, 8192)
deleted = [line for line in open("/proc/self/maps") if line.rstrip("\\n").endswith(seg + " (deleted)")]
time.sleep(0.3)
with open(record, "w") as f:
    f.write("%.6f %.6f %.6f\\n" % (replaced, again, time.time()) + "".join(deleted))
second.close()
first.close()
os.close(fd)
`;

interface At {
  file: string;
  line: number;
  seconds: number;
  renamedOver?: true;
}

interface Finding {
  id: string;
  kind: string;
  address: string;
  mappedAt: At;
  unlinkedAt: At;
  resolvedAt: At;
  delayMs: number;
}

beforeAll(() => {
  for (const tool of ['strace', 'mv', 'rm', PYTHON]) requireTool(tool);
});

/** The program run under strace with FLAGS, removing its file as HOW says: what analyze takes, and the program's record. */
function traced(name: string, flags: string[], how: 'mv' | 'rm'): { input: string; replaced: number; again: number; unmapping: number; addresses: string[] } {
  const work = workspace(name);
  const set = join(work, 'ff');
  mkdirSync(set);
  const record = join(work, 'record.txt');
  const ff = flags.includes('-ff');
  const output = ff ? join(set, 't') : join(work, 'trace.txt');
  const run = spawnSync('strace', [...flags, '-ttt', '-T', '-y', '-o', output, PYTHON, '-c', PROGRAM, join(work, 'w'), record, how], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const [times, ...deleted] = readFileSync(record, 'utf8').trim().split('\n');
  const [replaced, again, unmapping] = times!.split(' ').map(Number) as [number, number, number];
  // Both mappings read "(deleted)" once mv (or rm) returned: the one made before and the one made after.
  expect(deleted).toHaveLength(2);
  return { input: ff ? set : output, replaced, again, unmapping, addresses: deleted.map((line) => `0x${line.split('-')[0]}`).sort() };
}

/** The findings of INPUT, checked against the program's own maps lines and the report schema. */
function findingsOf(input: string, addresses: string[]): Finding[] {
  const report = JSON.parse(runCli(['analyze', input, '--format', 'json']).stdout) as { findings: Finding[] };
  expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
  const errors = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(errors.map((finding) => finding.address).sort()).toEqual(addresses);
  return errors;
}

/** The block of finding ID in a text, Markdown or Jira report (Jira escapes the kind's hyphens). */
function blockOf(out: string, id: string): string {
  const start = out.search(new RegExp(`${id} unlinked\\\\?-while`));
  expect(start, out).toBeGreaterThanOrEqual(0);
  return out.slice(start);
}

it('strace -ff: a mapping made after another process renamed a file over its name is drawn with the removal first, and its delay counted from the mapping', () => {
  const { input, replaced, again, unmapping, addresses } = traced('review91-ff-unlinked-first', ['-ff'], 'mv');
  const errors = findingsOf(input, addresses);
  const after = errors.find((finding) => finding.mappedAt.seconds >= again);
  expect(after, JSON.stringify(errors)).toBeDefined();
  // The case: the removal (by mv) and the mapping are in two files of the set, the removal the earlier.
  expect(after!.unlinkedAt.file).not.toBe(after!.mappedAt.file);
  expect(after!.unlinkedAt.seconds).toBeLessThanOrEqual(replaced);
  // The delay counts from the mapping (made at least 0.2 s after the removal, by the program's record): from its place
  // to the munmap's, which came after the program's own record of unmapping, at least the 0.3 s it held the mapping.
  expect(after!.delayMs).toBeCloseTo((after!.resolvedAt.seconds - after!.mappedAt.seconds) * 1000, 0);
  expect(after!.delayMs).toBeGreaterThanOrEqual(300);
  expect(after!.mappedAt.seconds - after!.unlinkedAt.seconds).toBeGreaterThanOrEqual(0.2);
  expect(after!.resolvedAt.seconds).toBeGreaterThanOrEqual(unmapping);

  for (const format of ['text', 'markdown', 'jira']) {
    const block = blockOf(runCli(['analyze', input, '--format', format]).stdout, after!.id);
    const unlinked = block.search(/unlinked/);
    const mapped = block.search(/mapped(?!-)/);
    expect(block, format).toMatch(/before it was mapped/);
    expect(unlinked, `${format}: the removal is said before the mapping\n${block.slice(0, 1200)}`).toBeLessThan(mapped);
    expect(block, format).toMatch(/after it was mapped/);
  }
});

it.each([
  ['mv', 'a rename over it: replaced, and said so', true],
  ['rm', 'rm: deleted, as before', false],
] as const)('strace -f, the file taken by %s', (how, _, renamed) => {
  const { input, addresses } = traced(`review91-renamed-over-${how}`, ['-f'], how);
  const errors = findingsOf(input, addresses);
  // The rename's place says so; an unlink's has no such word (absent, not false).
  expect(errors.map((finding) => finding.unlinkedAt.renamedOver)).toEqual(renamed ? [true, true] : [undefined, undefined]);
  const text = runCli(['analyze', input]).stdout;
  for (const finding of errors) {
    const row = /\n {2}unlinked {2}(.*)\n/.exec(blockOf(text, finding.id))![1]!;
    expect(row.includes('(another file renamed over it'), row).toBe(renamed);
  }
  const diagnosis = text.slice(text.indexOf('what it means:'));
  expect(diagnosis).toContain(
    renamed ? 'The file was replaced while a mapping of it was still live: another file was renamed over its name' : 'The file was deleted while a mapping of it was still live.',
  );
  expect(diagnosis.includes('Look for code that deletes the file')).toBe(!renamed);
  for (const format of ['markdown', 'jira']) expect(runCli(['analyze', input, '--format', format]).stdout.includes('another file renamed over it'), format).toBe(renamed);
});

/** PROGRAM (python3 -c, its directory the argument) under `strace -f`: the text report's "what it means". */
function diagnosisOf(name: string, program: string): string {
  const work = workspace(name);
  const trace = join(work, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-y', '-o', trace, PYTHON, '-c', program, join(work, 'w')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const text = runCli(['analyze', trace]).stdout;
  return text.slice(text.indexOf('what it means:'));
}

// Maps DIR/seg, grows it and maps it again with the old mapping live (the resize signature), then has `mv` rename
// DIR/seg.new over it, holds both 0.3 s and unmaps them.
const RESIZED = `
import mmap, os, subprocess, sys, time
seg = os.path.join(sys.argv[1], "seg")
for name in (seg, seg + ".new"):
    with open(name, "wb") as f:
        f.write(b"a" * 8192)
fd = os.open(seg, os.O_RDWR)
old = mmap.mmap(fd, 8192)
os.ftruncate(fd, 16384)
grown = mmap.mmap(fd, 16384)
subprocess.run(["mv", seg + ".new", seg], check=True)
time.sleep(0.3)
grown.close()
old.close()
`;

it('strace -f, a resize then a rename over the file: the resize story says the file was replaced, not unlinked (code review 92, 3)', () => {
  const diagnosis = diagnosisOf('review91-resize-renamed-over', RESIZED);
  expect(diagnosis).toContain('Resize signature.');
  expect(diagnosis).toMatch(/the file was replaced: another file was renamed over its name \(line \d+\) while the old mapping was still live; the old mapping was unmapped only after the rename, /);
  expect(diagnosis).not.toContain('the file was unlinked (');
});

// Maps DIR/a and DIR/b, has `rm` remove a and `mv` rename b.new over b, holds both 0.3 s.
const MIXED = `
import mmap, os, subprocess, sys, time
d = sys.argv[1]
for name in ("a", "b", "b.new"):
    with open(os.path.join(d, name), "wb") as f:
        f.write(b"a" * 8192)
held = [mmap.mmap(os.open(os.path.join(d, name), os.O_RDWR), 8192) for name in ("a", "b")]
subprocess.run(["rm", os.path.join(d, "a")], check=True)
subprocess.run(["mv", os.path.join(d, "b.new"), os.path.join(d, "b")], check=True)
time.sleep(0.3)
`;

it('strace -f, one file removed and one replaced: the diagnosis says which of them were replaced (code review 92, 4)', () => {
  const diagnosis = diagnosisOf('review91-mixed', MIXED);
  expect(diagnosis).toContain('The file was deleted while a mapping of it was still live.');
  expect(diagnosis).toContain('1 of the 2 mappings was of a file replaced rather than deleted (the unlinked row says "another file renamed over it")');
});

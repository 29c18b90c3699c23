// Review 26 (exactness), 2: under bpftrace, a file opened by its real path
// (/run/…/state.shm) and removed by another spelling of its directory, a
// symlink made long before the trace (/var/run -> /run, as an admin script
// spells it), read as clean with no warning, exit 0. bpftrace names the
// directory that really holds each file opened, but an unlink's record has
// only the name it was given, and the check for two spellings of one
// directory (the same last directory and name) was off for bpftrace traces.
// It is on now: the mapping live at that unlink is in doubt.
//
// Review 26 (attack), F3, under bpftrace: a file unlinked by a name through a
// symlink made before the trace and "..", W/d/l/../seg with W/d/l -> W/d/a/b,
// removes W/d/a/seg; the engine cannot follow that symlink, and took ".."
// from the name's text (W/d/seg, no file). Such a name that names nothing
// while a mapped file has its last component puts that mapping in doubt.
//
// Review 26 (exactness), 1: a producer sent a file's fd over a unix socket
// and closed its own; the consumer mapped the fd it received, and the
// producer unlinked the file. The trace shows neither the fd in flight nor a
// consumer's open: the engine forgot the file at the producer's close, its
// mmap (whose record names the inode) made a new nameless file, the unlink
// named nothing, and the leak read as clean. A file forgotten with its names
// is now woken by its inode.
//
// Review 27 (exactness), F2: a child forked after madvise(MADV_DONTFORK) of a
// file mapping holds no copy of it; the engine copied it, and the parent's
// munmap and unlink read as the child's leak. The mark is now followed.
//
// Real programs (test/scenarios/symlinked-dir-unlink.py, fd-passed.py, dontfork.py, hidden-link.py,
// linked-hidden-name.py) under one `orphanmap capture --backend bpftrace`, one start-up for all; the truth
// is their own /proc/self/maps after each removal.
// Needs root, bpftrace (8-25 s to attach) and /var/run -> /run.
import { linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review26-bpftrace.test.ts must run as root (bpftrace, /run)');
  requireTool('bpftrace');
  if (!lstatSync('/var/run').isSymbolicLink() || readlinkSync('/var/run').replace(/\/$/, '') !== '/run') throw new Error('this test needs /var/run to be a symlink to /run, as on Debian');
});

let work = '';
let bundle = '';

beforeAll(() => {
  work = realpathSync(workspace('review26-bpftrace'));
  mkdirSync(join(work, 'd', 'a', 'b'), { recursive: true });
  symlinkSync(join(work, 'd', 'a', 'b'), join(work, 'd', 'l'));
  bundle = join(work, 'bundle');
  const scenario = (name: string) => join(REPO, 'test', 'scenarios', name);
  // Review 31 (code review, F2): a second name, and a symlinked directory, made before the trace.
  const hidden = join(work, 'hidden');
  mkdirSync(join(hidden, 'real'), { recursive: true });
  mkdirSync(join(hidden, 'backup'));
  writeFileSync(join(hidden, 'real', 'seg'), Buffer.alloc(8192));
  linkSync(join(hidden, 'real', 'seg'), join(hidden, 'backup', 'seg'));
  symlinkSync(join(hidden, 'real'), join(hidden, 'link'));
  // Review 32 (attack), F1: a hard link made before the trace, linked again during it.
  const linked = join(work, 'linked');
  mkdirSync(linked);
  writeFileSync(join(linked, 'a'), Buffer.alloc(8192));
  linkSync(join(linked, 'a'), join(linked, 'b'));
  const all = [
    `${PYTHON} ${scenario('symlinked-dir-unlink.py')} ${work}`,
    `${PYTHON} ${scenario('fd-passed.py')} ${join(work, 'fd')}`,
    `${PYTHON} ${scenario('dontfork.py')} ${join(work, 'dontfork')}`,
    `${PYTHON} ${scenario('fd-passed.py')} ${join(work, 'fd-linked')} linked`,
    `${PYTHON} ${scenario('hidden-link.py')} ${hidden}`,
    `${PYTHON} ${scenario('linked-hidden-name.py')} ${linked}`,
  ];
  const capture = runCli(['capture', '--backend', 'bpftrace', '--out', bundle, '--', '/bin/sh', '-c', all.join(' && ')]);
  expect(capture.status, capture.stderr).toBe(0);
}, 150_000);

it('capture (bpftrace): mapped files removed through /var/run, and through a symlink and "..", are in doubt, not clean, as /proc shows them deleted', () => {
  const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  const state = `/run/orphanmap-${truth.pid}/state.shm`;
  expect(truth.deleted.map((mapping) => mapping.path).sort()).toEqual([state, join(work, 'd', 'a', 'seg')].sort());
  // The trace's two records: the open by the real path, the unlink by the other spelling.
  const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
  // (Each path followed by the capture's key.)
  expect(trace).toMatch(new RegExp(` open sys=openat ret=\\d+ .* path=${state} [0-9a-f]{16}$`, 'm'));
  expect(trace).toMatch(new RegExp(` unlink sys=unlinkat ret=0 .* path=/var${state} [0-9a-f]{16}$`, 'm'));
  expect(trace).toMatch(new RegExp(` path=${work}/d/l/\\.\\./seg [0-9a-f]{16}$`, 'm'));
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.pid === truth.pid)).toEqual([]);
  // These two (linked-hidden-name.py's, below, was a third until its close's link count made it a finding).
  expect(report.summary.mappingsInDoubt).toBe(2);
  // One warning tells the first such call, and counts the other.
  expect(report.warnings).toContainEqual(expect.stringMatching(new RegExp(`^unlink of /var${state} .* \\(and 1 more like it\\)`)));
});

it('capture (bpftrace): a file whose fd came over a unix socket, mapped and then unlinked by its sender, is the leak /proc shows', () => {
  const truth = JSON.parse(readFileSync(join(work, 'fd', 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(work, 'fd', 'snapshot.bin') }]);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  const findings = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.path.startsWith(`${join(work, 'fd')}/`));
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.length} ${f.path} ${f.resolution}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} 65536 ${join(work, 'fd', 'snapshot.bin')} unmapped`]);
  // The error fails the run, the other program's two doubts with it (3, not 2).
  expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
});

it('capture (bpftrace): a child forked after MADV_DONTFORK holds no copy of the mapping, so no leak', () => {
  const truth = JSON.parse(readFileSync(join(work, 'dontfork', 'truth.json'), 'utf8')) as { child: number; childHas: string[]; parentDeleted: SelfMapsDeleted[] };
  expect(truth).toMatchObject({ childHas: [], parentDeleted: [] });
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ madvise addr=0x[0-9a-f]+ len=65536 advice=10 ret=0$/m);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  expect(report.findings.filter((finding) => finding.path === join(work, 'dontfork', 'guest.ram'))).toEqual([]);
});

// Review 31 (code review, F1): the same with a second name the producer made and removed: a file forgotten with two
// names was kept by them and no longer woken by its inode, and the consumer's leak read as clean.
it('capture (bpftrace): the same with a second name, linked before the fd was sent and unlinked first: the leak /proc shows', () => {
  const directory = join(work, 'fd-linked');
  const truth = JSON.parse(readFileSync(join(directory, 'truth.json'), 'utf8')) as { pid: number; deleted: SelfMapsDeleted[] };
  expect(truth.deleted).toEqual([{ address: expect.any(String), bytes: 65536, path: join(directory, 'snapshot.bin') }]);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(new RegExp(` link sys=link ret=0 .* path=${directory}/snapshot\\.bin\\.2 [0-9a-f]{16}$`, 'm'));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  const findings = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.path.startsWith(`${directory}/`));
  expect(findings.map((f) => `${f.pid} ${f.address} ${f.length}`)).toEqual([`${truth.pid} ${truth.deleted[0]!.address} 65536`]);
  // Named by both its names (the report's path is the newest, the link's).
  expect(findings[0]!.names).toEqual(expect.arrayContaining([join(directory, 'snapshot.bin'), join(directory, 'snapshot.bin.2')]));
});

// Review 31 (code review, F2): the link count was weighed against the names' spellings (the symlinked directory's
// and the kernel's), not the file's links: its hidden second name went unseen, and the unlink read as the last.
it('capture (bpftrace): a file with a second name made before the trace, unlinked through a symlinked directory: no leak, as fstat says', () => {
  const hidden = join(work, 'hidden');
  const truth = JSON.parse(readFileSync(join(hidden, 'truth.json'), 'utf8')) as { pid: number; nlink: number; deleted: SelfMapsDeleted[] };
  // The program's word: a name left, though /proc prints the mapping deleted (the name it was made by went).
  expect(truth.nlink).toBe(1);
  expect(truth.deleted.map((mapping) => mapping.path)).toEqual([join(hidden, 'real', 'seg')]);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(/ mmap ret=0x[0-9a-f]+ addr=0x0 len=8192 .* nlink=2$/m);
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
  expect(report.findings.filter((finding) => finding.pid === truth.pid)).toEqual([]);
});

// Review 32 (attack), F1: the link of the name the trace did not know made a file of its own, the removals of
// both its names were tied to that one, and the mapped file's last name went unseen: clean, where /proc and
// fstat showed the leak. Which removal took the hidden name is not in a bpftrace record: in doubt, not clean,
// until the program's close of mmap's fd, which shows the file with no name left while the mapping lives:
// the leak (review 44, H1: the close's link count).
it('capture (bpftrace): a hard link made before the trace, linked again, every name removed: the leak, found at the close', () => {
  const linked = join(work, 'linked');
  const truth = JSON.parse(readFileSync(join(linked, 'truth.json'), 'utf8')) as { pid: number; nlink: number; deleted: SelfMapsDeleted[] };
  // The program's word: no name left, the mapping live.
  expect(truth.nlink).toBe(0);
  expect(truth.deleted.map((mapping) => mapping.path)).toEqual([join(linked, 'a')]);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8')).toMatch(new RegExp(` link\\.old path=${linked}/b [0-9a-f]{16}$`, 'm'));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; warnings: string[] };
  const own = report.findings.filter((finding) => finding.pid === truth.pid && finding.path.startsWith(`${linked}/`));
  expect(own.map((f) => `${f.kind} ${f.address} ${f.length} ${f.resolution}`)).toEqual([`unlinked-while-mapped ${truth.deleted[0]!.address} 8192 unmapped`]);
  expect(own[0]!.note).toMatch(/^The close at \S+trace\.txt:\d+ shows it with no name left \(link count 0\)/);
});

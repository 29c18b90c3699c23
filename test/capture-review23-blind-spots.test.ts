// Review 23 (attack), F3 and F4: a mapped file removed where no system call
// shows it read as "no mapping outlived its file", exit 0 with --fail-on:
// through io_uring (IORING_OP_UNLINKAT is the kernel's work, no unlink call),
// or after a chroot (unlink("/seg.bin") names, for the engine, a file the
// trace never saw). Neither strace nor bpftrace can show the first; the
// engine does not follow the second (nor pivot_root, setns into a mount
// namespace, mount, move_mount, umount2). The capture now traces those
// calls, and after any of them the verdict is undecided: a warning names the
// call, the headline says the trace may miss some, and --fail-on exits 2
// after the report (summary.undecided).
//
// A real python3 program (test/scenarios/blind-spots.py) under `orphanmap
// capture`, both backends, and util-linux's unshare and mount under strace
// by hand; the truth is the program's own /proc/self/maps, read after each
// removal.
//
// Needs strace, bpftrace, /usr/bin/python3 and root (chroot, bpftrace).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventBase } from '../src/parse/events.js';
import { decodeCall } from '../src/parse/strace-decode.js';
import { createInterface } from 'node:readline';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'blind-spots.py');

interface Truth {
  pid: number;
  deleted: Record<string, string[]>;
}

interface Report {
  summary: { undecided: string | null; mappingsInDoubt: number };
  findings: unknown[];
  warnings: string[];
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review23-blind-spots.test.ts must run as root (chroot, bpftrace)');
  for (const tool of ['strace', 'bpftrace', 'unshare', 'mount', PYTHON]) requireTool(tool);
});

/** `orphanmap capture --backend B -- python3 blind-spots.py WORK MODES`: the program's truth and the bundle. */
function captured(backend: 'strace' | 'bpftrace', modes: string): { truth: Truth; bundle: string } {
  const work = realpathSync(workspace(`blind-${backend}`));
  const bundle = join(work, 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', PYTHON, PROGRAM, work, modes], { encoding: 'utf8', timeout: 150_000 });
  expect(run.status, run.stderr).toBe(0);
  return { truth: JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth, bundle };
}

/** `orphanmap capture --pid` of `python3 blind-spots.py WORK MODE`, which does its first part before the attach. */
async function attached(mode: string): Promise<{ truth: Truth; bundle: string }> {
  const work = realpathSync(workspace(`blind-${mode}`));
  const program = spawn(PYTHON, [PROGRAM, work, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('ready');
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
  const captured = exited(capture);
  await waitFor('strace to attach', () => existsSync(join(bundle, 'meta.json')), 60_000);
  program.stdin!.end('go\n');
  const result = await captured;
  expect(result.code, result.stderr).toBe(0);
  return { truth: JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth, bundle };
}

/** The report as JSON, its headline, and --fail-on error's status and message. */
function verdict(input: string) {
  const json = runCli(['analyze', input, '--format', 'json']);
  expect(json.status, json.stderr).toBe(0);
  const failOn = runCli(['analyze', input, '--fail-on', 'error']);
  return { report: JSON.parse(json.stdout) as Report, headline: failOn.stdout.split('\n')[0]!, status: failOn.status, stderr: failOn.stderr };
}

/** How the headline counts `inDoubt` mappings in doubt, before what the trace may miss. */
function doubtsText(inDoubt: number): string {
  if (inDoubt === 0) return '';
  if (inDoubt === 1) return '1 mapping is in doubt (its file may have lost its last name where the trace cannot tell: see the warnings); and ';
  return `${inDoubt} mappings are in doubt (their files may have lost their last names where the trace cannot tell: see the warnings); and `;
}

/**
 * No finding, the verdict undecided for `why`, the headline saying so, and --fail-on exiting 2. The removals no system
 * call shows leave the leaked files gone from their names at the end, so each leaked mapping its process held until its
 * exit is in doubt too (mapped-gone.txt, review 50): `goneAtEnd`, the first named.
 */
function undecidedOnly(input: string, why: string, inDoubt = 0, goneAtEnd?: string): void {
  const { report, headline, status } = verdict(input);
  expect(report.findings).toEqual([]);
  expect(report.summary.undecided).toBe(why);
  expect(report.summary.mappingsInDoubt).toBe(inDoubt);
  expect(headline).toBe(`orphanmap: no mapping was seen to outlive its file, but ${doubtsText(inDoubt)}the trace may miss some: ${why} (see the warnings).`);
  const gone = report.warnings.filter((warning) => warning.includes('(mapped-gone.txt)'));
  if (goneAtEnd === undefined) expect(gone).toEqual([]);
  else expect(gone).toEqual([expect.stringMatching(new RegExp(`^process \\d+ held a mapping of [^ ]*${goneAtEnd} until it exited or exec'd`))]);
  expect(status).toBe(2);
}

/** The 1-based number of the one trace line with `text`. */
function lineWith(trace: string, text: string): number {
  const lines = readFileSync(trace, 'utf8').split('\n');
  const found = lines.flatMap((line, index) => (line.includes(text) ? [index + 1] : []));
  expect(found, text).toHaveLength(1);
  return found[0]!;
}

const URING = (pid: number, at: string) => `process ${pid} set up io_uring at ${at}, whose opens, closes, unlinks and renames are no system call the trace can show`;
const CHROOT = (pid: number, at: string) => `process ${pid} called chroot at ${at}, after which a name may mean another file than the trace takes it for`;

describe('review 23, F3 and F4: files removed where no system call shows it', () => {
  it('strace capture, io_uring: the leak /proc shows is not in the trace, and the verdict is undecided (exit 2)', () => {
    const { truth, bundle } = captured('strace', 'uring');
    expect(truth.deleted.uring).toEqual([expect.stringMatching(/ring\.bin \(deleted\)$/)]);
    const trace = join(bundle, 'trace.txt');
    const why = URING(truth.pid, `${trace}:${lineWith(trace, ' io_uring_setup(')}`);
    const { report, headline, status, stderr } = verdict(bundle);
    expect(report.findings).toEqual([]);
    expect(report.summary.undecided).toBe(why);
    expect(report.warnings).toContainEqual(expect.stringMatching(new RegExp(`^${why.replaceAll(/[.()]/g, '\\$&')}: a file removed through the ring while mapped is missed`)));
    // The ring's unlink left ring.bin gone at the end, mapped until the exit (mapped-gone.txt, review 50).
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(report.warnings).toContainEqual(expect.stringMatching(/^process \d+ held a mapping of [^ ]*\/ring\.bin until it exited or exec'd/));
    expect(headline).toBe(`orphanmap: no mapping was seen to outlive its file, but ${doubtsText(1)}the trace may miss some: ${why} (see the warnings).`);
    expect(status).toBe(2);
    expect(stderr).toBe(`orphanmap: error: ${why}, so --fail-on error cannot tell that nothing leaked\n`);
  }, 60_000);

  // Review 33 (exactness), 3: traced by hand with a filter of classes (-e trace=%file,%memory,%process,close), which
  // leaves io_uring_setup out: the leak read as clean, exit 0, though -y named the ring's fd in its mmaps.
  it("strace by hand, io_uring_setup filtered out: the ring's mmap says it, and the verdict is undecided", () => {
    const work = realpathSync(workspace('blind-uring-filtered'));
    const trace = join(work, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-tt', '-yy', '-e', 'trace=%file,%memory,%process,close', '-o', trace, PYTHON, PROGRAM, work, 'uring'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
    expect(truth.deleted.uring).toEqual([expect.stringMatching(/ring\.bin \(deleted\)$/)]);
    expect(readFileSync(trace, 'utf8')).not.toContain('io_uring_setup(');
    const ringAt =
      readFileSync(trace, 'utf8')
        .split('\n')
        .findIndex((line) => / mmap\(.*<anon_inode:\[io_uring\]>, 0\) = /.test(line)) + 1;
    expect(ringAt).toBeGreaterThan(0);
    undecidedOnly(
      trace,
      `process ${truth.pid} mapped an io_uring ring at ${trace}:${ringAt} (its io_uring_setup is not in the trace: left out by its filter?), whose opens, closes, unlinks and renames are no system call the trace can show`,
    );
  }, 60_000);

  it('strace capture, chroot: likewise', () => {
    const { truth, bundle } = captured('strace', 'chroot');
    expect(truth.deleted.chroot).toEqual([expect.stringMatching(/ \/seg\.bin \(deleted\)$/)]);
    const trace = join(bundle, 'trace.txt');
    const why = CHROOT(truth.pid, `${trace}:${lineWith(trace, ' chroot(')}`);
    undecidedOnly(bundle, why, 1, '/seg\\.bin');
  }, 60_000);

  // Review 24 (attack), F7 and F8: a bind mount that carries a propagation flag (the kernel tests MS_BIND first) was
  // taken for a change of propagation, and open_tree(OPEN_TREE_CLONE) was not traced: a detached copy of the tree,
  // which -yy names "/", needs no mount at all. Each hid a 128 MiB leak, exit 0 with --fail-on.
  it('strace capture, a bind mount with MS_PRIVATE and an open_tree clone: each named, undecided', () => {
    const { truth, bundle } = captured('strace', 'bind,tree');
    expect(truth.deleted.bind).toEqual([expect.stringMatching(/\/d\/bind\.bin \(deleted\)$/)]);
    expect(truth.deleted.tree).toHaveLength(2);
    const trace = join(bundle, 'trace.txt');
    // unshare's way first, mount("none", "/", NULL, MS_REC|MS_PRIVATE, NULL), moves no name: not counted.
    lineWith(trace, 'MS_REC|MS_PRIVATE');
    lineWith(trace, ' open_tree(');
    const why = `process ${truth.pid} called mount at ${trace}:${lineWith(trace, 'MS_BIND|MS_PRIVATE')} (and 1 more call like it), after which a name may mean another file than the trace takes it for`;
    // bind.bin and tree.bin, which the unlinks through the bind mount and the clone left at no name: one doubt a file and process.
    undecidedOnly(bundle, why, 2, '/tree\\.bin');
  }, 60_000);

  // Review 24 (attack), F1: a ring set up before `capture --pid` attached (a broker sets up its rings at start) was never
  // seen: only a traced io_uring_setup made the verdict undecided, though fds-start.txt listed the ring.
  it('strace capture --pid, a ring older than the capture: named from fds-start.txt, undecided', async () => {
    const { truth, bundle } = await attached('ring-first');
    expect(truth.deleted['ring-first']).toEqual([expect.stringMatching(/ring\.bin \(deleted\)$/)]);
    const fds = readFileSync(join(bundle, 'fds-start.txt'), 'utf8').split('\n');
    const ringLine = fds.findIndex((line) => line.endsWith('\tanon_inode:[io_uring]')) + 1;
    expect(ringLine).toBeGreaterThan(0);
    const why = `process ${truth.pid} held an io_uring ring when the capture began (${join(bundle, 'fds-start.txt')}:${ringLine}), whose opens, closes, unlinks and renames are no system call the trace can show`;
    undecidedOnly(bundle, why, 1, '/ring\\.bin');
  }, 60_000);

  // Review 25 (attack), F1: a thread with a cwd of its own (unshare(CLONE_FS), and its chdir), or a child sharing its
  // parent's (clone(CLONE_FS)): the engine keeps one cwd per process, so a relative unlink named no file, and a 128 MiB
  // leak read as clean, exit 0 with --fail-on.
  it("strace capture, a thread with a cwd of its own and a child sharing its parent's: each named, undecided", () => {
    const { truth, bundle } = captured('strace', 'fs-thread,fs-shared');
    expect(truth.deleted['fs-thread']).toEqual([expect.stringMatching(/\/fa\/thread\.bin \(deleted\)$/)]);
    expect(truth.deleted['fs-shared']).toHaveLength(2);
    expect(truth.deleted['fs-shared']).toContainEqual(expect.stringMatching(/\/sb\/shared\.bin \(deleted\)$/));
    const trace = join(bundle, 'trace.txt');
    lineWith(trace, 'flags=CLONE_FS|SIGCHLD');
    const why = `process ${truth.pid} called unshare at ${trace}:${lineWith(trace, ' unshare(CLONE_FS)')} (and 1 more call like it), after which a name may mean another file than the trace takes it for`;
    // The relative unlinks that named no file, while files of their last component were mapped, are in doubt too (review 26),
    // and the other leaked mappings, their files gone at the end, held until their processes exited (review 50): one
    // doubt a file and process.
    undecidedOnly(bundle, why, 4, '/shared\\.bin');
  }, 60_000);

  // Review 25 (attack), F2: the same ring polled by its kernel thread (SQPOLL), its fd closed before the attach: no fd
  // and no call shows it, only its mappings, which maps-start.txt lists; a 128 MiB leak read as clean, exit 0.
  it('strace capture --pid, a polled ring older than the capture, its fd closed: named from maps-start.txt, undecided', async () => {
    const { truth, bundle } = await attached('ring-closed-first');
    expect(truth.deleted['ring-closed-first']).toEqual([expect.stringMatching(/ring\.bin \(deleted\)$/)]);
    expect(readFileSync(join(bundle, 'fds-start.txt'), 'utf8')).not.toContain('io_uring');
    const maps = readFileSync(join(bundle, 'maps-start.txt'), 'utf8').split('\n');
    const ringLine = maps.findIndex((line) => line.endsWith(' anon_inode:[io_uring]')) + 1;
    expect(ringLine).toBeGreaterThan(0);
    const why = `process ${truth.pid} held an io_uring ring when the capture began (${join(bundle, 'maps-start.txt')}:${ringLine}), whose opens, closes, unlinks and renames are no system call the trace can show`;
    undecidedOnly(bundle, why, 1, '/ring\\.bin');
  }, 60_000);

  // Review 24 (attack), F2: a process already in a chroot or another mount namespace (any container's) when capture --pid
  // attached names files as it sees them, while -y and the snapshots name them as the capture does: a leak read as clean.
  it('strace capture --pid, a root of its own before the attach: meta.json says so, undecided', async () => {
    const { truth, bundle } = await attached('chroot-first');
    expect(truth.deleted['chroot-first']).toEqual([expect.stringMatching(/ \/seg\.bin \(deleted\)$/)]);
    expect((JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { sameView: boolean }).sameView).toBe(false);
    const why = `process ${truth.pid} saw another mount namespace or root than the capture when it attached (${join(bundle, 'meta.json')} (sameView: false)), so a name may mean another file than the trace takes it for`;
    undecidedOnly(bundle, why);
  }, 60_000);

  // Review 33 (attack), F6: the same process, its leader thread ended alone the moment the tracer attached (a zombie
  // leader; another thread maps and unlinks): the capture read its mount namespace and root through the leader, found
  // neither, and wrote sameView null, which read as the same view: clean, exit 0. Read through a live thread now.
  it('strace capture --pid, a root of its own and a leader thread that ends at the attach: meta.json says so, undecided', async () => {
    const { truth, bundle } = await attached('chroot-leader-gone');
    expect(truth.deleted['chroot-leader-gone']).toEqual([expect.stringMatching(/ \/seg\.bin \(deleted\)$/)]);
    // The trace's word: the leader's own exit, before the other thread's unlink.
    const trace = join(bundle, 'trace.txt');
    expect(lineWith(trace, ' exit(0)')).toBeLessThan(lineWith(trace, 'unlink("/seg.bin")'));
    expect((JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { sameView: boolean | null }).sameView).toBe(false);
    const why = `process ${truth.pid} saw another mount namespace or root than the capture when it attached (${join(bundle, 'meta.json')} (sameView: false)), so a name may mean another file than the trace takes it for`;
    undecidedOnly(bundle, why);
  }, 60_000);

  // Review 25 (attack), F9: orphanmap.bt took a mount whose flags carry the old magic MS_MGC_VAL (whose bits read as
  // MS_SLAVE|MS_PRIVATE) for a change of propagation; the kernel strips the magic first. A tmpfs mounted and moved so
  // hid a 128 MiB leak, exit 0 with --fail-on.
  it('bpftrace capture, all six: each is named, and the verdict is undecided', () => {
    const { truth, bundle } = captured('bpftrace', 'uring,bind,magic,fs-thread,tree,chroot');
    expect(truth.deleted.magic).toContainEqual(expect.stringMatching(/\/magic\.bin \(deleted\)$/));
    expect(truth.deleted.chroot).toHaveLength(6);
    const trace = join(bundle, 'trace.txt');
    lineWith(trace, ' blind sys=unshare ');
    // The change of propagation before the bind mount is no blind record; the bind mount, the two mounts with the magic,
    // the open_tree and the chroot are.
    lineWith(trace, ' blind sys=open_tree ');
    const mounts = readFileSync(trace, 'utf8')
      .split('\n')
      .flatMap((text, index) => (text.includes(' blind sys=mount ') ? [index + 1] : []));
    expect(mounts).toHaveLength(3);
    const views = `process ${truth.pid} called mount at ${trace}:${mounts[0]} (and 5 more calls like it), after which a name may mean another file than the trace takes it for`;
    const why = `${URING(truth.pid, `${trace}:${lineWith(trace, ' blind sys=io_uring_setup ')}`)}; ${views}`;
    lineWith(trace, ' blind sys=chroot ');
    const { report, status, stderr } = verdict(bundle);
    expect(report.findings).toEqual([]);
    expect(report.summary.undecided).toBe(why);
    expect(status).toBe(2);
    expect(stderr).toBe(`orphanmap: error: ${why}, so --fail-on error cannot tell that nothing leaked\n`);
  }, 180_000);

  it('strace by hand, a mount in a namespace of its own (unshare -m): named, undecided', () => {
    const work = realpathSync(workspace('blind-mount'));
    const dir = join(work, 'over');
    mkdirSync(dir);
    const trace = join(work, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-o', trace, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs none "${dir}" && umount "${dir}"`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    // unshare's own mount("none", "/", NULL, MS_REC|MS_PRIVATE, NULL) moves no name: not named.
    const mountLine = lineWith(trace, `mount("none", "${dir}", "tmpfs"`);
    const pid = Number(readFileSync(trace, 'utf8').split('\n')[mountLine - 1]!.split(' ')[0]);
    const { report, status } = verdict(trace);
    // The one more: umount2 of it.
    expect(report.summary.undecided).toBe(`process ${pid} called mount at ${trace}:${mountLine} (and 1 more call like it), after which a name may mean another file than the trace takes it for`);
    expect(status).toBe(2);
  }, 60_000);

  it('mount: a bind mount whatever its propagation flags; a remount or a change of propagation alone, not', () => {
    const base = (): EventBase => ({ place: { file: 't', line: 1 }, time: null, seconds: null, tid: 7, raw: 'raw' });
    const kind = (name: string, text: string) => {
      const event = decodeCall(name, text, 0, base());
      return event === null || typeof event === 'string' ? event : event.kind;
    };
    expect(kind('mount', '"none", "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0')).toBeNull();
    expect(kind('mount', '"/w/d", "/w/alias", NULL, MS_BIND|MS_PRIVATE, NULL) = 0')).toBe('blind-spot');
    expect(kind('mount', '"/w/d", "/w/alias", NULL, MS_BIND|MS_REC|MS_SLAVE, NULL) = 0')).toBe('blind-spot');
    expect(kind('mount', '"/w/d", "/w/alias", NULL, MS_BIND, NULL) = 0')).toBe('blind-spot');
    expect(kind('mount', 'NULL, "/w/alias", NULL, MS_REMOUNT|MS_BIND|MS_RDONLY, NULL) = 0')).toBeNull();
    expect(kind('mount', '"/w/d", "/w/e", NULL, MS_MOVE, NULL) = 0')).toBe('blind-spot');
    // The old magic in the high bits (strace names it; raw, its bits are MS_SLAVE|MS_PRIVATE's): the kernel strips it first.
    expect(kind('mount', '"/w/d", "/w/e", NULL, MS_MGC_VAL|MS_MOVE, NULL) = 0')).toBe('blind-spot');
    expect(kind('mount', '"none", "/w/m", "tmpfs", 0xc0ed0000, NULL) = 0')).toBe('blind-spot');
    expect(kind('mount', '"none", "/w/m", NULL, 0xc0ed0000|MS_REMOUNT, NULL) = 0')).toBeNull();
    expect(kind('mount', '"none", "/w/m", NULL, MS_REMOUNT|0xc0ed0000, NULL) = 0')).toBeNull();
    expect(kind('open_tree', 'AT_FDCWD</w>, "/w/t", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC) = 4</>')).toBe('blind-spot');
    expect(kind('open_tree', 'AT_FDCWD</w>, "/w/t", OPEN_TREE_CLOEXEC) = 4</w/t>')).toBeNull();
    expect(kind('fsmount', '3, FSMOUNT_CLOEXEC, 0) = 4</>')).toBe('blind-spot');
    expect(kind('fsmount', '3, 0, 0) = -1 EINVAL (Invalid argument)')).toBeNull();
  });

  it('setns: only into a mount namespace, or of any kind (nstype 0)', () => {
    const base = (): EventBase => ({ place: { file: 't', line: 1 }, time: null, seconds: null, tid: 7, raw: 'raw' });
    const kind = (text: string) => {
      const event = decodeCall('setns', text, 0, base());
      return event === null || typeof event === 'string' ? event : event.kind;
    };
    expect(kind('3</proc/9/ns/net>, CLONE_NEWNET) = 0')).toBeNull();
    expect(kind('3</proc/9/ns/mnt>, CLONE_NEWNS) = 0')).toBe('blind-spot');
    expect(kind('3</proc/9/ns/mnt>, 0) = 0')).toBe('blind-spot');
    expect(kind('3, CLONE_NEWNS) = -1 EPERM (Operation not permitted)')).toBeNull();
  });
});
